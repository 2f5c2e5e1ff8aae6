"""WatchReporter against the sandbox's API server: Events on the workload, ParamedicWatch status.

The reporter is fed trace events and run records built from the real models (as the run service
would hand them over); what it wrote is read back with the Kubernetes client. The last test runs
the whole HealingStack over a background sandbox: a bad image on shop/web-api is detected,
diagnosed, fixed through a pull request and verified, and the watch says so.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client as k8s

from agent import trace
from agent.config import Mode, Settings
from agent.domain import Incident, Trigger, WorkloadRef
from agent.watch_labels import WATCH_LABEL
from sandbox.cluster import Sandbox
from server.crd import GROUP, PLURAL, VERSION, EventEmitter
from server.runstore import RunStore, open_run_store
from server.runstore.models import NewRun, RunRecord, RunStatus
from server.watch_reporter import WatchReporter, diagnosis_line, healing_score
from tools.kubernetes import KubeClient

ROOT = Path(__file__).resolve().parents[2]
CRD = ROOT / "deploy" / "base" / "crd-paramedicwatch.yaml"
WEB = WorkloadRef(namespace="shop", kind="Deployment", name="web-api")
NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
PR = "https://git.local/shop/pulls/3"


def install_crd(kube: KubeClient) -> None:
    ext = k8s.ApiextensionsV1Api(kube.api)
    try:
        ext.create_custom_resource_definition(yaml.safe_load(CRD.read_text(encoding="utf-8")))
    except k8s.ApiException as exc:
        if exc.status != 409:
            raise


def create_watch(kube: KubeClient, name: str, target: WorkloadRef = WEB) -> None:
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "ParamedicWatch",
        "metadata": {"name": name, "namespace": target.namespace},
        "spec": {"targetRef": {"kind": target.kind, "name": target.name}, "mode": "autonomous"},
    }
    k8s.CustomObjectsApi(kube.api).create_namespaced_custom_object(
        GROUP, VERSION, target.namespace, PLURAL, body
    )


def get_watch(kube: KubeClient, name: str, namespace: str = "shop") -> dict[str, Any]:
    return k8s.CustomObjectsApi(kube.api).get_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, name
    )


def paramedic_events(kube: KubeClient, target: WorkloadRef = WEB) -> list[k8s.CoreV1Event]:
    items = k8s.CoreV1Api(kube.api).list_namespaced_event(target.namespace).items
    return [
        e
        for e in items
        if e.reporting_component == "paramedic"
        and e.involved_object.kind == target.kind
        and e.involved_object.name == target.name
    ]


def reasons(events: list[k8s.CoreV1Event]) -> list[str]:
    return [e.reason for e in events]


def names(kube: KubeClient, target: WorkloadRef = WEB) -> set[str]:
    return {e.metadata.name for e in paramedic_events(kube, target)}


def since(kube: KubeClient, before: set[str], target: WorkloadRef = WEB) -> list[k8s.CoreV1Event]:
    """Paramedic's events on `target` not in `before`, in the order their timestamps (then names) give."""
    new = [e for e in paramedic_events(kube, target) if e.metadata.name not in before]
    return sorted(
        new, key=lambda e: (e.metadata.creation_timestamp or NOW, e.metadata.resource_version or "")
    )


# -- fixtures: one stepped sandbox (API server only matters here), a store per test ------------


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with Sandbox(workdir=tmp_path_factory.mktemp("sb"), seed=7, background=False) as sb:
        yield sb


@pytest.fixture(scope="module")
def kube(sandbox: Sandbox) -> Iterator[KubeClient]:
    client = KubeClient.from_config(str(sandbox.kubeconfig_path))
    install_crd(client)
    yield client
    client.close()


@pytest.fixture
def watch_name(kube: KubeClient) -> str:
    name = f"web-{uuid.uuid4().hex[:6]}"
    create_watch(kube, name)
    return name


@pytest.fixture
def reporter(kube: KubeClient, store: RunStore) -> WatchReporter:
    """The reporter over the sandbox, on a fixed clock."""
    return WatchReporter(kube, store, lambda: NOW)


@pytest.fixture
def run(store: RunStore, watch_name: str) -> RunRecord:
    """A run labelled with the test's PodWatch."""
    return new_run(store, {WATCH_LABEL: f"shop/{watch_name}"})


def new_run(store: RunStore, labels: dict[str, str], target: WorkloadRef = WEB) -> RunRecord:
    fingerprint = uuid.uuid4().hex
    incident = store.record_incident(
        Incident(
            id=uuid.uuid4().hex,
            fingerprint=fingerprint,
            target=target,
            trigger=Trigger.WATCHER,
            reason="ImagePullBackOff",
            started_at=NOW,
            labels=labels,
        )
    )
    return store.create_run(
        NewRun(
            incident_id=incident.id,
            fingerprint=fingerprint,
            target=target,
            mode="autonomous",
            provider="rules",
        )
    )


