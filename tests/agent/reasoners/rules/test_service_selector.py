"""A Service investigated on its own (a run followed its consumers to it): a selector no pod carries
is the fault; the Git history of its manifest says what the selector was when pods carried it, and
the one commit that changed only the selector is reverted. Anything less certain goes to humans."""

from __future__ import annotations

from agent import incident_labels as L
from agent.domain import (
    ActionType,
    Evidence,
    EvidenceItem,
    EvidenceKind,
    Incident,
    RootCause,
    Trigger,
    WorkloadRef,
)
from agent.reasoners.rules import RulesReasoner
from agent.reasoners.rules.observations import CommitObs
from agent.reasoners.rules.service_selector import selector_change
from tests.agent import evidence_samples as s
from tests.incidents import make_incident
from tools.evidence.item_data import LabelledPodData, ServiceStatusData

QUEUE = WorkloadRef(namespace="shop", kind="Service", name="queue")
RESOURCE = "Service shop/queue"
RELABEL = "c0ffee0000000000000000000000000000000000"
OLDER = "0ddba11000000000000000000000000000000000"


def _diff(before: str, after: str, *extra: str) -> str:
    return (
        "--- a/apps/queue/service.yaml\n+++ b/apps/queue/service.yaml\n@@ -8,7 +8,7 @@ metadata:\n"
        " spec:\n"
        "   selector:\n"
        f"-    app.kubernetes.io/name: {before}\n"
        f"+    app.kubernetes.io/name: {after}\n" + "".join(extra) + "   ports:\n"
        "     - name: amqp\n"
    )


def _service(selector: dict[str, str], pods: dict[str, tuple[dict[str, str], bool]]) -> EvidenceItem:
    data = ServiceStatusData(
        object_kind="Service",
        name="queue",
        namespace="shop",
        type="ClusterIP",
        selector=selector,
        pods=[LabelledPodData(pod=n, labels=labels, ready=ready) for n, (labels, ready) in pods.items()],
    ).dump()
    return EvidenceItem(
        id="status:service/queue", kind=EvidenceKind.STATUS, source=RESOURCE, text="Service queue", data=data
    )


BROKER_PODS = {
    "broker-6d9f-abcde": ({"app.kubernetes.io/name": "broker", "pod-template-hash": "6d9f"}, True),
    "api-7c4b-fghij": ({"app.kubernetes.io/name": "api"}, True),
}
NOW = {"app.kubernetes.io/name": "broker-leader"}


def _incident(facts: bool = True, trigger: Trigger = Trigger.WATCHER) -> Incident:
    labels = {L.DEPENDENCY: RESOURCE, L.DEPENDENCY_STATE: L.SELECTOR_MATCHES_NOTHING} if facts else {}
    return make_incident(QUEUE, "DependencyUnreachable", id="inc-q", trigger=trigger, labels=labels)


def _evidence(*commits: EvidenceItem, selector: dict[str, str] = NOW, pods=BROKER_PODS) -> Evidence:  # type: ignore[no-untyped-def]
    return Evidence(target=QUEUE, items=[_service(selector, pods), *commits])


def _diagnose(evidence: Evidence, incident: Incident | None = None):  # type: ignore[no-untyped-def]
    return RulesReasoner().diagnose(incident or _incident(), evidence).diagnosis


RELABEL_COMMIT = s.commit(
    RELABEL, "queue: select the leader only", _diff("broker", "broker-leader"), ["apps/queue/service.yaml"]
)


def test_the_commit_that_changed_only_the_selector_is_reverted() -> None:
    d = _diagnose(_evidence(RELABEL_COMMIT))
    assert d.category is RootCause.DEPENDENCY_DOWN and d.confidence >= 0.85
    assert (d.faulty_resource, d.faulty_field) == (RESOURCE, "spec.selector")
    assert d.remediation is not None and d.remediation.action is ActionType.REVERT_COMMIT
    assert d.remediation.request_parameters() == {"commit": RELABEL}
    # the known-good value is proven by pods that carry it and are ready now
    assert "app.kubernetes.io/name=broker" in d.explanation and "broker-6d9f-abcde" in d.explanation
    assert {"status:service/queue", f"commit:{RELABEL[:12]}"} <= set(d.cited_evidence)


