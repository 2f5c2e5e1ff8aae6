"""dependency_down from what the watcher read itself: a workload at zero that running workloads reach
is their dependency down (fixed where it is); a workload reaching a Service whose selector matches no
pod is its victim (the Service is at fault). Only the watcher's own incidents carry these facts: an
alert's labels are untrusted."""

from __future__ import annotations

from agent import incident_labels as L
from agent.domain import ActionType, EvidenceKind, Incident, RootCause, Trigger
from agent.reasoners.rules import RulesReasoner
from tests.agent import evidence_samples as s

ZERO_COMMIT = s.commit(
    "5ca1ed0000000000000000000000000000000000",
    "redis: scale down for maintenance",
    "--- a/d.yaml\n+++ b/d.yaml\n@@ -6 +6 @@\n-  replicas: 1\n+  replicas: 0\n",
    ["d.yaml"],
)


def _incident(labels: dict[str, str], trigger: Trigger = Trigger.WATCHER) -> Incident:
    return s.incident("x").model_copy(update={"labels": labels, "trigger": trigger})


def _diagnose(incident: Incident, evidence):  # type: ignore[no-untyped-def]
    return RulesReasoner().diagnose(incident, evidence).diagnosis


def _at_zero():  # type: ignore[no-untyped-def]
    ev = s.scaled_to_zero()
    ev.items = [i for i in ev.items if i.kind is not EvidenceKind.EVENT] + [ZERO_COMMIT]
    return ev


def test_a_workload_at_zero_that_running_workloads_reach_is_their_dependency_down() -> None:
    d = _diagnose(_incident({L.DEPENDANTS: "Deployment shop/worker"}), _at_zero())
    assert d.category is RootCause.DEPENDENCY_DOWN and d.confidence >= 0.85
    assert d.faulty_resource == "Deployment shop/web-api" and d.faulty_field == "spec.replicas"
    assert d.remediation.action is ActionType.REVERT_COMMIT
    assert "Deployment shop/worker" in d.explanation


def test_a_workload_at_zero_nobody_reaches_is_scaled_to_zero() -> None:
    assert _diagnose(_incident({}), _at_zero()).category is RootCause.SCALED_TO_ZERO


def test_an_alert_cannot_claim_dependants() -> None:
    d = _diagnose(_incident({L.DEPENDANTS: "Deployment shop/worker"}, Trigger.ALERT), _at_zero())
    assert d.category is RootCause.SCALED_TO_ZERO


def _healthy_consumer(*logs: str):  # type: ignore[no-untyped-def]
    return s.evidence(
        s.status(ready=True, restart_count=0),
        s.deployment_status("web-api", 2, 2),
        s.deployment_status("redis", 1, 1),
        *(s.log(line, previous=False) for line in logs),
    )


SELECTOR_FACTS = {L.DEPENDENCY: "Service shop/redis", L.DEPENDENCY_STATE: L.SELECTOR_MATCHES_NOTHING}


def test_a_service_selecting_no_pod_is_blamed_on_its_selector() -> None:
    ev = _healthy_consumer("ERROR Error 111 connecting to redis:6379. Connection refused. [x12]")
    d = _diagnose(_incident(SELECTOR_FACTS), ev)
    assert d.category is RootCause.DEPENDENCY_DOWN and d.confidence >= 0.8
    assert d.faulty_resource == "Service shop/redis" and d.faulty_field == "spec.selector"
    assert d.remediation.action is ActionType.NOTIFY


def test_a_service_selecting_no_pod_needs_no_log_line_to_be_named() -> None:
    d = _diagnose(_incident(SELECTOR_FACTS), _healthy_consumer())
    assert d.category is RootCause.DEPENDENCY_DOWN and d.faulty_resource == "Service shop/redis"


def test_an_alert_cannot_name_a_service_to_blame() -> None:
    d = _diagnose(_incident(SELECTOR_FACTS, Trigger.ALERT), _healthy_consumer())
    assert d.category is RootCause.UNKNOWN


def test_a_ready_consumer_logging_refusals_to_a_dependency_at_zero_blames_it() -> None:
    ev = s.evidence(
        s.status(ready=True, restart_count=0),
        s.deployment_status("web-api", 2, 2),
        s.deployment_status("redis", 0, 0),
        s.log("ERROR Error 111 connecting to redis:6379. Connection refused. [x2]", previous=False),
    )
    d = _diagnose(s.incident(), ev)
    assert d.category is RootCause.DEPENDENCY_DOWN and d.faulty_resource == "Deployment shop/redis"
