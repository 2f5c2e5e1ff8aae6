"""unschedulable: requests lowered to a schedulable revision's, else to fit the largest node."""

from __future__ import annotations

from agent.domain import ActionType, RootCause
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
