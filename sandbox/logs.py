"""Container logs: per-container buffers (current and previous instance) and the programs' lines.

Each running container instance has explicit lines (start-up, crash traces), written by the
kubelet simulation when they happen, and background lines (access logs, periodic noise)
generated lazily in fixed time slots from a seeded RNG. A slot's draws depend only on the seed
and the slot number and its lines are rendered with the mode (healthy, 5xx, ...) in force at
each line's timestamp, so what `kubectl logs` shows does not depend on when it was asked.

`LogStore.read` is the log source the API server calls for `pods/{name}/log`.
"""

from __future__ import annotations

import hashlib
import random
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sandbox.store import ApiError

LogLine = tuple[float, str]
SLOT_SECONDS = 10.0
CANDIDATES_PER_SLOT = 10  # background lines are thinned from at most one per second
MAX_LINES = 5000  # per instance, like the kubelet's log rotation


@dataclass(frozen=True)
class Mode:
    """What the program is doing, for its background lines.

    `rate` is lines/second (<= 1), `error_rate` the fraction of requests that fail and `error`
    the message the failures log (e.g. a connection-refused line).
    """

    rate: float = 0.0
    error_rate: float = 0.0
    error: str = ""
    client_ip: str = "10.244.0.1"


SILENT = Mode()


def _ts(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def _iso_ms(t: float) -> str:
    return _ts(t).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(t * 1000) % 1000:03d}Z"


def _py_time(t: float) -> str:
    return _ts(t).strftime("%Y-%m-%d %H:%M:%S,") + f"{int(t * 1000) % 1000:03d}"


def _pg_time(t: float) -> str:
    return _ts(t).strftime("%Y-%m-%d %H:%M:%S.") + f"{int(t * 1000) % 1000:03d} UTC"


def _redis_time(t: float) -> str:
    return _ts(t).strftime("%d %b %Y %H:%M:%S.") + f"{int(t * 1000) % 1000:03d}"


def _nginx_time(t: float) -> str:
    return _ts(t).strftime("%d/%b/%Y:%H:%M:%S +0000")


# --- background lines per log style -----------------------------------------------------------

_PATHS = ("/api/orders", "/api/orders/1042", "/api/products", "/api/cart", "/api/orders?page=2")


def _uvicorn(t: float, mode: Mode, draws: tuple[float, float, float]) -> list[str]:
    _, u2, u3 = draws
    path = _PATHS[int(u3 * len(_PATHS))]
    port = 30000 + int(u3 * 30000)
    if u2 < mode.error_rate:
        return [
            f"{_py_time(t)} ERROR    app.api: request failed: {mode.error or 'internal error'}",
            f'{_py_time(t)} INFO     uvicorn.access: {mode.client_ip}:{port} - "GET {path} HTTP/1.1" '
            "500 Internal Server Error",
        ]
    return [f'{_py_time(t)} INFO     uvicorn.access: {mode.client_ip}:{port} - "GET {path} HTTP/1.1" 200 OK']


def _celery(t: float, mode: Mode, draws: tuple[float, float, float]) -> list[str]:
    _, u2, u3 = draws
    task = f"{int(u3 * 0xFFFFFFFF):08x}-{int(u2 * 0xFFFF):04x}-4{int(u3 * 0xFFF):03x}"
    proc = 1 + int(u3 * 4)
    if u2 < mode.error_rate:
        return [
            f"[{_py_time(t)}: ERROR/ForkPoolWorker-{proc}] Task jobs.process[{task}] raised unexpected: "
            f"{mode.error or 'RuntimeError()'}"
        ]
    took = 0.05 + u2 * 0.6
    return [
        f"[{_py_time(t)}: INFO/ForkPoolWorker-{proc}] Task jobs.process[{task}] "
        f"succeeded in {took:.3f}s: None"
    ]


def _go_json(t: float, mode: Mode, draws: tuple[float, float, float]) -> list[str]:
    _, u2, u3 = draws
    if u2 < mode.error_rate:
        err = mode.error or "joke backend returned no joke"
        return [
            f'{{"level":"error","ts":"{_iso_ms(t)}","caller":"server/handler.go:57","msg":"request failed",'
            f'"path":"/joke","status":500,"error":"{err}","duration_ms":{1 + int(u3 * 20)}}}'
        ]
    return [
        f'{{"level":"info","ts":"{_iso_ms(t)}","caller":"server/handler.go:44","msg":"served joke",'
        f'"path":"/joke","status":200,"duration_ms":{1 + int(u3 * 9)}}}'
    ]


