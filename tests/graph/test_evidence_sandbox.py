"""Evidence gathered from the sandbox over HTTP, then the offline rules: the right root cause per fault.

The reasoner sees only what a real cluster and Git would show; the sandbox's ground truth is used
only to check the answer.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agent.domain import Incident, RootCause, Trigger, WorkloadRef, fingerprint
from agent.reasoners.rules import RulesReasoner
from graph.evidence import Sources, gather_evidence
from sandbox.cluster import Sandbox
from sandbox.resources import PODS
from tools.gitops.local import LocalGitRepo
from tools.kubernetes import KubeClient
from tools.result import ToolCallEvent

# Pod-level faults of the catalogue on the sample app that shows each of them.
CASES = {
    "oom": "shop/deploy/joke-service",
    "bad_image": "shop/deploy/web-api",
    "missing_env": "shop/deploy/web-api",
    "bad_command": "shop/deploy/worker",
    "readiness_probe": "shop/deploy/web-api",
    "unschedulable": "shop/deploy/web-api",
}


@pytest.fixture
def sandbox(tmp_path) -> Iterator[Sandbox]:
    with Sandbox(workdir=tmp_path / "sb", seed=21, background=False) as sb:
        sb.wait_healthy(timeout=30)
        yield sb


def _symptomatic(sb: Sandbox, app: str) -> bool:
    pods, _ = sb.store.list(PODS, "shop", copy=False)
    for pod in pods:
        if not pod["metadata"]["name"].startswith(f"{app}-"):
            continue
        status = pod.get("status") or {}
        if status.get("phase") == "Pending" and any(
            c.get("reason") == "Unschedulable" for c in status.get("conditions") or []
        ):
            return True
        for cs in status.get("containerStatuses") or []:
            waiting = (cs.get("state") or {}).get("waiting") or {}
            if cs.get("restartCount", 0) >= 2 or waiting.get("reason") in (
                "ImagePullBackOff",
                "ErrImagePull",
            ):
                return True
            if (cs.get("state") or {}).get("running") and not cs.get("ready"):
                return True
    return False


@pytest.mark.parametrize("fault_type", sorted(CASES))
def test_rules_name_the_injected_root_cause(sandbox: Sandbox, fault_type: str) -> None:
    fault = sandbox.inject(fault_type, CASES[fault_type])
    app = fault.target.name
    assert sandbox.wait_for(lambda: _symptomatic(sandbox, app), 900), f"{fault_type} never showed"
    sandbox.advance(120)

    calls: list[ToolCallEvent] = []
    kube = KubeClient.from_config(str(sandbox.kubeconfig_path))
    target = WorkloadRef(namespace="shop", name=app)
    evidence = gather_evidence(Sources(kube, LocalGitRepo(sandbox.repo_path), calls.append), target)
    assert not [g for g in evidence.gaps if not g.startswith("git")], evidence.gaps
    assert calls and all(c.status.value == "ok" for c in calls), [c.summary for c in calls]

    incident = Incident(
        id=f"inc-{fault_type}",
        fingerprint=fingerprint(target, fault_type),
        target=target,
        trigger=Trigger.WATCHER,
        reason=fault_type,
    )
    diagnosis = RulesReasoner().diagnose(incident, evidence).diagnosis
    assert diagnosis.category is RootCause(fault.truth.category.value), diagnosis.explanation
    assert diagnosis.confidence >= 0.5
    assert set(diagnosis.cited_evidence) <= evidence.ids()
