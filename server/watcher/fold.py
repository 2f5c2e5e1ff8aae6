"""Storm folding: many failing pods of one workload become one incident and at most one active run.

The `Folder` sits between the watch threads (which `offer` incidents and must never block) and
the dispatcher (which `take`s them and hands them to the run machinery):

- one pending incident per workload: a repeat of its fingerprint is folded into it (counted), a
  different fingerprint of the same workload is merged into it (its reason noted in the labels);
- one active run per workload: offers while it runs are folded into it;
- a cooldown per workload after its run ends: offers are refused until it expires, and the
  caller is told when to look again;
- repeats: an offer folded into an active run, or refused by a cooldown, is kept (the latest per
  fingerprint, bounded) for the dispatcher to hand on (`take_repeats`), so the run it belongs to
  counts the re-detection; the run service decides what it attaches to, by the same rule it
  applies to alerts (server/run_service.py);
- a bounded queue: when it is full, an offer for a new workload is dropped (counted, with a time
  to look again) rather than blocking the watch thread that made it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from agent.domain import Incident, WorkloadRef

OCCURRENCES_LABEL = "paramedic.dev/occurrences"
ALSO_SEEN_LABEL = "paramedic.dev/also-seen"


class Outcome(StrEnum):
    """What became of an offered incident."""

    QUEUED = "queued"  # a new pending incident
    FOLDED = "folded"  # same fingerprint as a pending incident or the active run
    MERGED = "merged"  # another reason for a workload with a pending incident or an active run
    COOLDOWN = "cooldown"  # the workload's cooldown has not expired
    DROPPED = "dropped"  # the queue is full


@dataclass(frozen=True)
class Offer:
    """The outcome and, when the incident was refused, when it is worth offering again."""

    outcome: Outcome
    retry_at: datetime | None = None


@dataclass
class FoldStats:
    """Counters, ready to be exported as metrics."""

    offered: int = 0
    queued: int = 0
    folded: int = 0
    merged: int = 0
    cooldown: int = 0
    dropped: int = 0
    dispatched: int = 0


@dataclass
class _Pending:
    incident: Incident
    occurrences: int = 1
    also_seen: list[str] = field(default_factory=list)

    def finished(self) -> Incident:
        labels = dict(self.incident.labels)
        labels[OCCURRENCES_LABEL] = str(self.occurrences)
        if self.also_seen:
            labels[ALSO_SEEN_LABEL] = ",".join(self.also_seen)
        return self.incident.model_copy(update={"labels": labels})


@dataclass(frozen=True)
class Finished:
    """A run that ended: its workload and when the workload's cooldown expires."""

    target: WorkloadRef
    cooldown_until: datetime


