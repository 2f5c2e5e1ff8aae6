"""Starting a container's program: the kubelet's one call into image behaviour.

`launch` turns (image spec, pod, container, resolved env, memory limit) into a `ProgramPlan` — a
`Plan` whose process runs over simulated time: `advance(now)` returns the log lines written since
the last call and settles exit code and reason (Completed, Error, OOMKilled, StartError), the
ports listened on and the memory curve; `probe` answers the kubelet's exec/HTTP/TCP probes from
what the program really does; `listener` serves other pods' connections. Images of the sandbox's
own applications keep their static plans (`launch` returns None) unless the container runs a shell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sandbox.controllers.quantity import MI
from sandbox.controllers.workload import NEVER, SHELL_UTILS, Plan
from sandbox.images import ImageSpec
from sandbox.profiles import profile
from sandbox.profiles.model import tools_of
from sandbox.profiles.mounts import build_fs, environment, run_as_user
from sandbox.shell.interp import Container, Shell
from sandbox.shell.net import http_exchange
from sandbox.shell.process import INF, Listener, Process
from sandbox.shell.streams import IO, Capture, LogWriter
from sandbox.shell.syntax import ShellSyntaxError
from sandbox.shell.toolsets import programs_for
from sandbox.shell.utils.core import with_deadline
from sandbox.store import Obj, Store

_VAR = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


class _Everything:
    def __contains__(self, item: object) -> bool:
        return True


def expand_kubelet(value: str, env: dict[str, str]) -> str:
    """`$(VAR)` in command/args as the kubelet expands it (`$$` escapes; unknown names stay)."""
    return _VAR.sub(lambda m: "$" if m.group(0) == "$$" else env.get(m.group(1), m.group(0)), value)


@dataclass
class ProgramPlan(Plan):
    """A plan driven by a running process instead of fixed times."""

    process: Process = field(default_factory=lambda: Process(0.0))
    container: Container | None = None
    started: float = 0.0
    exit_message: str = ""
    wake_after: float = NEVER
    argv: list[str] = field(default_factory=list)

    def advance(self, now: float) -> list[tuple[float, str]]:
        """Run the program up to `now`; the log lines it wrote meanwhile."""
        self.process.advance(now)
        out = self.process.take_output()
        if self.process.exit is not None and self.exit_after == NEVER:
            t, code, reason = self.process.exit
            self.exit_after, self.exit_code, self.exit_reason = t - self.started, code, reason
        if self.process.listeners and self.port is None:
            port = min(self.process.listeners)
            self.port = port
            self.listen_after = self.process.listen_since.get(port, now) - self.started
        wake = self.process.next_wake()
        self.wake_after = wake - self.started if wake < INF else NEVER
        return out

    def working_set(self, t: float) -> float:
        """Working-set bytes `t` seconds after the start."""
        return self.process.working_set(self.started + t)

    def listener(self, port: int) -> Listener | None:
        """What listens on `port` in this container now."""
        return self.process.listeners.get(port) if self.process.exit is None else None

    def probe(self, spec: Obj, t: float, ip: str, port_of: Any) -> str | None:
        """None when the probe passes, else the kubelet's failure text."""
        if "exec" in spec:
            return self._exec_probe(list((spec["exec"] or {}).get("command") or []), spec, t)
        kind = "httpGet" if "httpGet" in spec else "tcpSocket" if "tcpSocket" in spec else "grpc"
        if kind not in spec:
            return None
        port = port_of(spec[kind].get("port"))
        listener = self.container.net.connect(ip, port).listener if self.container and port else None
        if kind == "tcpSocket":
            return None if listener else f"dial tcp {ip}:{port}: connect: connection refused"
        if kind == "grpc":
            return None if listener else f'timeout: failed to connect service "{ip}:{port}" within 1s'
        h = spec["httpGet"]
        path = h.get("path") or "/"
        scheme = (h.get("scheme") or "HTTP").lower()
        url = f"{scheme}://{ip}:{port}{path}"
        if listener is None:
            return f'Get "{url}": dial tcp {ip}:{port}: connect: connection refused'
        reply = http_exchange(listener, scheme, "GET", path)
        if reply == "plain":
            return f'Get "{url}": http: server gave HTTP response to HTTPS client'
        if isinstance(reply, str):
            return f'Get "{url}": EOF'
        status = reply[0]
        return None if 200 <= status < 400 else f"HTTP probe failed with statuscode: {status}"

    def _exec_probe(self, argv: list[str], spec: Obj, t: float) -> str | None:
        c = self.container
        if c is None or not argv:
            return None
        name = argv[0].rsplit("/", 1)[-1]
        if name not in c.commands and not c.fs.is_file(argv[0]):
            return (
                "OCI runtime exec failed: exec failed: unable to start container process: "
                f'exec: "{argv[0]}": executable file not found in $PATH: unknown'
            )
        timeout = float(spec.get("timeoutSeconds") or 1)
        proc = Process(started=t, memory_limit=0.0)
        probe_c = Container(
            proc,
            c.fs,
            c.net,
            c.commands,
            c.flavour,
            c.gnu,
            c.hostname,
            c.image,
            c.spec,
            c.unknown_image,
            c.user,
            c.read_only_root,
            c.image_modules,
        )
        out = Capture()
        sh = Shell(probe_c, "sh", c.flavour, dict(self.env), set(self.env))
        result: list[int | None] = []

        def run() -> Any:
            status = yield from with_deadline(
                sh.invoke(argv, IO("", out, out), self.env), timeout, lambda: proc.t
            )
            result.append(status)
            return status or 0

        proc.spawn(run())
        proc.advance(t + timeout + 0.001)
        if not result or result[0] is None:
            return f"command {' '.join(argv)!r} timed out".replace("'", '"')
        return None if result[0] == 0 else out.text().rstrip("\n")

    env: dict[str, str] = field(default_factory=dict)


