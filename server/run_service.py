"""The run service: incidents in, healing runs out, every trace event and action stored as it happens.

`RunService` is the `server.context.RunLauncher` the API, the watcher, the demo and the evals use.
`submit` applies one rule to every sighting, whichever path it came by (the watcher, an alert, a
manual trigger):

1. a run is active (running, or waiting for an approval or a merge) for its fingerprint or its
   workload -> the sighting folds into it: counted on the run (`folded`) and on the run's incident
   (one workload failing is one incident, whatever symptom or path reported it), with a trace note
   of what was seen (every new symptom; repeats at most every ten minutes: a storm adds no noise);
   two runs never change one workload at once, and a waiting run is not duplicated;
2. a run of its fingerprint (else of its workload, as the watcher's cooldown is) ended less than
   the cooldown ago (`incidents.cooldown_seconds`) -> the sighting attaches to that run (counted
   on the run and its incident; nothing reopens): an alert Alertmanager keeps re-sending while the
   fix rolls out opens nothing;
3. otherwise the incident is recorded (folded into its open incident, or reopened once resolved)
   and a new run is driven on a bounded worker pool.

Each trace event goes to the run store as it arrives (so SSE subscribers see it live), each action
also to the audit log, and the run record is updated with the diagnosis, decision, actions and
verification when the drive ends (completed, or waiting for an approval or a merge). A run that
heals its workload or sees it recover on its own resolves its incident. `answer` resumes a run
waiting for approval; `follow_merges` looks at the pull requests runs wait on and resumes those
whose wait is over (server/merge_follower.py).

A drive that raises marks the run failed with the error; the checkpoint before the failing node
stays, so `recover` (at start-up) can continue runs a crashed process left running.

Across replicas (docs/deploy.md, HA mode) a run is driven by the one replica that claims it in
the store (`server.ownership.RunOwnership`) before its first node; `recover` adopts only runs
without a live owner, a replica that is not the leader records incidents and opens runs but
leaves them to the leader, and an answer posted to a replica that does not own the run waits in
the store for its owner (`take_answers`). A drive whose run another replica took over stops
before acting (`OwnershipLost`) and leaves the run to its new owner.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from agent.domain import Incident, Trigger
from agent.trace import TraceEvent, TraceEventType
from graph.checkpointing import run_config
from graph.runner import HealingApp, RunResult, continue_run, pending_approval, resume_run, start_run
from graph.state import incident_diagnosis
from server.merge_follower import MergeFollower
from server.ownership import OwnershipLost, RunOwnership
from server.runstore import ACTIVE_STATUSES, NotWaitingError, RunStore, RunStoreError
from server.runstore.models import AuditEntry, NewRun, RunRecord, RunStatus

log = logging.getLogger(__name__)

OnFinished = Callable[[RunRecord, RunResult | None], None]

_OUTCOME_STATUS = {
    "healed": RunStatus.HEALED,
    "reported": RunStatus.REPORTED,
    "rejected": RunStatus.REJECTED,
    "escalated": RunStatus.ESCALATED,
    "recovered": RunStatus.RECOVERED,
}
# A run ending so resolves its incident (and the incidents folded into it): the workload is fine.
_RESOLVING = frozenset({RunStatus.HEALED, RunStatus.RECOVERED})
NOTE_EVERY = timedelta(minutes=10)  # repeats of a known symptom: at most one trace note per run this often
INTAKE = "intake"  # the trace node of notes about sightings folded into a run


def _utc_now() -> datetime:
    return datetime.now(UTC)


class RunNotWaiting(RuntimeError):
    """The run is not waiting for an approval (it never was, or it was already answered)."""


@dataclass(frozen=True)
class RunServiceOptions:
    """How runs are executed, and how long an ended run keeps the sightings of its fingerprint."""

    mode: str
    provider: str
    workers: int = 2
    cooldown_seconds: float = 300.0


def _summary(result: RunResult) -> dict[str, Any]:
    """What the run record shows of a drive's state."""
    state = result.state
    diagnosis = incident_diagnosis(state)
    verifications = state.get("verifications") or []
    return {
        "diagnosis": diagnosis.model_dump(mode="json") if diagnosis else None,
        "decision": dict(state["decision"]) if state.get("decision") else None,
        "actions": [dict(a) for a in state.get("actions") or []],
        "verification": dict(verifications[-1]) if verifications else None,
    }


