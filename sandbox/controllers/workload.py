"""What a container does once started: the program's behaviour given its image, command and environment.

`plan_instance` turns (image spec, container spec, resolved env, memory limit) into a `Plan`:
when (if ever) the process exits and how, when it starts listening, how its memory behaves,
how many of its requests fail and why, which Services it depends on, and the lines it logs.
Pure: the kubelet simulation feeds it and applies the result.
"""

from __future__ import annotations

import random
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sandbox.controllers.quantity import MI
from sandbox.images import ImageSpec, memory_need_mib

NEVER = float("inf")
# Commands that run a shell snippet rather than the image's program.
SHELL_UTILS = frozenset({"sh", "bash", "ash", "sleep", "echo", "cat", "true", "false", "env", "ls", "tail"})


@dataclass(frozen=True)
class Dependency:
    """A Service the program connects to, from a URL in an env var."""

    env: str
    service: str
    namespace: str
    port: int


@dataclass
class Plan:
    """The behaviour of one container instance (times are seconds after the start)."""

    exit_after: float = NEVER
    exit_code: int = 0
    exit_reason: str = "Completed"
    listen_after: float = NEVER
    port: int | None = None
    memory_bytes: float = 1 * MI  # settled working set
    growth_bytes_per_s: float = 0.0
    ramp_seconds: float = 5.0
    memory_limit: float = 0.0  # 0: unlimited
    cpu_millis: int = 1
    request_rate: float = 0.0
    error_rate: float = 0.0  # from the program's own configuration
    error_message: str = ""
    dependencies: tuple[Dependency, ...] = ()
    lines: list[tuple[float, str, str]] = field(default_factory=list)  # (offset, level, message)
    raw_lines: list[tuple[float, str]] = field(default_factory=list)  # pre-formatted (tracebacks)
    serves_http: bool = False

    def working_set(self, t: float) -> float:
        """Working-set bytes `t` seconds after the start."""
        ramp = min(1.0, 0.35 + 0.65 * max(t, 0.0) / max(self.ramp_seconds, 0.1))
        ws = self.memory_bytes * ramp + self.growth_bytes_per_s * max(t, 0.0)
        return min(ws, self.memory_limit) if self.memory_limit else ws


def _oom_time(plan: Plan) -> float:
    """When the working set first reaches the limit (NEVER if it does not)."""
    if not plan.memory_limit:
        return NEVER
    lim = plan.memory_limit
    unclamped = Plan(
        memory_bytes=plan.memory_bytes,
        growth_bytes_per_s=plan.growth_bytes_per_s,
        ramp_seconds=plan.ramp_seconds,
    )
    if unclamped.working_set(0) >= lim:
        return 0.5
    if plan.memory_bytes >= lim or plan.memory_bytes + plan.growth_bytes_per_s * plan.ramp_seconds >= lim:
        lo, hi = 0.0, plan.ramp_seconds
    elif plan.growth_bytes_per_s > 0:
        return plan.ramp_seconds + (lim - plan.memory_bytes) / plan.growth_bytes_per_s
    else:
        return NEVER
    for _ in range(40):  # bisection inside the ramp
        mid = (lo + hi) / 2
        if unclamped.working_set(mid) >= lim:
            hi = mid
        else:
            lo = mid
    return hi


def parse_dependency(env: str, value: str, default_port: int, namespace: str) -> Dependency | None:
    """The Service a connection URL points at (`postgres://u:p@postgres.shop:5432/db`)."""
    parts = urlsplit(value)
    host = parts.hostname or ""
    if not host:
        return None
    labels = host.split(".")
    service = labels[0]
    ns = labels[1] if len(labels) > 1 and labels[1] != "svc" else namespace
    try:
        port = parts.port or default_port
    except ValueError:
        return None
    return Dependency(env, service, ns, port)


_PY_KEYERROR = """Traceback (most recent call last):
  File "/usr/local/bin/{bin}", line 8, in <module>
    sys.exit(main())
  File "/app/app/settings.py", line 14, in load
    value = os.environ["{name}"]
            ~~~~~~~~~~^^^^^^^^^^^^^^^^
  File "<frozen os>", line 679, in __getitem__
KeyError: '{name}'"""

_PY_VALUEERROR = """Traceback (most recent call last):
  File "/usr/local/bin/{bin}", line 8, in <module>
    sys.exit(main())
  File "/app/app/settings.py", line 21, in load
    raise ValueError(message)
{error}"""

_PY_MEMORYERROR = """Traceback (most recent call last):
  File "/app/app/cache.py", line 33, in warm
    self._items = [self._load(row) for row in rows]
MemoryError"""

_PG_NO_PASSWORD = """Error: Database is uninitialized and superuser password is not specified.
       You must specify POSTGRES_PASSWORD to a non-empty value for the
       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run"."""


