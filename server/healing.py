"""The healing stack: the watcher feeding the run service, over one cluster, one store, one graph.

This is what `paramedic serve`, `paramedic demo` and the eval harness run: the watcher's
incidents go to `RunService.submit`, and the re-detections it holds back (their run is active,
waiting, or cooling down) to `RunService.fold_repeat`, so they count on that run; when a run ends,
the watcher is told (so the fingerprint can fire again after its cooldown). The watcher's cooldown
and the one after which an alert opens a new run are the same setting
(`incidents.cooldown_seconds`). A sweeper thread escalates approvals nobody answered in time and
looks at the pull requests runs wait on (every `git.merge_poll_seconds`). Time is injectable: a
sandbox passes its simulated clock and its `advance` as `sleep`, so verification, cooldowns and
merge deadlines run in simulated time.

With `ha.enabled` the replicas of one store elect a leader (`server.leadership`): only the leader
watches the cluster, starts runs, adopts runs whose owner is gone and sweeps approvals and merges;
every replica keeps its own runs' claims alive and takes the answers other replicas received for
them (the keeper thread, every `ha.heartbeat_seconds`). Without it this process is the only one:
it leads from the start. A watcher that starts (a new leader's, or a restarted process's) begins
from the shared store: workloads with an active run fold into it, and those whose run ended less
than the cooldown ago cool down until that run's window ends.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from agent.config import Settings
from agent.domain import Incident
from agent.trace import TraceEvent
from graph.breaker import BreakerStore, target_key
from graph.builder import compile_graph
from graph.checkpointing import open_checkpointer
from graph.context import HealingContext, VerifyConfig, utc_now
from graph.context_factory import build_context
from graph.runner import HealingApp, RunResult
from server.crd import AnomalyReporter, EventEmitter
from server.leadership import Leadership, replica_identity
from server.memory import MemoryRecorder, StoreMemory
from server.ownership import RunOwnership
from server.prometheus_exporter import Metrics
from server.run_metrics import RunMetrics
from server.run_service import OnFinished, RunService, RunServiceOptions
from server.runstore import ACTIVE_STATUSES, RunStore
from server.runstore.models import RunRecord
from server.watch_reporter import WatchReporter
from server.watcher import Watcher, WatcherOptions
from tools.gitops.base import GitOpsRepo
from tools.kubernetes import KubeClient
from tools.notify import WebhookNotifier
from tools.prometheus import PrometheusClient

log = logging.getLogger(__name__)
RESTORE_LIMIT = 1000  # runs a new leader reads back (the store's page limit; newest first)


def checkpoint_url(settings: Settings) -> str:
    """Where LangGraph checkpoints go: next to the run store (its own SQLite file), or the same PostgreSQL."""
    url = settings.resolved_storage_url()
    if url.startswith("sqlite://"):
        return f"sqlite:///{(settings.data_dir / 'checkpoints.db').as_posix()}"
    return url


class HealingStack:
    """Watcher -> run service -> healing graph. Use as a context manager, or start()/stop()."""

    def __init__(
        self,
        settings: Settings,
        store: RunStore,
        *,
        kube: KubeClient,
        repo: GitOpsRepo | None = None,
        clock: Callable[[], datetime] = utc_now,
        sleep: Callable[[float], None] = time.sleep,
        verify: VerifyConfig | None = None,
        breaker_store: BreakerStore | None = None,
        watch: bool = True,
        watcher_options: WatcherOptions | None = None,
        on_event: Callable[[TraceEvent], None] | None = None,
        on_finished: OnFinished | None = None,
        workers: int = 2,
        approval_sweep_seconds: float = 30.0,
        merge_poll_seconds: float | None = None,
        report_to_cluster: bool = True,
        metrics: Metrics | None = None,
    ) -> None:
        """With `watch` and `report_to_cluster` (the default), the stack reports to the cluster:
        `server.crd.AnomalyReporter` after each dispatched incident, `server.watch_reporter.WatchReporter`
        on every trace event and run end (Events on the workload, ParamedicWatch status); the
        user's `on_event`/`on_finished` are still called, after the reporter, whatever it does."""
        self.settings = settings
        self.store = store
        self._kube = kube
        self._stack = contextlib.ExitStack()
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        checkpointer = self._stack.enter_context(open_checkpointer(checkpoint_url(settings)))
        self.identity = replica_identity(settings.ha)
        self.ownership = RunOwnership(store, self.identity, timeout=settings.ha.owner_timeout_seconds)
        built = build_context(
            settings,
            kube=kube,
            repo=repo,
            clock=clock,
            sleep=sleep,
            verify=verify,
            # The run store's breakers: every replica on this store counts the same attempts.
            breaker_store=breaker_store if breaker_store is not None else store.breakers,
        )
        # The HTTP clients build_context made for this stack keep their connections until it stops.
        for client in (built.prometheus, built.notifier):
            if isinstance(client, PrometheusClient | WebhookNotifier):
                self._stack.callback(client.close)
        self.context: HealingContext = replace(built, guard=self.ownership.guard)
        self.memory: MemoryRecorder | None = None
        if settings.memory.enabled:
            # Incident memory lives in the run store: recalled by the analyst, fed by finished runs.
            self.context = replace(self.context, memory=StoreMemory(store))
            self.memory = MemoryRecorder(store, settings.memory)
        self.app = HealingApp(compile_graph(checkpointer), self.context)
        self._user_finished = on_finished
        self._user_event = on_event
        self.reporter: WatchReporter | None = (
            WatchReporter(kube, store, clock) if watch and report_to_cluster else None
        )
        self.metrics: RunMetrics | None = None
        if metrics is not None:
            targets = self.context.breakers.target
            self.metrics = RunMetrics(
                metrics, store, settings.llm.provider, lambda ref: targets.view(target_key(ref)).status.value
            )
        self._clock = clock
        self._sweep_every = approval_sweep_seconds
        self._merge_every = merge_poll_seconds or settings.git.merge_poll_seconds
        self._stopping = threading.Event()
        self._folded_lock = threading.Lock()
        self._folded: dict[str, set[str]] = {}  # run id -> watcher fingerprints folded into it
        self._sweeper: threading.Thread | None = None
        cooldown = settings.incidents.cooldown_seconds
        self.runs = RunService(
            self.app,
            store,
            RunServiceOptions(settings.mode.value, settings.llm.provider, workers, cooldown),
            on_finished=self._finished,
            on_event=self._event,
            on_opened=self.metrics.on_opened if self.metrics is not None else None,
            ownership=self.ownership,
            clock=clock,
        )
        self._watch = watch
        self._watcher_options = watcher_options
        self._watcher_lock = threading.Lock()
        self._adopt = True  # whether the keeper adopts orphaned runs (see `start`)
        self._keeper: threading.Thread | None = None
        self.leadership: Leadership | None = None
        # The watcher of the current leadership term (a stopped watcher cannot start again).
        self.watcher: Watcher | None = self._new_watcher()

    def _new_watcher(self) -> Watcher | None:
        if not self._watch:
            return None
        return Watcher(
            self._kube.api,
            self.settings.scope,
            self._on_incident,
            self._clock,
            options=self._watcher_options
            or WatcherOptions(cooldown_seconds=self.settings.incidents.cooldown_seconds),
            after_dispatch=AnomalyReporter(self._kube, EventEmitter(self._kube, clock=self._clock))
            if self.reporter is not None
            else None,
            on_repeat=self.runs.fold_repeat,
        )

    def queue_depth(self) -> int:
        """Incidents waiting in the watcher's folding queue (0 on a replica that is not the leader)."""
        watcher = self.watcher
        return len(watcher.folder) if watcher is not None else 0

    @property
    def is_leader(self) -> bool:
        """Whether this replica watches and starts runs (always, without `ha.enabled`)."""
        return self.leadership is None or self.leadership.is_leader

    def _on_incident(self, incident: Incident) -> None:
        run_id, _ = self.runs.submit(incident)
        run = self.store.get_run(run_id)
        if not run.status.active:
            # Attached to a run that ended (its cooldown in the store outlasted the watcher's, or
            # another replica ended it before a failover): nothing runs for this fingerprint, so
            # the watcher must not hold it as active, and it cools down until the store's window ends.
            if self.watcher is not None:
                self.watcher.run_finished(incident.fingerprint, run.attach_until)
            return
        if run.fingerprint == incident.fingerprint and self.ownership.owns(run_id):
            return
        # Folded into another fingerprint's run on the same workload: the watcher holds this
        # fingerprint as active until told, so tell it when that run ends (or now, if it has).
        with self._folded_lock:
            self._folded.setdefault(run_id, set()).add(incident.fingerprint)
        if not self.store.get_run(run_id).status.active:
            self._release_folded(run_id)

    def _release_folded(self, run_id: str, until: datetime | None = None) -> None:
        with self._folded_lock:
            folded = self._folded.pop(run_id, set())
        if self.watcher is not None:
            for fingerprint_ in sorted(folded):
                self.watcher.run_finished(fingerprint_, until)

    def _event(self, event: TraceEvent) -> None:
        if self.metrics is not None:
            self.metrics.on_event(event)
        if self.reporter is not None:
            try:
                self.reporter.on_event(event)
            except Exception:  # the reporter catches its own failures; belt and braces for the run
                log.exception("reporting trace event of run %s failed", event.run_id)
        if self._user_event is not None:
            self._user_event(event)

    def _finished(self, record: RunRecord, result: RunResult | None) -> None:
        if self.watcher is not None and not record.status.active:
            self.watcher.run_finished(record.fingerprint)
        if not record.status.active:
            self._release_folded(record.id)
        if self.memory is not None:
            self.memory.on_finished(record, result)
        if self.metrics is not None:
            self.metrics.on_finished(record)
        if self.reporter is not None:
            try:
                self.reporter.on_finished(record, result)
            except Exception:
                log.exception("reporting the end of run %s failed", record.id)
        if self._user_finished is not None:
            self._user_finished(record, result)

    def start(self, *, recover: bool = True) -> HealingStack:
        """Continue runs a crashed process left behind (unless told not to), then start watching.

        With `ha.enabled`, compete for the leadership instead: the leader does both. Without
        `recover` (a one-off CLI command) this process never adopts runs it did not start.
        """
        self._adopt = recover
        self._keeper = threading.Thread(target=self._keep, name="paramedic-run-keeper", daemon=True)
        if self.settings.ha.enabled:
            self.runs.set_leading(False)
            self.watcher = None
            self.leadership = Leadership(
                self._kube.api, self.settings.ha, self.identity, self._lead, self._follow
            ).start()
        else:
            if recover:
                self.runs.recover()
            if self.watcher is not None:
                self._restore_watcher(self.watcher)
                self.watcher.start()
        self._keeper.start()
        self._sweeper = threading.Thread(target=self._sweep, name="paramedic-sweeper", daemon=True)
        self._sweeper.start()
        return self

    def _lead(self) -> None:
        """This replica became the leader: adopt orphaned runs, then watch."""
        self.runs.set_leading(True)
        try:
            self.runs.recover()
        except Exception:  # the keeper adopts them on its next round
            log.exception("adopting orphaned runs failed")
        with self._watcher_lock:
            if self._stopping.is_set():
                return
            self.watcher = self._new_watcher()
            if self.watcher is not None:
                self._restore_watcher(self.watcher)
                self.watcher.start()

    def _restore_watcher(self, watcher: Watcher) -> None:
        try:
            self._restore_from_store(watcher)
        except Exception:  # the store's window still attaches what the watcher offers
            log.exception("restoring active runs and cooldowns from the store failed")

    def _restore_from_store(self, watcher: Watcher) -> None:
        """A new leader's watcher starts from the shared store, not from nothing: workloads whose
        run is active (whoever drives it) fold into that run, and workloads whose run ended less
        than the cooldown ago cool down until its window ends, as on the replica that led before
        (no second run, no second AnomalyDetected for a failure already being handled). A process
        restarted over its store starts the same way."""
        now = self._clock()
        active = self.store.list_runs(status=ACTIVE_STATUSES, limit=RESTORE_LIMIT).items
        recent = self.store.list_runs(limit=RESTORE_LIMIT).items
        cooling = [
            (run.target, run.attach_until)
            for run in recent
            if not run.status.active and run.attach_until is not None and run.attach_until > now
        ]
        watcher.folder.restore([(run.fingerprint, run.target) for run in active], cooling)
        with self._folded_lock:  # told when they end, here (`_finished`) or elsewhere (the keeper)
            for run in active:
                self._folded.setdefault(run.id, set()).add(run.fingerprint)

    def _follow(self) -> None:
        """This replica stopped leading: stop watching and starting runs (its runs in flight go on)."""
        self.runs.set_leading(False)
        with self._watcher_lock:
            watcher, self.watcher = self.watcher, None
        if watcher is not None:
            watcher.stop()

    def _keep(self) -> None:
        """Keep our claims alive, take answers meant for our runs, and (leading) adopt orphaned runs."""
        every = self.settings.ha.heartbeat_seconds
        while not self._stopping.wait(every):
            try:
                self.ownership.heartbeat()
                self.runs.take_answers()
                if self._adopt and self.is_leader:
                    self.runs.recover()
                self._release_ended_elsewhere()
            except Exception:  # the store may be briefly unavailable; try again next round
                log.exception("run keeper round failed")

    def _release_ended_elsewhere(self) -> None:
        """Tell the watcher about runs it folded sightings into that another replica drove and ended."""
        with self._folded_lock:
            foreign = [run_id for run_id in self._folded if not self.ownership.owns(run_id)]
        for run_id in foreign:
            run = self.store.get_run(run_id)
            if not run.status.active:
                self._release_folded(run_id, run.attach_until)

    def _sweep(self) -> None:
        """Escalate runs whose approval nobody answered in time, and look at the pull requests runs
        wait on (wall-clock periods; the deadlines are on the injected clock)."""
        tick = min(self._sweep_every, self._merge_every)
        next_approvals = next_merges = time.monotonic()
        while not self._stopping.wait(tick):
            if not self.is_leader:
                continue
            now = time.monotonic()
            if now >= next_approvals:
                next_approvals = now + self._sweep_every
                try:
                    self.runs.expire_approvals(self._clock())
                except Exception:  # the store may be briefly unavailable; try again next period
                    log.exception("approval sweep failed")
            if now >= next_merges:
                next_merges = now + self._merge_every
                try:
                    self.runs.follow_merges()
                except Exception:  # a provider or the cluster may be briefly unreachable
                    log.exception("following waiting pull requests failed")

    def stop(self) -> None:
        """Stop watching, let runs in flight finish, close the checkpointer."""
        self._stopping.set()
        if self._sweeper is not None:
            self._sweeper.join(timeout=5)
        if self.leadership is not None:
            self.leadership.stop()  # stops the watcher (`_follow`) and hands the Lease back
        elif self.watcher is not None:
            self.watcher.stop()
        if self._keeper is not None:
            self._keeper.join(timeout=5)
        self.runs.close(wait=True)
        self.ownership.release_all()  # waiting runs: the next leader adopts them at once
        self._stack.close()

    def __enter__(self) -> HealingStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