def status_of(result: RunResult) -> RunStatus:
    """The run status a drive's result stands for."""
    if result.interrupted:
        return RunStatus.WAITING_MERGE if result.waits_for_merge else RunStatus.WAITING_APPROVAL
    return _OUTCOME_STATUS.get(result.outcome or "", RunStatus.FAILED)


class RunService:
    """Drives healing runs for incidents on a worker pool; see the module docstring."""

    def __init__(
        self,
        app: HealingApp,
        store: RunStore,
        options: RunServiceOptions,
        *,
        on_finished: OnFinished | None = None,
        on_event: Callable[[TraceEvent], None] | None = None,
        on_opened: Callable[[Incident, RunRecord], None] | None = None,
        ownership: RunOwnership | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        """`clock` dates sightings, cooldowns and resolutions (a sandbox passes its simulated one)."""
        self._app = app
        self.ownership = ownership or RunOwnership(store, f"local-{uuid.uuid4().hex[:12]}")
        self._leading = threading.Event()  # whether this replica starts and adopts runs
        self._leading.set()
        self._clock = clock
        self._cooldown = timedelta(seconds=max(0.0, options.cooldown_seconds))
        self._noted: dict[tuple[str, str], datetime] = {}  # (run, fingerprint) -> last note
        self._merges = MergeFollower(app, self._resume_merge)
        self._on_opened = on_opened
        self._store = store
        self._options = options
        self._on_finished = on_finished
        self._on_event = on_event
        self._pool = ThreadPoolExecutor(
            max_workers=max(1, options.workers), thread_name_prefix="paramedic-run"
        )
        self._lock = threading.Lock()
        self._submit_lock = threading.Lock()  # one check-then-open at a time: one run per workload
        self._inflight: dict[str, Future[None]] = {}
        self._idle = threading.Condition(self._lock)

    # -- RunLauncher ---------------------------------------------------------------------------

    def submit(self, incident: Incident) -> tuple[str, bool]:
        """Fold `incident` into an active run, attach it to a run in its cooldown, or record it and
        open a run for it (see the module docstring); (run id, whether the run is new)."""
        with self._submit_lock:
            return self._submit(incident)

    def fold_repeat(self, incident: Incident) -> str | None:
        """A re-detection the watcher held back (its run is active or cooling down): fold or attach
        it as `submit` would; never opens a run (the watcher offers it again after its cooldown).
        The run it went to, or None when there was none."""
        with self._submit_lock:
            return self._fold_or_attach(incident)

    def _submit(self, incident: Incident) -> tuple[str, bool]:
        folded = self._fold_or_attach(incident)
        if folded is not None:
            return folded, False
        record = self._store.record_incident(incident, seen_at=self._clock())
        run, created = self._store.open_run(
            NewRun(
                incident_id=record.id,
                fingerprint=incident.fingerprint,
                target=incident.target,
                mode=self._options.mode,
                provider=self._options.provider,
            )
        )
        if created:
            if self._on_opened is not None:
                try:
                    self._on_opened(incident, run)
                except Exception:  # a listener's bug must not stop the run
                    log.exception("on_opened listener failed for run %s", run.id)
            if self._leading.is_set():  # otherwise the leader adopts the queued run
                started = incident.model_copy(update={"id": record.id})
                self._spawn(run.id, lambda: start_run(self._app, run.id, started, self._recorder(run.id)))
        return run.id, created

    def set_leading(self, leading: bool) -> None:
        """Whether this replica starts new runs and adopts orphaned ones (the leader does)."""
        if leading:
            self._leading.set()
        else:
            self._leading.clear()

    def _fold_or_attach(self, incident: Incident) -> str | None:
        """Rules 1 and 2 of the module docstring; the run the sighting went to, or None."""
        now = self._clock()
        busy = self._store.active_run(incident.fingerprint) or self._active_on(incident)
        if busy is not None:
            # One workload, one incident: another symptom of it is noted on the run, not opened apart.
            if busy.incident_id is not None:
                incident_id = self._store.attach_sighting(busy.incident_id, now).id
            else:
                incident_id = self._store.record_incident(incident, seen_at=now).id
            self._store.fold_into_run(busy.id, now)
            self._note_fold(busy, incident, incident_id, now)
            return busy.id
        ended = self._store.attach_window_run(incident.fingerprint, now, incident.target)
        if ended is None:
            return None
        if ended.incident_id is not None:
            self._store.attach_sighting(ended.incident_id, now)
        self._store.fold_into_run(ended.id, now)
        return ended.id

    def _note_fold(self, run: RunRecord, incident: Incident, incident_id: str, now: datetime) -> None:
        """A trace note of what the sighting said: always for a symptom new to the run, else at most
        one every `NOTE_EVERY` (a storm, or a long wait on a pull request, adds no noise)."""
        with self._lock:
            known = (run.id, incident.fingerprint) in self._noted
            last = self._noted.get((run.id, ""))
            if known and last is not None and now - last < NOTE_EVERY:
                return
            self._noted[(run.id, incident.fingerprint)] = self._noted[(run.id, "")] = now
        same = incident.fingerprint == run.fingerprint
        how = "seen again" if same else f"also reported by {incident.trigger.value} as {incident.reason!r}"
        note = TraceEvent(
            run_id=run.id,
            type=TraceEventType.NOTE,
            node=INTAKE,
            summary=f"{how}; folded into this run",
            payload={
                "incident_id": incident_id,
                "fingerprint": incident.fingerprint,
                "reason": incident.reason,
                "trigger": incident.trigger.value,
                "summary": incident.summary,
                "labels": dict(incident.labels),
                "seen_at": now.isoformat(),
            },
        )
        self._recorder(run.id)(note)

    def _active_on(self, incident: Incident) -> RunRecord | None:
        """The active run on the incident's workload, whatever its fingerprint, if any."""
        target = incident.target
        page = self._store.list_runs(
            status=ACTIVE_STATUSES, namespace=target.namespace, workload=target.name, limit=50
        )
        return next((r for r in page.items if r.target == target), None)

    def answer(self, run_id: str, answer: Mapping[str, Any]) -> str:
        """Resume the run waiting for approval with `answer`; its status after the answer is queued.

        Exactly once: the store's compare-and-set (`claim_answer`) lets one answer through, on this
        replica or any other sharing the store; every other concurrent answer raises `RunNotWaiting`
        naming the status the run is in.
        """
        run = self._store.get_run(run_id)
        with self._lock:
            busy = run_id in self._inflight
        if (
            busy
            or run.status is not RunStatus.WAITING_APPROVAL
            or pending_approval(self._app, run_id) is None
        ):
            raise RunNotWaiting(f"run {run_id} is {run.status.value}, not waiting for an approval")
        try:
            self._store.claim_answer(run_id)
        except NotWaitingError as exc:
            raise RunNotWaiting(f"run {run_id} is {exc.status}, not waiting for an approval") from exc
        if not ((self._leading.is_set() or self.ownership.owns(run_id)) and self._resume(run_id, answer)):
            # The answer won, and another replica owns the run (or the leader will adopt it): the
            # answer waits in the store for that owner, who resumes the run with it.
            self.ownership.post_answer(run_id, dict(answer))
        return RunStatus.RUNNING.value

    def _resume(self, run_id: str, answer: Mapping[str, Any]) -> bool:
        """Drive the run on from its approval with `answer`, if this replica can claim it."""
        recorder = self._recorder(run_id)
        return self._spawn(run_id, lambda: resume_run(self._app, run_id, dict(answer), recorder))

    def take_answers(self) -> list[str]:
        """Resume the runs we own with the answers other replicas took for them; their ids."""
        return [run_id for run_id, answer in self.ownership.take_answers() if self._resume(run_id, answer)]

    def expire_approvals(self, now: datetime) -> list[str]:
        """Resume, as timed out, every waiting run whose approval expired before `now` (they escalate)."""
        expired: list[str] = []
        page = self._store.list_runs(status=RunStatus.WAITING_APPROVAL, limit=500)
        for run in page.items:
            request = pending_approval(self._app, run.id)
            if request is None or datetime.fromisoformat(str(request["expires_at"])) > now:
                continue
            answer = {
                "approved": False,
                "by": "paramedic",
                "timed_out": True,
                "comment": "approval timed out",
            }
            try:
                self.answer(run.id, answer)
            except RunNotWaiting:
                continue  # answered meanwhile
            expired.append(run.id)
        return expired

    def follow_merges(self) -> list[tuple[str, str]]:
        """One look at every run waiting on its pull request; (run id, how its wait ended) of those
        resumed (merged -> verification, closed -> rejected, recovered, timeout -> escalated)."""
        page = self._store.list_runs(status=RunStatus.WAITING_MERGE, limit=500)
        return self._merges.follow(run.id for run in page.items)

    def check_merge(self, run_id: str) -> str | None:
        """One look at one run waiting on its pull request now (after a human merged or closed it)."""
        return self._merges.look(run_id)

    def _resume_merge(self, run_id: str, answer: dict[str, Any]) -> bool:
        with self._lock:
            if run_id in self._inflight:
                return False
        try:
            if self._store.get_run(run_id).status is not RunStatus.WAITING_MERGE:
                return False
        except RunStoreError:
            return False
        self._spawn(run_id, lambda: resume_run(self._app, run_id, answer, self._recorder(run_id)))
        return True

    # -- lifecycle -----------------------------------------------------------------------------

    def recover(self) -> list[str]:
        """Adopt the runs nobody live owns (a crashed process or replica left them, or a replica that
        is not the leader opened them) and continue them from their checkpoints, and take one look
        at the pull requests runs wait on (a wait that ended meanwhile goes on now); their ids.

        A run waiting for an approval or a merge is only claimed: its answer resumes it here.
        """
        resumed: list[str] = []
        for run in self.ownership.orphans():
            if run.status in (RunStatus.WAITING_APPROVAL, RunStatus.WAITING_MERGE):
                self.ownership.claim(run.id)
                continue
            if self._spawn(run.id, self._continuation(run)):
                resumed.append(run.id)
        resumed += [run_id for run_id, _ in self.follow_merges()]
        return resumed

    def _continuation(self, run: RunRecord) -> Callable[[], RunResult]:
        """How to drive an adopted run: from its checkpoint, or from its incident if it never started."""
        if self._app.graph.get_state(run_config(run.id)).values or run.incident_id is None:
            return lambda: continue_run(self._app, run.id, self._recorder(run.id))
        stored = self._store.get_incident(run.incident_id)
        incident = Incident(
            id=stored.id, fingerprint=stored.fingerprint, target=stored.target,
            trigger=Trigger(stored.trigger), reason=stored.reason, summary=stored.summary,
            started_at=stored.first_seen, labels=stored.labels,
        )  # fmt: skip
        return lambda: start_run(self._app, run.id, incident, self._recorder(run.id))

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no run is being driven (True), or `timeout` seconds pass (False)."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._inflight, timeout=timeout)

    def close(self, wait: bool = True) -> None:
        """Stop taking work; with `wait`, let the drives in flight finish."""
        self._pool.shutdown(wait=wait, cancel_futures=not wait)

    # -- internals -----------------------------------------------------------------------------

    def _recorder(self, run_id: str) -> Callable[[TraceEvent], None]:
        def record(event: TraceEvent) -> None:
            stored = self._store.append_event(run_id, event)
            if event.type == TraceEventType.ACTION:
                self._audit(run_id, event)
            if self._on_event is not None:
                self._on_event(stored)

        return record

    def _audit(self, run_id: str, event: TraceEvent) -> None:
        payload = event.payload
        details = payload.get("details") or {}
        self._store.append_audit(
            run_id,
            AuditEntry(
                who=str(payload.get("who") or "paramedic"),
                what=str(payload.get("what") or payload.get("action") or "action"),
                why=str(payload.get("why") or ""),
                diff=str(payload.get("diff") or ""),
                result=str(payload.get("result") or "unknown"),
                action=str(payload.get("action") or "") or None,
                target=str(details.get("target") or "") or None,
                details=details,
                ts=event.ts,
            ),
        )

    def _window_if_ended(self, status: RunStatus) -> datetime | None:
        """The end of the cooldown window to store with a status that ends the run (in the same
        write, so a sighting never finds the run ended and its window not yet open), else None."""
        return None if status.active else self._clock() + self._cooldown

    def _ended(self, record: RunRecord) -> RunRecord:
        """Close the books of an ended run (its cooldown window was stored with its end): when it
        healed (or saw a recovery), resolve its incident and the incidents folded into it. Best
        effort: the run's own end is stored."""
        now = self._clock()
        with self._lock:
            for key in [k for k in self._noted if k[0] == record.id]:
                del self._noted[key]
        try:
            if record.attach_until is None:  # ended by a path that did not store its window
                record = self._store.open_attach_window(record.id, now + self._cooldown)
            if record.status in _RESOLVING:
                incidents = self._folded_incidents(record.id)
                if record.incident_id:
                    incidents.add(record.incident_id)
                for incident_id in sorted(incidents):
                    self._store.resolve_incident(incident_id, now)
        except RunStoreError:
            log.exception("closing the books of run %s failed", record.id)
        return record

    def _folded_incidents(self, run_id: str, page: int = 1000) -> set[str]:
        """The incidents whose sightings were folded into the run (its intake notes name them)."""
        found: set[str] = set()
        after = 0
        while True:
            batch = self._store.events(run_id, after_seq=after, limit=page)
            found |= {
                str(e.payload["incident_id"])
                for e in batch
                if e.node == INTAKE and e.payload.get("incident_id")
            }
            if len(batch) < page:
                return found
            after = batch[-1].seq or after + len(batch)

    def _spawn(self, run_id: str, drive: Callable[[], RunResult]) -> bool:
        """Claim the run and drive it on the pool; False when it is in flight or another replica owns it."""
        with self._lock:
            if run_id in self._inflight or not self.ownership.claim(run_id):
                return False
            self._store.update_run(run_id, status=RunStatus.RUNNING)
            future = self._pool.submit(self._drive, run_id, drive)
            self._inflight[run_id] = future
            return True

    def _drive(self, run_id: str, drive: Callable[[], RunResult]) -> None:
        result: RunResult | None = None
        try:
            try:
                result = drive()
                status = status_of(result)
                record = self._store.update_run(
                    run_id, status=status, **_summary(result), attach_until=self._window_if_ended(status)
                )
            except OwnershipLost:  # adopted by another replica meanwhile: it finishes the run
                log.warning("run %s was taken over by another replica; this one stops driving it", run_id)
                return
            except Exception as exc:  # a node raised: the run is failed, the checkpoint stays for recover()
                log.exception("run %s failed", run_id)
                error = f"{type(exc).__name__}: {exc}"
                record = self._store.update_run(
                    run_id,
                    status=RunStatus.FAILED,
                    error=error,
                    attach_until=self._window_if_ended(RunStatus.FAILED),
                )
            if not record.status.active:
                record = self._ended(record)
                self.ownership.release(run_id)
            if self._on_finished is not None:
                try:
                    self._on_finished(record, result)
                except Exception:  # a listener's bug must not take the worker down
                    log.exception("on_finished listener failed for run %s", run_id)
        finally:
            with self._idle:
                self._inflight.pop(run_id, None)
                self._idle.notify_all()