def pr_action(run_id: str, *, status: str = "ok", node: str = "remediation") -> dict[str, Any]:
    return {
        "id": "a1",
        "run_id": run_id,
        "attempt": 1,
        "phase": node,
        "action": "revert_commit",
        "target": str(WEB),
        "pr_url": PR,
        "pending_merge": False,
        "applied": True,
        "result": {"status": status, "detail": "merged into main"},
    }


def action_event(run_id: str, entry: dict[str, Any]) -> trace.TraceEvent:
    return trace.action(
        run_id,
        entry["phase"],
        action_type=entry["action"],
        who="paramedic",
        what="revert",
        why="bad image",
        diff="",
        result=f"{entry['result']['status']}: x",
        details=entry,
    )


DIAGNOSIS = {
    "category": "bad_image",
    "confidence": 0.95,
    "explanation": "image tag v9 does not exist\nmore detail",
    "faulty_resource": "shop/deploy/web-api",
}


# -- the reporter, fed by hand -----------------------------------------------------------------


def test_a_healed_run_reports_events_and_a_healthy_watch(
    kube: KubeClient, store: RunStore, watch_name: str, reporter: WatchReporter, run: RunRecord
) -> None:
    before = names(kube)

    analyst = trace.node_end(run.id, "analyst", summary="diagnosis: bad_image at 0.95 (shop/deploy/web-api)")
    assert all(r.ok for r in reporter.on_event(analyst))
    assert get_watch(kube, watch_name)["status"]["lastDiagnosis"] == "bad_image (0.95)"

    assert all(r.ok for r in reporter.on_event(trace.node_start(run.id, "remediation")))
    status = get_watch(kube, watch_name)["status"]
    assert status["phase"] == "Healing"
    (healing,) = status["conditions"]
    assert (healing["type"], healing["status"], healing["reason"]) == (
        "Healing",
        "True",
        "RemediationStarted",
    )

    entry = pr_action(run.id)
    assert [r.ok for r in reporter.on_event(action_event(run.id, entry))] == [True, True]
    assert get_watch(kube, watch_name)["status"]["lastPullRequest"] == PR

    record = store.update_run(run.id, status=RunStatus.HEALED, diagnosis=DIAGNOSIS, actions=[entry])
    assert all(r.ok for r in reporter.on_finished(record, None))
    status = get_watch(kube, watch_name)["status"]
    assert status["phase"] == "Healthy"
    assert status["lastDiagnosis"] == "bad_image (0.95): image tag v9 does not exist"
    assert status["lastPullRequest"] == PR
    assert 0.0 <= status["healingScore"] <= 1.0
    (healing,) = status["conditions"]
    assert (healing["status"], healing["reason"]) == ("False", "Healed")

    by_reason = {e.reason: e for e in since(kube, before)}
    assert sorted(by_reason) == ["DiagnosisComplete", "RemediationProposed"]
    diagnosed, proposed = by_reason["DiagnosisComplete"], by_reason["RemediationProposed"]
    assert diagnosed.message == "diagnosed bad_image at confidence 0.95 (shop/deploy/web-api)"
    assert PR in proposed.message and proposed.type == "Normal"


def test_an_exhausted_budget_reaches_the_healing_cap(
    kube: KubeClient, store: RunStore, watch_name: str, reporter: WatchReporter, run: RunRecord
) -> None:
    before = names(kube)
    note = trace.note(
        run.id,
        "verification",
        "attempt 3 did not heal the workload and the budget is spent; rolling back",
    )
    assert reporter.on_event(note) == []
    record = store.update_run(run.id, status=RunStatus.ESCALATED, diagnosis=DIAGNOSIS)
    assert all(r.ok for r in reporter.on_finished(record, None))
    (cap,) = since(kube, before)
    assert cap.reason == "HealingCapReached" and cap.type == "Warning"
    status = get_watch(kube, watch_name)["status"]
    assert status["phase"] == "Escalated"
    assert status["healingScore"] == 0.0  # the only finished run on this target in this store escalated


def test_an_open_target_breaker_reaches_the_healing_cap(
    kube: KubeClient, store: RunStore, reporter: WatchReporter
) -> None:
    target = WorkloadRef(namespace="shop", kind="Deployment", name="worker")
    run = new_run(store, {}, target)  # no watch: only the Event
    before = names(kube, target)
    rationale = "the breaker for shop/Deployment/worker is open: too many recent remediation attempts"
    reporter.on_event(trace.decision(run.id, "decide", route="escalate", rationale=rationale))
    record = store.update_run(run.id, status=RunStatus.ESCALATED)
    results = reporter.on_finished(record, None)
    assert [r.ok for r in results] == [True]  # the Event, and no status write
    (cap,) = since(kube, before, target)
    assert cap.reason == "HealingCapReached" and "breaker for shop/Deployment/worker is open" in cap.message