def test_without_a_failing_consumer_it_is_not_called_an_outage() -> None:
    # the same selector, but nothing the watcher saw reaches the Service: escalated as unknown
    for incident in (_incident(facts=False), _incident(trigger=Trigger.ALERT)):
        d = _diagnose(_evidence(RELABEL_COMMIT), incident)
        assert d.category is RootCause.UNKNOWN and d.confidence < 0.5
        assert "Service queue selects app.kubernetes.io/name=broker-leader: 0 pod(s)" in d.explanation
        # the category is unknown, but the field the evidence points at is named
        assert (d.faulty_resource, d.faulty_field) == (RESOURCE, "spec.selector")
        assert d.remediation is not None and d.remediation.action is ActionType.NOTIFY


def test_a_commit_that_changed_more_than_the_selector_is_not_reverted() -> None:
    mixed = s.commit(
        RELABEL,
        "queue: leader only, new port",
        _diff("broker", "broker-leader", "-  type: ClusterIP\n", "+  type: NodePort\n"),
        ["apps/queue/service.yaml"],
    )
    d = _diagnose(_evidence(mixed))
    assert d.category is RootCause.DEPENDENCY_DOWN
    assert d.remediation is not None and d.remediation.action is ActionType.NOTIFY
    assert "app.kubernetes.io/name=broker" in d.remediation.rationale


def test_a_selector_cut_over_two_commits_goes_back_to_before_the_first() -> None:
    # broker -> broker-primary -> broker-leader: neither newer value is carried by any pod
    first = s.commit(OLDER, "queue: primary", _diff("broker", "broker-primary"), ["apps/queue/service.yaml"])
    second = s.commit(
        RELABEL, "queue: leader", _diff("broker-primary", "broker-leader"), ["apps/queue/service.yaml"]
    )
    d = _diagnose(_evidence(second, first))
    # reverting only the newest would leave broker-primary, which selects nothing either
    assert d.remediation is not None and d.remediation.action is ActionType.NOTIFY
    assert "app.kubernetes.io/name=broker" in d.remediation.rationale and OLDER[:12] in d.explanation


def test_history_with_no_selector_pods_carry_is_handed_to_humans() -> None:
    unrelated = {"api-7c4b-fghij": ({"app.kubernetes.io/name": "api"}, True)}
    d = _diagnose(_evidence(RELABEL_COMMIT, pods=unrelated))
    assert d.category is RootCause.DEPENDENCY_DOWN
    assert d.remediation is not None and d.remediation.action is ActionType.NOTIFY
    assert "app.kubernetes.io/name=api" in d.remediation.rationale  # what ready pods do carry


def test_a_selector_matching_unready_pods_is_not_the_selectors_fault() -> None:
    unready = {"broker-6d9f-abcde": ({"app.kubernetes.io/name": "broker-leader"}, False)}
    d = _diagnose(_evidence(RELABEL_COMMIT, pods=unready))
    # not the selector, and not "healthy" either: unknown, escalated, what the Service selects shown
    assert d.category is RootCause.UNKNOWN and d.faulty_field is None
    assert d.remediation is not None and d.remediation.action is ActionType.NOTIFY
    assert "selects app.kubernetes.io/name=broker-leader: 1 pod(s), 0 ready" in d.explanation


def test_a_service_with_a_ready_endpoint_is_healthy() -> None:
    ready = {"broker-6d9f-abcde": ({"app.kubernetes.io/name": "broker-leader"}, True)}
    d = _diagnose(_evidence(RELABEL_COMMIT, pods=ready))
    assert d.category is RootCause.UNKNOWN and d.remediation is not None
    assert d.remediation.action is ActionType.NONE


def test_selector_change_reads_only_the_selector_block() -> None:
    change = selector_change(
        CommitObs("commit:x", RELABEL, diff=_diff("broker", "broker-leader"), files=("a.yaml",))
    )
    assert change is not None and change.only_selector
    assert (change.removed, change.added) == (
        {"app.kubernetes.io/name": "broker"},
        {"app.kubernetes.io/name": "broker-leader"},
    )
    # a Deployment's matchLabels and a label under metadata are not a Service's selector
    workload = (
        "@@ -1,9 +1,9 @@\n metadata:\n   labels:\n-    app: a\n+    app: b\n spec:\n   selector:\n"
        "     matchLabels:\n-      app: a\n+      app: b\n"
    )
    assert selector_change(CommitObs("commit:y", RELABEL, diff=workload, files=("d.yaml",))) is None
    several_files = CommitObs("commit:z", RELABEL, diff=_diff("a", "b"), files=("a.yaml", "b.yaml"))
    found = selector_change(several_files)
    assert found is not None and not found.only_selector