def _postgres(t: float, mode: Mode, draws: tuple[float, float, float]) -> list[str]:
    if draws[2] < 0.9:
        return []
    return [
        f"{_pg_time(t)} [27] LOG:  checkpoint starting: time",
        f"{_pg_time(t)} [27] LOG:  checkpoint complete: wrote {3 + int(draws[1] * 40)} buffers",
    ]


def _redis(t: float, mode: Mode, draws: tuple[float, float, float]) -> list[str]:
    if draws[2] < 0.9:
        return []
    return [
        f"1:M {_redis_time(t)} * 100 changes in 300 seconds. Saving...",
        f"1:M {_redis_time(t)} * Background saving started by pid {20 + int(draws[1] * 200)}",
    ]


def _nginx(t: float, mode: Mode, draws: tuple[float, float, float]) -> list[str]:
    code = 500 if draws[1] < mode.error_rate else 200
    return [f'{mode.client_ip} - - [{_nginx_time(t)}] "GET / HTTP/1.1" {code} 615 "-" "curl/8.5.0" "-"']


_STYLES: dict[str, Callable[[float, Mode, tuple[float, float, float]], list[str]]] = {
    "uvicorn": _uvicorn,
    "celery": _celery,
    "go-json": _go_json,
    "postgres": _postgres,
    "redis": _redis,
    "nginx": _nginx,
}


def format_line(style: str, t: float, level: str, message: str) -> str:
    """One explicit line in the program's own format (start-up messages, warnings, errors)."""
    if style == "uvicorn":
        return f"{_py_time(t)} {level:<8} {message}"
    if style == "celery":
        return f"[{_py_time(t)}: {level}/MainProcess] {message}"
    if style == "go-json":
        return f'{{"level":"{level.lower()}","ts":"{_iso_ms(t)}","msg":"{message}"}}'
    if style == "postgres":
        tag = {"INFO": "LOG", "WARNING": "WARNING", "ERROR": "ERROR", "FATAL": "FATAL"}.get(level, "LOG")
        return f"{_pg_time(t)} [1] {tag}:  {message}"
    if style == "redis":
        mark = {"WARNING": "#", "ERROR": "#"}.get(level, "*")
        return f"1:M {_redis_time(t)} {mark} {message}"
    if style == "nginx":
        severity = "error" if level == "ERROR" else "notice"
        return f"{_ts(t).strftime('%Y/%m/%d %H:%M:%S')} [{severity}] 1#1: {message}"
    return message


# --- one container instance -------------------------------------------------------------------


class InstanceLog:
    """The log of one container instance (one start of one container)."""

    def __init__(self, seed: bytes, style: str, started: float) -> None:
        self._seed = seed
        self.style = style
        self.started = started
        self.finished: float | None = None
        self._out: deque[LogLine] = deque(maxlen=MAX_LINES)
        self._modes: list[tuple[float, Mode]] = [(started, SILENT)]
        self._pending: list[tuple[float, tuple[float, float, float]]] = []
        self._scheduled: list[LogLine] = []  # explicit lines stamped in the future (start-up progress)
        self._next_slot = 0
        self.quiet_until = started  # no background lines before the program listens

    def set_mode(self, t: float, mode: Mode) -> None:
        """From `t` (the current time) on, background lines follow `mode`."""
        self._release(t)
        if self._modes[-1][1] != mode:
            self._modes.append((t, mode))

    def add(self, t: float, text: str) -> None:
        """Explicit lines (may contain newlines) at time `t`; a future `t` shows once the clock gets there."""
        for line in text.splitlines() or [""]:
            self._scheduled.append((t, line))
        self._scheduled.sort(key=lambda item: item[0])

    def finish(self, t: float) -> None:
        """The instance exited at `t`: nothing it would have logged later appears."""
        self._release(t)
        self.finished = t
        self._pending.clear()
        self._scheduled.clear()

    def lines(self, now: float) -> list[LogLine]:
        """Every line up to `now` (or the exit time)."""
        self._release(now if self.finished is None else self.finished)
        return list(self._out)

    def _mode_at(self, t: float) -> Mode:
        mode = SILENT
        for start, m in self._modes:
            if start > t:
                break
            mode = m
        return mode

    def _release(self, until: float) -> None:
        if self.finished is not None:
            return
        render = _STYLES.get(self.style)
        while render and self.started + self._next_slot * SLOT_SECONDS <= until:
            self._pending.extend(self._slot(self._next_slot))
            self._next_slot += 1
        due: list[tuple[float, int, str]] = []
        while self._scheduled and self._scheduled[0][0] <= until:
            t, line = self._scheduled.pop(0)
            due.append((t, 0, line))
        keep = []
        for t, draws in self._pending:
            if t > until:
                keep.append((t, draws))
                continue
            mode = self._mode_at(t)
            if render and t >= self.quiet_until and draws[0] < mode.rate:
                due.extend((t, 1, line) for line in render(t, mode, draws))
        self._pending = keep
        due.sort(key=lambda item: (item[0], item[1]))
        self._out.extend((t, line) for t, _, line in due)

    def _slot(self, k: int) -> list[tuple[float, tuple[float, float, float]]]:
        digest = hashlib.blake2b(self._seed + k.to_bytes(8, "big"), digest_size=8).digest()
        rng = random.Random(int.from_bytes(digest, "big"))
        base = self.started + k * SLOT_SECONDS
        events = [
            (base + rng.random() * SLOT_SECONDS, (rng.random(), rng.random(), rng.random()))
            for _ in range(CANDIDATES_PER_SLOT)
        ]
        return sorted(events)


