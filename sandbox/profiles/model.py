"""Image behaviour profiles: what an image's programs do when a container runs it.

A `Profile` names the image's ENTRYPOINT and CMD (Docker semantics: a pod's `command` replaces
the entrypoint and drops the CMD, `args` replace the CMD), the programs it adds to its base
distro's tools, its files and environment, its idle working set and the port its main program
serves (for the catalogue and the probes). Programs are `sandbox.shell` commands: generators
over simulated time that log, listen, allocate memory and exit with their own codes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml

from sandbox.shell.interp import Call, Command, Gen
from sandbox.shell.process import INF, Listener, Sleep

MI = float(1 << 20)


@dataclass(frozen=True)
class Profile:
    """How one family of images behaves."""

    name: str
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    programs: Mapping[str, Command] = field(default_factory=dict)
    tools: frozenset[str] = frozenset()  # standard utilities beyond the base's (curl, wget …)
    full_tools: frozenset[str] = frozenset()  # only in the full (not -slim, not -alpine) variants
    env: tuple[tuple[str, str], ...] = ()  # the image's ENV
    files: Mapping[str, str] = field(default_factory=dict)
    memory_mib: float = 2.0  # idle working set of the main program
    port: int | None = None  # the main program's port (probes, the catalogue)
    health_path: str | None = None
    style: str = "shell"  # log style of the sandbox's log renderer
    size_bytes: int = 50_000_000
    startup_seconds: float = 0.5
    required_env: tuple[str, ...] = ()  # env vars without which the entrypoint refuses to start
    base: str | None = None  # overrides the repository's base distro (scratch images)


PROFILES: dict[str, Profile] = {}
_FACTS = resources.files("sandbox") / "data" / "profiles.yaml"
# libyaml's loader: the shipped file parses in 4 ms instead of 40 ms at every sandbox start.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def facts() -> dict[str, dict[str, Any]]:
    """Every profile's facts from `sandbox/data/profiles.yaml` (name -> Profile fields but programs)."""
    table = yaml.load(_FACTS.read_text(encoding="utf-8"), Loader=_LOADER)
    if not isinstance(table, dict):
        raise ValueError(f"{_FACTS}: expected a mapping of profile name -> facts")
    return {str(name): dict(row or {}) for name, row in table.items()}


def _profile(name: str, programs: Mapping[str, Command], overrides: Mapping[str, Any]) -> Profile:
    row: dict[str, Any] = {**facts()[name], **overrides}
    for key in ("tools", "full_tools"):
        row[key] = frozenset(row.get(key, ()))
    for key in ("entrypoint", "cmd", "required_env"):
        row[key] = tuple(row.get(key, ()))
    for key in ("memory_mib", "startup_seconds"):
        if key in row:
            row[key] = float(row[key])
    row["env"] = tuple((str(k), str(v)) for k, v in (row.get("env") or {}).items())
    try:
        return Profile(name, programs=programs, **row)
    except TypeError as err:
        raise ValueError(f"profile {name!r} in {_FACTS}: {err}") from None


def tools_of(profile: Profile, variant: str) -> frozenset[str]:
    """The extra utilities an image of `profile` in `variant` has (slim and alpine lack the full set)."""
    slim = any(word in variant for word in ("slim", "alpine"))
    return profile.tools if slim else profile.tools | profile.full_tools


def register(name: str, programs: Mapping[str, Command] | None = None, **overrides: Any) -> None:
    """Register profile `name`: its facts from the table, the `programs` it adds (each module of this
    package registers its own) and any computed fields (`overrides`)."""
    PROFILES[name] = _profile(name, programs or {}, overrides)


def register_facts() -> None:
    """Register every profile of the table that is not registered yet (those that add no programs)."""
    for name in facts():
        if name not in PROFILES:
            register(name)


def http_responder(paths: Mapping[str, int] | None = None, body: str = "", default: int = 404) -> Callable:
    """A `respond(method, path)` serving fixed paths (None: every path answers 200)."""

    def respond(method: str, path: str) -> tuple[int, str]:
        clean = path.split("?", 1)[0]
        if paths is None:
            return 200, body
        code = paths.get(clean, default)
        return code, body if code < 400 else ""

    return respond


def serve(
    call: Call,
    listeners: list[Listener],
    before: list[str] = (),  # type: ignore[assignment]
    after: list[str] = (),  # type: ignore[assignment]
    startup: float = 0.5,
    memory_mib: float = 0.0,
    stream: str = "out",
) -> Gen:
    """A daemon: log `before`, allocate, start up, listen, log `after`, then run until killed."""
    io = call.io
    write = io.print if stream == "out" else io.error
    for line in before:
        write(line)
    proc = call.sh.container.proc
    if memory_mib:
        proc.allocate(memory_mib * MI)
    yield Sleep(startup)
    for listener in listeners:
        if not proc.listen(listener):
            io.error(f"bind: address already in use (port {listener.port})")
            return 1
    for line in after:
        write(line)
    yield Sleep(INF)
    return 0


def http_app(
    port: int,
    paths: dict[str, int] | None = None,
    body: str = "OK\n",
    startup: float = 0.3,
    lines: tuple[str, ...] = (),
) -> Command:
    """A small HTTP server program on `port` (flags like --listen=:N / -port N move it)."""

    def run(call: Call) -> Gen:
        args = " ".join(call.argv[1:])
        chosen = port
        for flag in ("--listen=:", "-listen=:", "--port=", "--port ", "-port=", "-port ", "--http-port="):
            if flag in args:
                tail = args.split(flag, 1)[1].split()[0]
                chosen = int(tail) if tail.isdigit() else chosen
        text = body
        if "-text=" in args:
            text = args.split("-text=", 1)[1].split(" -")[0].strip("\"'") + "\n"
        listener = Listener(chosen, "http", http_responder(paths, text))
        return (yield from serve(call, [listener], before=list(lines), startup=startup))

    return run


def entrypoint_script(main: str, prepare: Callable[[Call], Gen] | None = None) -> Command:
    """A docker-entrypoint.sh: `-flags` go to `main`; `main …` runs after `prepare`; anything else runs."""

    def run(call: Call) -> Gen:
        args = call.argv[1:]
        if not args:
            args = [main]
        if args[0].startswith("-"):
            args = [main, *args]
        if args[0] == main and prepare is not None:
            status = yield from prepare(call)
            if status:
                return status
        return (yield from call.sh.invoke(args, call.io, call.env, tail=True))

    return run


def timestamp(t: float, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """A log timestamp for simulated time `t` (UTC)."""
    from datetime import UTC, datetime

    return datetime.fromtimestamp(t, UTC).strftime(fmt)
