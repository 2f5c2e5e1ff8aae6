"""A container's processes over simulated time: jobs, sleeps, memory, output and listening sockets.

Programs are generators that yield effects: `Sleep` (time passes, optionally allocating memory
at a rate) and `Wait` (for background jobs). `Process.advance(until)` runs every job up to the
simulated time `until` and stops — the kubelet calls it again later — so a long-running loop is
a running process, not a computation. Memory beyond the limit kills the whole container at the
moment it is crossed (`OOMKilled`, exit 137), as the cgroup OOM killer does.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field

INF = float("inf")
MAX_STEPS = 20_000  # resumptions per advance before a busy loop is throttled
BASELINE_OOM_AFTER = 0.3  # a program whose own start-up needs more than the limit dies this soon
STEP_COST = 0.001  # simulated seconds a command takes when it does not sleep


@dataclass(frozen=True)
class Sleep:
    """Time passes for the job; `grow` bytes per second are allocated meanwhile."""

    seconds: float
    grow: float = 0.0


@dataclass(frozen=True)
class Wait:
    """Block until these jobs have finished."""

    jobs: tuple[Job, ...]


Effect = Sleep | Wait
Program = Generator[Effect, None, int]


class ExitProcess(Exception):
    """`exit N` (or a fatal shell error) unwinding the shell that runs it."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class OutOfMemory(Exception):
    """An allocation crossed the memory limit."""


@dataclass
class Listener:
    """A socket a program listens on; `respond(method, path)` -> (HTTP status, body) for HTTP ones."""

    port: int
    protocol: str = "http"  # http | tcp
    respond: Callable[[str, str], tuple[int, str]] | None = None
    banner: str = ""  # what a raw TCP client reads first
    accepted: int = 0  # connections taken so far (`nc -l` exits after its first)


@dataclass(eq=False)
class Job:
    """One running program (the main one, or a background `&` job)."""

    gen: Program
    wake_at: float
    number: int
    status: int | None = None
    waiting: tuple[Job, ...] = ()
    growing: float = 0.0


