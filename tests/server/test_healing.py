"""`server.healing.HealingStack`: the watcher is told when every run it handed incidents to ends,
including a run of another fingerprint the run service folded its incident into, and a sighting of a
workload whose run ended within its cooldown (kept in the store: another replica may have ended it
before a failover) attaches to that run and cools the watcher down until the store's window ends."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.config import Mode, Settings
from agent.domain import Incident, WorkloadRef
from sandbox.cluster import Sandbox
from server.runstore import RunStore
from server.runstore.models import NewRun, RunStatus
from server.watcher.fold import Folder, Outcome
from tests.incidents import make_incident
from tools.kubernetes import KubeClient

WEB = WorkloadRef(namespace="shop", name="web-api")


@pytest.fixture(scope="module")
def kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sandbox, KubeClient]]:
    with Sandbox(workdir=tmp_path_factory.mktemp("sb"), seed=3, background=False) as sb:
        client = KubeClient.from_config(str(sb.kubeconfig_path))
        yield sb, client
        client.close()


class Watcher:
    """Records which fingerprints it was told have finished."""

    def __init__(self) -> None:
        self.finished: list[str] = []
        self.until: dict[str, datetime | None] = {}
        self.folder = Folder(lambda: datetime.now(UTC), cooldown_seconds=300)

    def run_finished(self, fingerprint_: str, until: datetime | None = None) -> None:
        self.finished.append(fingerprint_)
        self.until[fingerprint_] = until

    def stop(self) -> None:
        pass


def _stack(kube, store: RunStore, tmp_path: Path):  # type: ignore[no-untyped-def]
    from paramedic.sandbox_wiring import sandbox_settings
    from server.healing import HealingStack

    sb, client = kube
    settings = sandbox_settings(Settings(), sb, tmp_path / "data", mode=Mode.REPORT)
    stack = HealingStack(settings, store, kube=client, report_to_cluster=False)
    watcher = Watcher()
    stack.watcher = watcher  # type: ignore[assignment]
    return stack, watcher


def _watcher_incident() -> Incident:
    return make_incident(WEB, "CrashLoopBackOff", id="inc-watch")


def _alert_run(store: RunStore, status: RunStatus = RunStatus.WAITING_APPROVAL):  # type: ignore[no-untyped-def]
    return store.create_run(
        NewRun(
            id="run-alert",
            fingerprint="fp-alert",
            target=WEB,
            mode="approve",
            provider="rules",
            status=status,
        )
    )


def test_a_folded_watcher_fingerprint_is_released_when_the_run_it_joined_ends(kube, store, tmp_path) -> None:
    stack, watcher = _stack(kube, store, tmp_path)
    try:
        run = _alert_run(store)
        incident = _watcher_incident()
        stack._on_incident(incident)
        assert [r.id for r in store.list_runs().items] == [run.id], "folded, not a second run"
        assert watcher.finished == [], "the alert's run is still going"
        stack._finished(store.update_run(run.id, status=RunStatus.HEALED), None)
        assert watcher.finished == ["fp-alert", incident.fingerprint]
        stack._finished(store.get_run(run.id), None)
        assert watcher.finished == ["fp-alert", incident.fingerprint, "fp-alert"], "released once"
    finally:
        stack.stop()


def test_a_run_that_ended_while_the_incident_was_folded_releases_it_at_once(kube, store, tmp_path) -> None:
    stack, watcher = _stack(kube, store, tmp_path)
    try:
        run = _alert_run(store, status=RunStatus.HEALED)  # ended between the fold and the bookkeeping
        stack.runs.submit = lambda incident: (run.id, False)  # type: ignore[method-assign]
        incident = _watcher_incident()
        stack._on_incident(incident)
        assert watcher.finished == [incident.fingerprint]
    finally:
        stack.stop()


def test_a_new_leader_honours_the_cooldown_of_a_run_another_replica_ended(kube, store, tmp_path) -> None:
    stack, watcher = _stack(kube, store, tmp_path)
    try:
        incident = _watcher_incident()
        # The old leader's run for this workload ended a minute ago; its window is in the store.
        ended = store.create_run(
            NewRun(id="run-old", fingerprint=incident.fingerprint, target=WEB, mode="report",
                   provider="rules", status=RunStatus.REPORTED)
        )  # fmt: skip
        window_ends = datetime.now(UTC) + timedelta(seconds=240)
        store.open_attach_window(ended.id, window_ends)
        stack._on_incident(incident)  # this replica's fresh watcher sees the workload still failing
        assert [r.id for r in store.list_runs().items] == [ended.id], "no second run inside the cooldown"
        assert store.get_run(ended.id).folded == 1, "the sighting counts on the ended run"
        assert watcher.finished == [incident.fingerprint]
        assert watcher.until[incident.fingerprint] == window_ends, "cools down until the store's window ends"
    finally:
        stack.stop()


def test_a_new_leaders_watcher_starts_from_the_stored_runs_and_cooldowns(kube, store, tmp_path) -> None:
    stack, watcher = _stack(kube, store, tmp_path)
    worker, redis = WorkloadRef(namespace="shop", name="worker"), WorkloadRef(namespace="shop", name="redis")
    try:
        active = _alert_run(store)  # web-api: waiting for approval, driven by another replica
        cooled = store.create_run(
            NewRun(id="run-worker", fingerprint="fp-worker", target=worker, mode="report",
                   provider="rules", status=RunStatus.REPORTED)
        )  # fmt: skip
        window_ends = datetime.now(UTC) + timedelta(seconds=200)
        store.open_attach_window(cooled.id, window_ends)
        over = store.create_run(
            NewRun(id="run-redis", fingerprint="fp-redis", target=redis, mode="report",
                   provider="rules", status=RunStatus.REPORTED)
        )  # fmt: skip
        store.open_attach_window(over.id, datetime.now(UTC) - timedelta(seconds=1))

        stack._restore_from_store(watcher)  # type: ignore[arg-type]

        def offer(target: WorkloadRef):  # type: ignore[no-untyped-def]
            return watcher.folder.offer(make_incident(target, "CrashLoopBackOff", id=f"i-{target.name}"))

        assert offer(WEB).outcome is Outcome.MERGED, "folds into the active run: no second dispatch"
        cooling = offer(worker)
        assert cooling.outcome is Outcome.COOLDOWN and cooling.retry_at == window_ends
        assert offer(redis).outcome is Outcome.QUEUED, "a window that ended holds nothing back"
        # The active run ends on the other replica: the keeper tells the watcher.
        store.update_run(active.id, status=RunStatus.HEALED)
        stack._release_ended_elsewhere()
        assert watcher.finished == ["fp-alert"]
    finally:
        stack.stop()