class Folder:
    """Thread-safe folding queue with per-workload cooldown; time comes from the injected `clock`."""

    def __init__(
        self,
        clock: Callable[[], datetime],
        capacity: int = 64,
        cooldown_seconds: float = 300.0,
        retry_seconds: float = 5.0,
    ) -> None:
        if capacity < 1 or cooldown_seconds < 0 or retry_seconds <= 0:
            raise ValueError("capacity must be >= 1, cooldown >= 0 and retry > 0")
        self._clock = clock
        self._capacity = capacity
        self._cooldown = timedelta(seconds=cooldown_seconds)
        self._retry = timedelta(seconds=retry_seconds)
        self._pending: OrderedDict[WorkloadRef, _Pending] = OrderedDict()
        self._active: dict[WorkloadRef, str] = {}  # workload -> fingerprint of its run
        self._active_by_fingerprint: dict[str, WorkloadRef] = {}
        self._cooling: dict[WorkloadRef, datetime] = {}
        self._repeats: OrderedDict[str, Incident] = OrderedDict()  # fingerprint -> latest re-detection
        self._stats = FoldStats()
        self._cond = threading.Condition()
        self._closed = False

    def offer(self, incident: Incident) -> Offer:
        """Queue, fold or refuse an incident; never blocks."""
        target = incident.target
        with self._cond:
            self._stats.offered += 1
            pending = self._pending.get(target)
            if pending is not None:
                pending.occurrences += 1
                if incident.fingerprint == pending.incident.fingerprint:
                    self._stats.folded += 1
                    return Offer(Outcome.FOLDED)
                if incident.reason not in pending.also_seen and incident.reason != pending.incident.reason:
                    pending.also_seen.append(incident.reason)
                self._stats.merged += 1
                return Offer(Outcome.MERGED)
            running = self._active.get(target)
            if running is not None:
                same = running == incident.fingerprint
                self._stats.folded += same
                self._stats.merged += not same
                self._repeat(incident)
                return Offer(Outcome.FOLDED if same else Outcome.MERGED)
            now = self._clock()
            until = self._cooling.get(target)
            if until is not None:
                if now < until:
                    self._stats.cooldown += 1
                    self._repeat(incident)
                    return Offer(Outcome.COOLDOWN, retry_at=until)
                del self._cooling[target]
            if len(self._pending) >= self._capacity:
                self._stats.dropped += 1
                return Offer(Outcome.DROPPED, retry_at=now + self._retry)
            self._pending[target] = _Pending(incident)
            self._stats.queued += 1
            self._cond.notify()
            return Offer(Outcome.QUEUED)

    def _repeat(self, incident: Incident) -> None:
        """Keep the latest re-detection of a fingerprint for the dispatcher (the lock is held)."""
        self._repeats.pop(incident.fingerprint, None)
        self._repeats[incident.fingerprint] = incident
        while len(self._repeats) > self._capacity:
            self._repeats.popitem(last=False)
        self._cond.notify()

    def take_repeats(self) -> list[Incident]:
        """The re-detections kept since the last call (one per fingerprint, oldest first)."""
        with self._cond:
            repeats = list(self._repeats.values())
            self._repeats.clear()
            return repeats

    def take(self, timeout: float | None = None) -> Incident | None:
        """The oldest pending incident, now marked as the workload's active run; None on timeout/close
        (or when only repeats are waiting: the dispatcher takes those with `take_repeats`)."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._pending or self._repeats or self._closed, timeout):
                return None
            if not self._pending:
                return None
            target, pending = self._pending.popitem(last=False)
            incident = pending.finished()
            self._active[target] = incident.fingerprint
            self._active_by_fingerprint[incident.fingerprint] = target
            self._stats.dispatched += 1
            return incident

    def run_finished(self, fingerprint: str, until: datetime | None = None) -> Finished | None:
        """End the active run of this fingerprint and start its workload's cooldown (None if unknown).

        The cooldown lasts `until` when given: the window the shared store keeps for a run another
        replica ended (a new leader honours what is left of it, not a fresh full cooldown)."""
        with self._cond:
            target = self._active_by_fingerprint.pop(fingerprint, None)
            if target is None:
                return None
            self._active.pop(target, None)
            now = self._clock()
            for expired in [t for t, end in self._cooling.items() if end <= now]:
                del self._cooling[expired]
            until = now + self._cooldown if until is None else until
            self._cooling[target] = until
            return Finished(target, until)

    def restore(
        self,
        active: Iterable[tuple[str, WorkloadRef]],
        cooling: Iterable[tuple[WorkloadRef, datetime]],
    ) -> None:
        """Start from the shared store's view (a new leader after a failover): runs already active
        (fingerprint, workload), and workloads cooling down until a time, as if this folder had
        dispatched and finished them itself."""
        with self._cond:
            for fingerprint_, target in active:
                self._active[target] = fingerprint_
                self._active_by_fingerprint[fingerprint_] = target
            for target, until in cooling:
                if target not in self._active:
                    self._cooling[target] = max(until, self._cooling.get(target, until))

    def is_active(self, fingerprint: str) -> bool:
        """Whether a run for this fingerprint is in progress."""
        with self._cond:
            return fingerprint in self._active_by_fingerprint

    def close(self) -> None:
        """Wake any `take` so the dispatcher can stop."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def stats(self) -> FoldStats:
        """A snapshot of the counters."""
        with self._cond:
            return FoldStats(**vars(self._stats))

    def __len__(self) -> int:
        with self._cond:
            return len(self._pending)
