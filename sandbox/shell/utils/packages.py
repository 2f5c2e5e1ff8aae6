"""Package managers: apk, apt-get / apt, pip, npm. Installing really adds the programs a package
provides to the container (so `apk add curl && curl …` works); Debian-based images ship without
package lists, so `apt-get install` before `apt-get update` cannot find the package, as for real."""

from __future__ import annotations

from sandbox.shell.interp import Call, Command, Gen
from sandbox.shell.process import Sleep

# package -> the commands it provides (those the sandbox implements; others run as no-ops)
PROVIDES: dict[str, tuple[str, ...]] = {
    "curl": ("curl",),
    "wget": ("wget",),
    "bash": ("bash",),
    "netcat-openbsd": ("nc",),
    "netcat-traditional": ("nc",),
    "netcat": ("nc",),
    "busybox-extras": ("nc", "telnet"),
    "bind-tools": ("nslookup", "dig"),
    "dnsutils": ("nslookup", "dig"),
    "iputils": ("ping",),
    "iputils-ping": ("ping",),
    "stress": ("stress",),
    "stress-ng": ("stress-ng",),
    "coreutils": (),
    "postgresql-client": ("psql", "pg_isready"),
    "redis": ("redis-cli",),
    "redis-tools": ("redis-cli",),
}
_LISTS = "/var/lib/apt/lists/lock"


def _install(call: Call, names: list[str]) -> None:
    from sandbox.profiles.clients import pg_isready, psql, redis_cli
    from sandbox.shell.toolsets import ALL, shell_command

    extra = {"psql": psql, "pg_isready": pg_isready, "redis-cli": redis_cli, "bash": shell_command("bash")}
    commands = call.sh.container.commands
    for name in names:
        provided = PROVIDES.get(name.split("=")[0], (name.split("=")[0],))
        for cmd in provided:
            impl = extra.get(cmd) or ALL.get(cmd)
            commands.setdefault(cmd, impl or _installed)


def _installed(call: Call) -> Gen:
    """A program from an installed package the sandbox does not model: it runs and succeeds."""
    yield Sleep(0.1)
    return 0


def _apk(call: Call) -> Gen:
    args = call.words
    if not args:
        call.io.print("usage: apk [<OPTIONS>...] COMMAND [<ARGUMENTS>...]")
        return 1
    verb, names = args[0], args[1:]
    if verb == "update":
        yield Sleep(1.0)
        call.io.print("OK: 24000 distinct packages available")
        return 0
    if verb in ("add", "install"):
        yield Sleep(1.0 + 0.5 * len(names))
        for name in names:
            call.io.print(f"(1/1) Installing {name}")
        _install(call, names)
        call.io.print("OK: 12 MiB in 20 packages")
        return 0
    return 0


def _apt(call: Call) -> Gen:
    args = call.words
    fs = call.sh.container.fs
    if not args:
        return 1
    verb, names = args[0], args[1:]
    if verb == "update":
        yield Sleep(2.0)
        call.io.print("Get:1 http://deb.debian.org/debian bookworm InRelease [151 kB]")
        call.io.print("Reading package lists...")
        fs.mkdir("/var/lib/apt/lists")
        fs.write(_LISTS, "")
        return 0
    if verb == "install":
        yield Sleep(0.5)
        call.io.print("Reading package lists...")
        call.io.print("Building dependency tree...")
        if not fs.is_file(_LISTS):
            call.io.error(f"E: Unable to locate package {names[0]}" if names else "E: no packages")
            return 100
        yield Sleep(2.0 + len(names))
        _install(call, names)
        return 0
    return 0


def _pip(call: Call) -> Gen:
    args = call.argv[1:]
    if args[:1] == ["install"]:
        names = [a.split("==")[0].split(">=")[0] for a in args[1:] if not a.startswith("-")]
        yield Sleep(2.0 + len(names))
        modules = call.sh.container.image_modules
        if isinstance(modules, frozenset):
            call.sh.container.image_modules = modules | {n.replace("-", "_").lower() for n in names}
        call.io.print("Successfully installed " + " ".join(names))
        return 0
    return 0


COMMANDS: dict[str, Command] = {"apk": _apk, "apt-get": _apt, "apt": _apt, "pip": _pip, "pip3": _pip}
