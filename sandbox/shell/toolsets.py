"""Which programs a base image has, and the shells themselves as programs (`sh -c '…'`).

busybox and alpine: busybox ash and its applets (wget, nc, nslookup; no curl, no bash);
debian/ubuntu: dash as /bin/sh, bash, GNU coreutils, grep, sed, mawk (no curl, wget, nc or ps
in the slim bases); RHEL-family bases: bash as /bin/sh; distroless and scratch: nothing.
"""

from __future__ import annotations

from sandbox.shell.interp import Call, Command, Gen, Shell
from sandbox.shell.process import ExitProcess
from sandbox.shell.syntax import ShellSyntaxError
from sandbox.shell.utils import core, files, memory, net, packages, text

ALL: dict[str, Command] = {
    **core.COMMANDS,
    **files.COMMANDS,
    **text.COMMANDS,
    **net.COMMANDS,
    **memory.COMMANDS,
    **packages.COMMANDS,
}

_COMMON = set(core.COMMANDS) | set(files.COMMANDS) | set(text.COMMANDS) | {"dd", "true", "false"}
BUSYBOX = frozenset(_COMMON | {"wget", "nc", "nslookup", "ping", "httpd", "sh", "ash"})
ALPINE = frozenset(BUSYBOX | {"apk"})
GNU_SLIM = frozenset(_COMMON | {"getent", "sh", "bash", "dash", "apt-get", "apt"})
GNU_FULL = frozenset(GNU_SLIM | {"wget", "curl"})
NONE: frozenset[str] = frozenset()

BASES: dict[str, tuple[str, frozenset[str], bool]] = {
    # base -> (/bin/sh flavour, programs, GNU tools)
    "busybox": ("ash", BUSYBOX, False),
    "alpine": ("ash", ALPINE, False),
    "debian": ("dash", GNU_SLIM, True),
    "ubuntu": ("dash", GNU_SLIM, True),
    "oraclelinux": ("bash", GNU_SLIM, True),
    "centos": ("bash", GNU_SLIM, True),
    "fedora": ("bash", GNU_SLIM, True),
    "amazonlinux": ("bash", GNU_SLIM, True),
    "ubi": ("bash", GNU_SLIM, True),
    "distroless": ("", NONE, False),
    "scratch": ("", NONE, False),
    "unknown": ("dash", GNU_FULL, True),
}


def shell_command(flavour: str) -> Command:
    """The program `/bin/sh` (or `bash`): `-c script [name [args…]]`, a script file, or stdin."""

    def run(call: Call) -> Gen:
        args = list(call.argv[1:])
        options: set[str] = set()
        script = None
        while args and args[0].startswith(("-", "+")) and args[0] not in ("-", "--"):
            a = args.pop(0)
            if a in ("-o", "+o") and args:
                name = args.pop(0)
                options.add(
                    {"errexit": "e", "nounset": "u", "xtrace": "x", "pipefail": "pipefail"}.get(name, name)
                )
                continue
            if "c" in a[1:]:
                script = args.pop(0) if args else None
                if script is None:
                    call.io.error(f"{call.name}: -c: option requires an argument")
                    return 2
            options.update(ch for ch in a[1:] if ch not in "cil-")
        name = call.argv[0]
        own = "bash" if call.name == "bash" else flavour
        if script is not None:
            sh = Shell(
                call.sh.container,
                args[0] if args else name,
                own,
                dict(call.env),
                set(call.env),
                args[1:],
                options=options,
            )
        elif args:  # a script file
            fs = call.sh.container.fs
            path = call.path(args[0])
            if not fs.is_file(path):
                msg = (
                    f"{name}: {args[0]}: No such file or directory"
                    if own == "bash"
                    else f"{name}: can't open '{args[0]}': No such file or directory"
                )
                if own == "dash":
                    msg = f"{name}: 0: cannot open {args[0]}: No such file"
                call.io.error(msg)
                return 127 if own != "dash" else 2
            script = fs.read(path)
            sh = Shell(
                call.sh.container, args[0], own, dict(call.env), set(call.env), args[1:], options=options
            )
            sh.script_name = args[0]
        else:  # reads commands from stdin: a pod's stdin is empty unless `stdin: true`
            script = call.io.stdin if isinstance(call.io.stdin, str) else ""
            sh = Shell(call.sh.container, name, own, dict(call.env), set(call.env), options=options)
        sh.arith = call.sh.arith
        try:
            return (yield from sh.run_text(script, call.io, tail=call.tail))
        except ExitProcess as ex:
            return ex.code
        except ShellSyntaxError:
            raise

    return run


def programs_for(base: str, extra: frozenset[str] = frozenset()) -> tuple[str, dict[str, Command], bool]:
    """(/bin/sh flavour, installed programs, GNU tools) of an image built on `base`."""
    flavour, names, gnu = BASES.get(base, BASES["unknown"])
    commands = {n: ALL[n] for n in (names | extra) if n in ALL}
    if flavour:
        commands["sh"] = shell_command(flavour)
        if "bash" in names or "bash" in extra or flavour == "bash":
            commands["bash"] = shell_command("bash")
        if flavour == "ash":
            commands["ash"] = shell_command("ash")
        if flavour == "dash":
            commands["dash"] = shell_command("dash")
    return flavour, commands, gnu
