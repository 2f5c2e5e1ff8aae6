"""unschedulable: requests lowered to a schedulable revision's, else to fit the largest node."""

from __future__ import annotations

from agent.domain import ActionType, Evidence, EvidenceItem, EvidenceKind, RootCause, WorkloadRef
from tests.agent import evidence_samples as s


def test_unschedulable_lowers_requests_to_fit_the_largest_node_and_asks(diagnose) -> None:
    d = diagnose(s.unschedulable())
    assert d.category is RootCause.UNSCHEDULABLE
    assert d.remediation.action is ActionType.GITOPS_PR
    new = d.remediation.patch["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["memory"]
    assert new == "6249Mi"  # 80% of the 7812Mi node
    assert d.confidence == 0.7  # derived from allocatable, not from a known-good revision: below act
    assert "status:node/node-b" in d.cited_evidence


def test_unschedulable_prefers_the_request_of_a_schedulable_revision(diagnose) -> None:
    ev = s.unschedulable()
    ev.items.append(s.rollout(1, [s.container()]))
    ev.items.append(s.rollout(2, [s.container(resources={"requests": {"memory": "64Gi"}})], current=True))
    d = diagnose(ev)
    requests = d.remediation.patch["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]
    assert requests == {"memory": "128Mi"} and d.confidence == 0.9
    assert "rollout:1" in d.cited_evidence


def _daemonset_placing_nothing(selector: dict[str, str]) -> Evidence:
    """A DaemonSet that wants no pod (its controller found no node for it): no pod, no event."""
    live = s.manifest(s.container())
    live["kind"] = "DaemonSet"
    del live["spec"]["replicas"]
    live["spec"]["template"]["spec"]["nodeSelector"] = selector
    status = EvidenceItem(
        id="status:daemonset/node-agent",
        kind=EvidenceKind.STATUS,
        source="DaemonSet node-agent",
        text="name=node-agent; replicas=0; ready_replicas=0",
        data={
            "object_kind": "DaemonSet",
            "name": "node-agent",
            "namespace": "shop",
            "replicas": 0,
            "ready_replicas": 0,
        },
    )
    nodes = [s.node(name, labels=labels) for name, labels in s.NODE_LABELS.items()]
    return Evidence(
        target=WorkloadRef(namespace="shop", kind="DaemonSet", name="node-agent"),
        items=[status, *nodes],
        manifest=live,
    )


def test_a_daemonset_whose_selector_no_node_carries_is_unschedulable_not_scaled_to_zero(diagnose) -> None:
    d = diagnose(_daemonset_placing_nothing({"accelerator": "nvidia-tesla-t4"}))
    assert d.category is RootCause.UNSCHEDULABLE
    assert d.faulty_field == "spec.template.spec.nodeSelector.accelerator"
    assert d.remediation.action is ActionType.NOTIFY  # no node has the label: humans, told the labels
    assert "status:daemonset/node-agent" in d.cited_evidence


def test_a_daemonset_at_zero_whose_selector_matches_a_node_is_not_guessed(diagnose) -> None:
    labels = next(iter(s.NODE_LABELS.values()))
    key, value = next(iter(labels.items()))
    d = diagnose(_daemonset_placing_nothing({key: value}))
    assert d.category not in (RootCause.UNSCHEDULABLE, RootCause.SCALED_TO_ZERO)