def _startup_lines(spec: ImageSpec, listen_at: float) -> list[tuple[float, str, str]]:
    style = spec.style
    if style == "uvicorn":
        return [
            (0.2, "INFO", "uvicorn.error: Started server process [1]"),
            (0.3, "INFO", "uvicorn.error: Waiting for application startup."),
            (listen_at * 0.7, "INFO", f"app.main: web-api {spec.tag} starting; connecting database pool"),
            (listen_at, "INFO", "uvicorn.error: Application startup complete."),
            (
                listen_at,
                "INFO",
                f"uvicorn.error: Uvicorn running on http://0.0.0.0:{spec.port} (Press CTRL+C to quit)",
            ),
        ]
    if style == "celery":
        return [
            (0.3, "INFO", f"worker {spec.tag} starting: celery@worker v5.4.0 (opalescent)"),
            (listen_at * 0.8, "INFO", "Connected to the broker"),
            (listen_at, "INFO", "celery@worker ready."),
        ]
    if style == "go-json":
        return [
            (0.05, "INFO", f"joke-service {spec.tag} starting"),
            (listen_at, "INFO", f"listening on :{spec.port}"),
        ]
    if style == "postgres":
        return [
            (0.1, "INFO", f"starting PostgreSQL {spec.tag.split('-')[0]} on x86_64-pc-linux-gnu"),
            (0.2, "INFO", f'listening on IPv4 address "0.0.0.0", port {spec.port}'),
            (listen_at, "INFO", "database system is ready to accept connections"),
        ]
    if style == "redis":
        return [
            (0.05, "INFO", "oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo"),
            (0.1, "INFO", "Server initialized"),
            (listen_at, "INFO", "Ready to accept connections tcp"),
        ]
    if style == "nginx":
        return [
            (0.1, "INFO", 'using the "epoll" event method'),
            (listen_at, "INFO", "start worker processes"),
        ]
    return []


def _crash_on_missing_env(spec: ImageSpec, name: str, binary: str) -> tuple[str, int]:
    if spec.style in ("uvicorn", "celery"):
        return _PY_KEYERROR.format(bin=binary, name=name), 1
    if spec.style == "postgres":
        return _PG_NO_PASSWORD, 1
    return f'{{"level":"fatal","msg":"missing required environment variable","var":"{name}"}}', 1


def _shell_plan(spec: ImageSpec, argv: list[str], env: Mapping[str, str]) -> Plan:
    """A shell command (`sh -c '...'`, `sleep 3600`, `echo hi`): what it prints and when it exits."""
    plan = Plan(memory_bytes=1 * MI, cpu_millis=1)
    if argv and argv[0].rsplit("/", 1)[-1] in ("sh", "bash", "ash"):
        script = argv[2] if len(argv) > 2 and argv[1] == "-c" else ""
        statements = [s.strip() for s in re.split(r";|&&|\n", script) if s.strip()]
    else:
        statements = [shlex.join(argv)] if argv else []
    t = 0.05
    for stmt in statements:
        try:
            words = shlex.split(stmt)
        except ValueError:
            words = stmt.split()
        if not words:
            continue
        cmd = words[0].rsplit("/", 1)[-1]
        if cmd in ("while", "until") or stmt in ("tail -f /dev/null",) or words[:2] == ["sleep", "infinity"]:
            return plan
        if cmd == "echo":
            text = " ".join(words[1:])
            text = re.sub(r"\$\{?(\w+)\}?", lambda m: env.get(m.group(1), ""), text)
            plan.raw_lines.append((t, text))
        elif cmd == "sleep":
            try:
                t += float(words[1].rstrip("s"))
            except (IndexError, ValueError):
                plan.raw_lines.append((t, "sleep: invalid number"))
        elif cmd == "exit":
            code = int(words[1]) if len(words) > 1 and words[1].isdigit() else 0
            plan.exit_after, plan.exit_code = t, code
            plan.exit_reason = "Completed" if code == 0 else "Error"
            return plan
        elif cmd == "false":
            plan.exit_after, plan.exit_code, plan.exit_reason = t, 1, "Error"
        elif cmd not in spec.binaries and cmd not in ("true", "cd", "export", "set", ":", "["):
            plan.raw_lines.append((t, f"sh: {cmd}: not found"))
            plan.exit_after, plan.exit_code, plan.exit_reason = t, 127, "Error"
        if plan.exit_after != NEVER and plan.exit_code:
            return plan
    plan.exit_after, plan.exit_code, plan.exit_reason = t, 0, "Completed"
    return plan