# --- every container ---------------------------------------------------------------------------


@dataclass
class _Container:
    current: InstanceLog | None = None
    previous: InstanceLog | None = None
    waiting: str = "ContainerCreating"


class LogStore:
    """Logs of every container the kubelet simulation runs; the API server's log source."""

    def __init__(self, clock: Callable[[], float], seed: int = 0) -> None:
        self._clock = clock
        self._seed = seed
        self._pods: dict[tuple[str, str], dict[str, _Container]] = {}
        self._init: dict[tuple[str, str], list[str]] = {}  # init container names per pod
        self._lock = threading.Lock()

    def register_pod(
        self, namespace: str, pod: str, containers: list[str], init_containers: list[str] | None = None
    ) -> None:
        """Declare a pod's containers (before any of them started)."""
        with self._lock:
            entry = self._pods.setdefault((namespace, pod), {})
            for name in [*containers, *(init_containers or [])]:
                entry.setdefault(name, _Container())
            if init_containers:
                self._init[(namespace, pod)] = list(init_containers)

    def set_waiting(self, namespace: str, pod: str, container: str, reason: str) -> None:
        """Record why a container has not (re)started, for the "waiting to start" error."""
        with self._lock:
            self._pods.setdefault((namespace, pod), {}).setdefault(container, _Container()).waiting = reason

    def start(
        self, namespace: str, pod: str, container: str, instance: int, style: str, t: float
    ) -> InstanceLog:
        """A new instance started: the current one (if any) becomes `previous`."""
        seed = hashlib.blake2b(f"{self._seed}/{namespace}/{pod}/{container}/{instance}".encode()).digest()
        log = InstanceLog(seed, style, t)
        with self._lock:
            entry = self._pods.setdefault((namespace, pod), {}).setdefault(container, _Container())
            if entry.current is not None:
                entry.previous = entry.current
            entry.current = log
            entry.waiting = ""
        return log

    def current(self, namespace: str, pod: str, container: str) -> InstanceLog | None:
        """The running (or last exited) instance's log."""
        with self._lock:
            entry = self._pods.get((namespace, pod), {}).get(container)
            return entry.current if entry else None

    def forget_pod(self, namespace: str, pod: str) -> None:
        """Drop a deleted pod's logs."""
        with self._lock:
            self._pods.pop((namespace, pod), None)
            self._init.pop((namespace, pod), None)

    def read(
        self, namespace: str, pod: str, container: str | None = None, previous: bool = False
    ) -> list[tuple[datetime, str]]:
        """Lines of a container, oldest first; ApiError 400 worded like kube-apiserver when there are none."""
        with self._lock:
            containers = self._pods.get((namespace, pod))
            if containers is None:
                # What kube-apiserver answers for a pod no kubelet has taken yet.
                raise ApiError(400, "BadRequest", f"pod {pod} does not have a host assigned")
            if not container:
                init = self._init.get((namespace, pod), [])
                apps = [name for name in containers if name not in init]
                if len(apps) != 1:
                    choices = " ".join(apps)
                    message = f"a container name must be specified for pod {pod}, choose one of: [{choices}]"
                    if init:
                        message += f" or one of the init containers: [{' '.join(init)}]"
                    raise ApiError(400, "BadRequest", message)
                container = apps[0]
            entry = containers.get(container)
            if entry is None:
                raise ApiError(400, "BadRequest", f"container {container} is not valid for pod {pod}")
            log = entry.previous if previous else entry.current
            if log is None:
                if previous:
                    raise ApiError(
                        400,
                        "BadRequest",
                        f'previous terminated container "{container}" in pod "{pod}" not found',
                    )
                raise ApiError(
                    400,
                    "BadRequest",
                    f'container "{container}" in pod "{pod}" is waiting to start: '
                    f"{entry.waiting or 'ContainerCreating'}",
                )
            lines = log.lines(self._clock())
        return [(_ts(t), text) for t, text in lines]