def test_an_escalation_for_another_reason_is_no_cap(
    kube: KubeClient, store: RunStore, watch_name: str, reporter: WatchReporter, run: RunRecord
) -> None:
    before = names(kube)
    reporter.on_event(
        trace.decision(run.id, "decide", route="escalate", rationale="confidence 0.30 is below 0.50")
    )
    reporter.on_finished(store.update_run(run.id, status=RunStatus.ESCALATED), None)
    assert since(kube, before) == []
    assert get_watch(kube, watch_name)["status"]["phase"] == "Escalated"


def test_a_reported_run_leaves_the_watch_degraded_with_the_pending_pr(
    kube: KubeClient, store: RunStore, watch_name: str, reporter: WatchReporter, run: RunRecord
) -> None:
    before = names(kube)
    entry = {**pr_action(run.id), "pending_merge": True, "applied": False}
    reporter.on_event(action_event(run.id, entry))
    (proposed,) = since(kube, before)
    assert proposed.reason == "RemediationProposed" and "waits for a human to merge" in proposed.message
    reporter.on_finished(store.update_run(run.id, status=RunStatus.REPORTED, actions=[entry]), None)
    status = get_watch(kube, watch_name)["status"]
    assert (status["phase"], status["lastPullRequest"]) == ("Degraded", PR)
    assert status["conditions"][0]["reason"] == "Reported"


def test_a_failed_or_rolled_back_action_proposes_nothing(
    kube: KubeClient, store: RunStore, reporter: WatchReporter
) -> None:
    run = new_run(store, {})
    before = names(kube)
    reporter.on_event(action_event(run.id, pr_action(run.id, status="error")))
    reporter.on_event(action_event(run.id, pr_action(run.id, node="rollback")))
    assert since(kube, before) == []


def test_a_run_without_a_watch_label_writes_no_status(
    kube: KubeClient, store: RunStore, watch_name: str, reporter: WatchReporter
) -> None:
    run = new_run(store, {"team": "shop"})
    assert reporter.on_event(trace.node_start(run.id, "remediation")) == []
    reporter.on_finished(store.update_run(run.id, status=RunStatus.HEALED), None)
    assert "status" not in get_watch(kube, watch_name) or not get_watch(kube, watch_name)["status"].get(
        "phase"
    )


def test_labels_are_read_once_per_run(kube: KubeClient, store: RunStore, watch_name: str) -> None:
    reads: list[str] = []

    class Counting:
        def __getattr__(self, name: str) -> Any:
            return getattr(store, name)

        def get_incident(self, incident_id: str) -> Any:
            reads.append(incident_id)
            return store.get_incident(incident_id)

    reporter = WatchReporter(kube, Counting(), lambda: NOW)  # type: ignore[arg-type]
    run = new_run(store, {WATCH_LABEL: f"shop/{watch_name}"})
    for _ in range(3):
        reporter.on_event(trace.node_start(run.id, "remediation"))
    reporter.on_event(
        trace.node_end(run.id, "analyst", summary="diagnosis: oom at 0.80 (shop/deploy/web-api)")
    )
    assert reads == [run.incident_id]