def plan_instance(
    spec: ImageSpec,
    container: Mapping,
    env: Mapping[str, str],
    memory_limit: float,
    namespace: str,
    rng: random.Random,
) -> Plan:
    """How one start of `container` (running `spec`) behaves."""
    command = list(container.get("command") or [])
    args = list(container.get("args") or [])
    argv = command + args if command else list(spec.entrypoint) + args
    binary = (argv[0] if argv else "").rsplit("/", 1)[-1]
    if command and binary not in spec.binaries and command[0] not in spec.entrypoint:
        plan = Plan(exit_after=0.05, exit_code=127, exit_reason="Error")
        plan.raw_lines.append((0.02, f'exec: "{command[0]}": executable file not found in $PATH'))
        return plan
    is_app = spec.style != "shell" and (not command or binary not in SHELL_UTILS)
    if not is_app:
        plan = _shell_plan(spec, argv, env)
        plan.memory_limit = memory_limit
        return plan
    if spec.flags:
        for arg in args:
            flag = arg.split("=", 1)[0]
            if flag.startswith("-") and flag not in spec.flags:
                plan = Plan(exit_after=0.3, exit_code=2, exit_reason="Error")
                if spec.style == "go-json":
                    text = f"flag provided but not defined: {flag}\nUsage of /{binary}:"
                else:
                    text = (
                        f"Usage: {binary} [OPTIONS]\nTry '{binary} --help' for help.\n\n"
                        f"Error: No such option: {flag}"
                    )
                plan.raw_lines.append((0.25, text))
                return plan

    jitter = 0.85 + 0.3 * rng.random()
    listen_at = spec.startup_seconds * jitter
    plan = Plan(
        listen_after=listen_at,
        port=spec.port,
        memory_bytes=memory_need_mib(spec, env) * MI * (0.97 + 0.06 * rng.random()),
        growth_bytes_per_s=spec.memory_growth_mib_per_min * MI / 60.0,
        ramp_seconds=listen_at + 20.0,
        memory_limit=memory_limit,
        cpu_millis=spec.cpu_millis,
        request_rate=spec.request_rate,
        error_rate=spec.error_rate,
        serves_http=spec.request_rate > 0,
    )
    plan.lines.extend(_startup_lines(spec, listen_at))

    deps = []
    for var in spec.env:
        value = env.get(var.name)
        if value is None or (var.required and value == ""):
            if var.required:
                text, code = _crash_on_missing_env(spec, var.name, binary)
                crash = Plan(
                    exit_after=min(1.0, listen_at * 0.5),
                    exit_code=code,
                    exit_reason="Error",
                    memory_bytes=plan.memory_bytes * 0.4,
                    memory_limit=memory_limit,
                )
                crash.lines = [ln for ln in plan.lines if ln[0] < crash.exit_after]
                crash.raw_lines.append((crash.exit_after - 0.01, text))
                return crash
            continue
        error = var.validate(value) if var.validate else None
        if error is None:
            for name, bad_value, why in spec.unsupported:
                if name == var.name and value == bad_value:
                    error = f"NotImplementedError: {why} in {spec.tag} ({name}={value})"
        if error is not None:
            if var.on_invalid == "crash":
                crash = Plan(
                    exit_after=min(1.0, listen_at * 0.5),
                    exit_code=1,
                    exit_reason="Error",
                    memory_bytes=plan.memory_bytes * 0.4,
                    memory_limit=memory_limit,
                )
                crash.raw_lines.append(
                    (crash.exit_after - 0.01, _PY_VALUEERROR.format(bin=binary, error=error))
                )
                return crash
            if var.on_invalid == "warn":
                plan.lines.append((0.4, "WARNING", f"ignoring {var.name}: {error}"))
                continue
            plan.error_rate = max(plan.error_rate, 0.85)
            plan.error_message = error
            plan.lines.append((listen_at, "ERROR", f"configuration problem: {error}"))
            continue
        if var.dependency:
            dep = parse_dependency(var.name, value, var.default_port, namespace)
            if dep is not None:
                deps.append(dep)
    plan.dependencies = tuple(deps)

    oom_at = _oom_time(plan)
    if oom_at < plan.exit_after:
        plan.exit_after, plan.exit_code, plan.exit_reason = oom_at, 137, "OOMKilled"
        plan.lines = [ln for ln in plan.lines if ln[0] < oom_at]
        if spec.style in ("uvicorn", "celery") and rng.random() < 0.5:
            plan.raw_lines.append((max(oom_at - 0.2, 0.0), _PY_MEMORYERROR))
        elif spec.style == "go-json":
            plan.raw_lines.append((max(oom_at - 0.2, 0.0), "fatal error: runtime: out of memory"))
    return plan


def dependency_error(spec_style: str, dep: Dependency, known: bool) -> str:
    """What a program logs when it cannot reach a dependency (DNS failure when the Service is unknown)."""
    host = dep.service
    if spec_style == "celery":
        if not known:
            return f"Error -2 connecting to {host}:{dep.port}. Name or service not known."
        return f"Error 111 connecting to {host}:{dep.port}. Connection refused."
    if not known:
        return f'could not translate host name "{host}" to address: Name or service not known'
    return f'connection to server at "{host}", port {dep.port} failed: Connection refused'