def launch(
    image: ImageSpec,
    pod: Obj,
    container: Obj,
    env: dict[str, str],
    memory_limit: float,
    started: float,
    store: Store,
    network: Any,
) -> ProgramPlan | None:
    """The running program of a container, or None to keep the sandbox app's static plan."""
    command = [str(a) for a in container.get("command") or []]
    args = [str(a) for a in container.get("args") or []]
    prof = profile(image.profile) if image.profile else None
    if prof is None:
        binary = (command or list(image.entrypoint) or [""])[0].rsplit("/", 1)[-1]
        if not command or binary not in SHELL_UTILS or binary not in image.binaries:
            return None
    full_env = environment(store, pod, env, prof.env if prof else ())
    # Docker semantics: `command` replaces the ENTRYPOINT (and drops the CMD), `args` the CMD.
    argv = command + args if command else list(image.entrypoint) + (args or list(image.cmd))
    argv = [expand_kubelet(a, full_env) for a in argv]
    base = image.base or "debian"
    flavour, commands, gnu = programs_for(
        base, tools_of(prof, image.variant) if prof else frozenset(image.binaries)
    )
    if prof is not None:
        commands.update(prof.programs)
    else:  # a sandbox app's own binaries called from a shell: they run, serving the declared ports
        for binary in image.binaries - set(commands):
            commands[binary] = profile("service").programs["server"]
    files = dict(prof.files) if prof else {}
    for path in (*(image.entrypoint[:1]), *(image.cmd[:1])):
        if path.startswith("/"):
            files.setdefault(path, "#!/bin/sh\n")
    fs, memory_mounts, read_only = build_fs(store, pod, container, files, base, network.pod_ip)
    fs.memory_mounts = memory_mounts  # type: ignore[attr-defined]
    proc = Process(started=started, memory_limit=memory_limit, baseline=image.memory_mib * MI)
    unknown = image.profile == "unknown"
    c = Container(
        proc,
        fs,
        network,
        commands,
        flavour or "dash",
        gnu,
        pod["metadata"]["name"],
        image,
        container,
        unknown,
        run_as_user(pod, container),
        read_only,
        _Everything() if unknown else frozenset(),
    )
    plan = ProgramPlan(
        memory_bytes=image.memory_mib * MI,
        memory_limit=memory_limit,
        cpu_millis=image.cpu_millis,
        process=proc,
        container=c,
        started=started,
        argv=argv,
        env=full_env,
    )
    if unknown and not argv:  # its ENTRYPOINT/CMD are not known: it runs "its program"
        argv = ["/entrypoint"]
    name = argv[0].rsplit("/", 1)[-1] if argv else ""
    runnable = bool(argv) and (name in commands or fs.is_file(argv[0]) or unknown)
    if not runnable:
        what = f'exec: "{argv[0]}": executable file not found in $PATH' if argv else "no command specified"
        plan.exit_after, plan.exit_code, plan.exit_reason = 0.05, 128, "StartError"
        plan.exit_message = (
            "failed to create containerd task: failed to create shim task: OCI runtime create failed: "
            f"runc create failed: unable to start container process: {what}: unknown"
        )
        return plan
    if unknown and name not in commands:
        if "/" in argv[0]:
            fs.put(argv[0], "")
        commands[name] = profile("service").programs["server"]
    sh = Shell(c, "sh", flavour or "dash", dict(full_env), set(full_env))
    io = IO("", LogWriter(proc), LogWriter(proc, "stderr"))
    proc.spawn(_main(sh, argv, io, full_env))
    return plan


def _main(sh: Shell, argv: list[str], io: IO, env: dict[str, str]) -> Any:
    """The container's PID 1; a script in a construct the interpreter lacks runs opaquely."""
    try:
        return (yield from sh.invoke(argv, io, env, tail=True))
    except ShellSyntaxError:
        return (yield from profile("service").programs["server"](_call(sh, argv, io, env)))


def _call(sh: Shell, argv: list[str], io: IO, env: dict[str, str]) -> Any:
    from sandbox.shell.interp import Call

    return Call(sh, argv, io, env, True)


def static_responder(spec: ImageSpec) -> Any:
    """How a sandbox app with a static plan answers HTTP: its health path and served paths."""

    def respond(method: str, path: str) -> tuple[int, str]:
        return (200, "OK") if spec.serves(path.split("?", 1)[0]) else (404, "")

    return respond