@dataclass
class Process:
    """Every job of one container instance and what they did."""

    started: float
    memory_limit: float = 0.0  # bytes; 0: no limit
    baseline: float = 1 << 20  # the working set before the programs allocate anything
    t: float = 0.0
    jobs: list[Job] = field(default_factory=list)
    output: list[tuple[float, str]] = field(default_factory=list)  # lines not yet taken
    listeners: dict[int, Listener] = field(default_factory=dict)
    listen_since: dict[int, float] = field(default_factory=dict)
    exit: tuple[float, int, str] | None = None  # (time, code, reason)
    _partial: dict[str, str] = field(default_factory=dict)
    _mem: float = 0.0  # allocated at _mem_t
    _mem_t: float = 0.0
    _rate: float = 0.0
    _curve: list[tuple[float, float, float]] = field(default_factory=list)  # (t, allocated, rate)

    def __post_init__(self) -> None:
        self.t = self._mem_t = self.started
        self._curve.append((self.started, 0.0, 0.0))

    # --- jobs ------------------------------------------------------------------------------

    def spawn(self, gen: Program) -> Job:
        """Start a job now (the first one spawned is the main program)."""
        job = Job(gen, self.t, len(self.jobs))
        self.jobs.append(job)
        return job

    def advance(self, until: float) -> None:
        """Run every job up to simulated time `until` (or the process's end)."""
        starved = self.exit is None and self.memory_limit and self.baseline >= self.memory_limit
        if starved:  # it runs while its memory grows during start-up, then the OOM killer ends it
            oom_at = self.started + BASELINE_OOM_AFTER
            self.advance_jobs(min(until, oom_at))
            if until >= oom_at and self.exit is None:
                self.kill(oom_at, 137, "OOMKilled")
            return
        self.advance_jobs(until)

    def advance_jobs(self, until: float) -> None:
        """Run the jobs up to `until` (memory limits checked for what they allocate)."""
        steps = 0
        while self.exit is None:
            runnable = [j for j in self.jobs if j.status is None and not j.waiting]
            job = min(runnable, key=lambda j: (j.wake_at, j.number), default=None)
            horizon = min(job.wake_at if job else INF, until)
            if self._oom_before(horizon):
                return
            if job is None or job.wake_at > until:
                self._settle(max(self.t, until))
                return
            steps += 1
            if steps > MAX_STEPS:  # a loop that never sleeps: skip ahead rather than spin
                for j in runnable:
                    j.wake_at = max(j.wake_at, until + STEP_COST)
                continue
            self._settle(max(self.t, job.wake_at))
            self._resume(job)

    def _resume(self, job: Job) -> None:
        if job.growing:
            self._rate -= job.growing
            job.growing = 0.0
            self._mark()
        try:
            effect = job.gen.send(None)
        except StopIteration as stop:
            self._finish(job, int(stop.value or 0))
            return
        except ExitProcess as ex:
            self._finish(job, ex.code)
            return
        except OutOfMemory:
            self.kill(self.t, 137, "OOMKilled")
            return
        if isinstance(effect, Wait):
            pending = tuple(j for j in effect.jobs if j.status is None)
            job.waiting = pending
            job.wake_at = self.t
            return
        job.wake_at = self.t + max(effect.seconds, 0.0)
        if effect.grow > 0 and effect.seconds > 0:
            job.growing = effect.grow
            self._rate += effect.grow
            self._mark()

    def _finish(self, job: Job, code: int) -> None:
        job.status = code
        for other in self.jobs:
            if job in other.waiting:
                other.waiting = tuple(j for j in other.waiting if j.status is None)
                other.wake_at = self.t
        if job.number == 0:
            self.kill(self.t, code, "Completed" if code == 0 else "Error")

    def kill(self, t: float, code: int, reason: str) -> None:
        """End every job at `t`: the container exits with `code`."""
        self._settle(t)
        self.flush()
        for j in self.jobs:
            if j.status is None:
                j.status = code
                j.gen.close()
        self.exit = (t, code, reason)
        self.listeners.clear()

    def next_wake(self) -> float:
        """When a job next has something to do (INF: every job sleeps forever or the process ended)."""
        if self.exit is not None:
            return INF
        runnable = [j.wake_at for j in self.jobs if j.status is None and not j.waiting]
        oom = INF
        if self.memory_limit and self.baseline >= self.memory_limit:
            oom = self.started + BASELINE_OOM_AFTER
        elif self.memory_limit and self._rate > 0:
            oom = self._mem_t + max(self.memory_limit - self.baseline - self._mem, 0.0) / self._rate
        return min([*runnable, oom])

    # --- memory ----------------------------------------------------------------------------

    def _settle(self, t: float) -> None:
        self._mem += self._rate * max(0.0, t - self._mem_t)
        self._mem_t = self.t = t

    def _mark(self) -> None:
        self._curve.append((self.t, self._mem, self._rate))
        del self._curve[:-64]

    def _oom_before(self, horizon: float) -> bool:
        if not self.memory_limit or self._rate <= 0:
            return False
        room = self.memory_limit - self.baseline - self._mem
        t_oom = self._mem_t + max(room, 0.0) / self._rate
        if t_oom <= horizon:
            self.kill(t_oom, 137, "OOMKilled")
            return True
        return False

    def allocate(self, nbytes: float) -> None:
        """Allocate (or, negative, free) memory now; OutOfMemory past the limit."""
        self._settle(self.t)
        self._mem = max(0.0, self._mem + nbytes)
        self._mark()
        if self.memory_limit and self.baseline + self._mem >= self.memory_limit:
            raise OutOfMemory

    def working_set(self, t: float) -> float:
        """Bytes in use at `t` (baseline plus what the programs allocated)."""
        point = next((p for p in reversed(self._curve) if p[0] <= t), self._curve[0])
        ws = self.baseline + point[1] + point[2] * max(0.0, t - point[0])
        return min(ws, self.memory_limit) if self.memory_limit else ws

    # --- output and sockets -----------------------------------------------------------------

    def write(self, text: str, stream: str = "stdout") -> None:
        """Program output: complete lines go to the container log at the current time."""
        buf = self._partial.get(stream, "") + text
        *lines, rest = buf.split("\n")
        self.output.extend((self.t, line) for line in lines)
        self._partial[stream] = rest

    def flush(self) -> None:
        """Unterminated output is logged when the program exits."""
        for rest in self._partial.values():
            if rest:
                self.output.append((self.t, rest))
        self._partial.clear()

    def take_output(self) -> list[tuple[float, str]]:
        """Lines written since the last call."""
        out, self.output = self.output, []
        return out

    def listen(self, listener: Listener) -> bool:
        """Bind a port; False when it is already taken (EADDRINUSE)."""
        if listener.port in self.listeners:
            return False
        self.listeners[listener.port] = listener
        self.listen_since.setdefault(listener.port, self.t)
        return True