def test_failures_are_results_not_exceptions(
    kube: KubeClient, store: RunStore, reporter: WatchReporter
) -> None:
    run = new_run(store, {WATCH_LABEL: "shop/no-such-watch"})
    (missing,) = reporter.on_event(trace.node_start(run.id, "remediation"))
    assert not missing.ok and "not found" in (missing.error or "").lower()
    ghost = WorkloadRef(namespace="no-such-namespace", kind="Deployment", name="x")
    results = reporter.on_event(
        trace.node_end(new_run(store, {}, ghost).id, "analyst", summary="diagnosis: oom at 0.80 (x)")
    )
    assert [r.ok for r in results] == [False]
    assert reporter.on_event(trace.node_start("no-such-run", "remediation")) == []

    class Broken(EventEmitter):
        def emit(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("boom")

    broken = WatchReporter(kube, store, lambda: NOW, emitter=Broken(kube))
    summary = "diagnosis: oom at 0.80 (shop/deploy/web-api)"
    assert broken.on_event(trace.node_end(new_run(store, {}).id, "analyst", summary=summary)) == []


def test_healing_score_is_the_share_of_finished_runs_that_healed(store: RunStore) -> None:
    assert healing_score(store, WEB) is None
    for status in (RunStatus.HEALED, RunStatus.HEALED, RunStatus.ESCALATED, RunStatus.REPORTED):
        store.update_run(new_run(store, {}).id, status=status)
    new_run(store, {})  # queued: not finished, not counted
    store.update_run(
        new_run(store, {}, WorkloadRef(namespace="shop", name="worker")).id, status=RunStatus.FAILED
    )
    assert healing_score(store, WEB) == 0.5
    assert healing_score(store, WEB, history=2) in (0.0, 0.5, 1.0)


def test_diagnosis_line_is_trimmed() -> None:
    assert diagnosis_line(None) is None and diagnosis_line({"confidence": 1}) is None
    line = diagnosis_line({"category": "oom", "confidence": 0.9, "explanation": "x" * 2000})
    assert line is not None and line.startswith("oom (0.90): xxx") and len(line) == 512


# -- the healing stack's wiring ---------------------------------------------------------------


def test_the_stack_reports_by_default_and_a_broken_reporter_spares_the_user_callbacks(
    sandbox: Sandbox, kube: KubeClient, store: RunStore, tmp_path: Path
) -> None:
    from paramedic.sandbox_wiring import sandbox_settings
    from server.healing import HealingStack

    settings = sandbox_settings(Settings(), sandbox, tmp_path / "data", mode=Mode.AUTONOMOUS, auto_merge=True)
    quiet = HealingStack(settings, store, kube=kube, report_to_cluster=False)
    assert quiet.reporter is None and quiet.watcher is not None
    quiet.stop()
    seen: list[str] = []
    stack = HealingStack(
        settings,
        store,
        kube=kube,
        on_event=lambda e: seen.append(e.type.value),
        on_finished=lambda r, _: seen.append(r.status.value),
    )
    try:
        assert isinstance(stack.reporter, WatchReporter)

        class Broken:
            def on_event(self, _: Any) -> None:
                raise RuntimeError("boom")

            def on_finished(self, *_: Any) -> None:
                raise RuntimeError("boom")

        stack.reporter = Broken()  # type: ignore[assignment]
        run = new_run(store, {})
        stack._event(trace.node_start(run.id, "remediation"))
        stack._finished(store.update_run(run.id, status=RunStatus.HEALED), None)
        assert seen == ["node_start", "healed"]
    finally:
        stack.stop()


# -- end to end: the healing stack over a background sandbox -----------------------------------


@pytest.mark.e2e
def test_the_healing_stack_reports_a_healed_bad_image_on_the_watch(tmp_path: Path) -> None:
    from graph.breaker import InMemoryBreakerStore
    from graph.context import VerifyConfig
    from paramedic.sandbox_wiring import sandbox_settings, sim_clock
    from server.healing import HealingStack

    finished: list[RunRecord] = []
    done = threading.Condition()
    user_events: list[trace.TraceEvent] = []

    def on_finished(record: RunRecord, _: Any) -> None:
        with done:
            finished.append(record)
            done.notify_all()

    with Sandbox(workdir=tmp_path / "sb", seed=7) as sb:
        sb.wait_healthy(timeout=60)
        settings = sandbox_settings(Settings(), sb, tmp_path / "data", mode=Mode.AUTONOMOUS, auto_merge=True)
        store = open_run_store(settings.resolved_storage_url())
        kube = KubeClient.from_config(str(sb.kubeconfig_path))
        try:
            install_crd(kube)
            create_watch(kube, "web-api")
            stack = HealingStack(
                settings,
                store,
                kube=kube,
                clock=sim_clock(sb),
                sleep=sb.advance,
                verify=VerifyConfig(
                    timeout_seconds=600, poll_seconds=10, settle_seconds=20, stable_seconds=60
                ),
                breaker_store=InMemoryBreakerStore(),
                on_event=user_events.append,
                on_finished=on_finished,
            )
            assert stack.reporter is not None
            with stack:
                sb.inject("bad_image", "shop/deploy/web-api")
                with done:
                    assert done.wait_for(
                        lambda: any(r.target.name == "web-api" and not r.status.active for r in finished),
                        timeout=90,
                    ), "no run on web-api finished"
            record = next(r for r in finished if r.target.name == "web-api")
            assert record.status is RunStatus.HEALED, record
            assert user_events, "the user's on_event was not called"
            status = get_watch(kube, "web-api")["status"]
            assert status["phase"] == "Healthy"
            assert status["lastPullRequest"] and status["lastPullRequest"] in {
                a.get("pr_url") for a in record.actions if isinstance(a, dict)
            }
            assert status["lastDiagnosis"].startswith("bad_image (")
            assert status["healingScore"] == 1.0
            assert status["lastAnomalyTime"]
            assert {"AnomalyDetected", "DiagnosisComplete", "RemediationProposed"} <= set(
                reasons(paramedic_events(kube))
            )
        finally:
            kube.close()
            store.close()
