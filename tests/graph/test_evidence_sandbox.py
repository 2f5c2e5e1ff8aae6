"""Evidence gathered from the sandbox over HTTP, then the offline rules: the right root cause per fault.

The reasoner sees only what a real cluster and Git would show; the sandbox's ground truth is used
only to check the answer.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agent.domain import RootCause, WorkloadRef
from agent.reasoners.rules import RulesReasoner
from graph.evidence_gathering import Sources, gather_evidence
from sandbox.cluster import Sandbox
from tests.incidents import make_incident
from tests.sample_repo import seeded
from tests.sandbox.test_cluster import CASES as FAULT_CASES
from tests.sandbox.test_cluster import View, observed, workload_of
from tools.gitops.local import LocalGitRepo
from tools.kubernetes import KubeClient
from tools.result import ToolCallEvent

# Every fault of the catalogue, on the sample app the sandbox's own fault tests use for it.
CASES = {name: target for name, (target, _) in FAULT_CASES.items()}
# Simulated seconds between looks for the symptoms (each look is a few API reads over HTTP); the
# evidence is gathered 120 s after they showed, so seeing them up to 10 s later changes nothing.
STEP = 10.0


@pytest.fixture
def sandbox(tmp_path) -> Iterator[Sandbox]:
    with Sandbox(workdir=seeded(tmp_path / "sb"), seed=21, background=False) as sb:
        sb.wait_healthy(timeout=30)
        yield sb


@pytest.mark.e2e
@pytest.mark.parametrize("fault_type", sorted(CASES))
def test_rules_name_the_injected_root_cause(sandbox: Sandbox, fault_type: str) -> None:
    fault = sandbox.inject(fault_type, CASES[fault_type])
    view = View(sandbox)
    assert sandbox.wait_for(lambda: not observed(view, fault.truth.symptoms), 900, step=STEP), (
        f"{fault_type} never showed"
    )
    sandbox.advance(120)
    # The incident is about the workload that shows the symptoms (for dependency_down: the dependant).
    _, app = workload_of(sandbox, fault.truth.symptoms.workload)

    calls: list[ToolCallEvent] = []
    kube = KubeClient.from_config(str(sandbox.kubeconfig_path))
    target = WorkloadRef(namespace="shop", name=app)
    evidence = gather_evidence(Sources(kube, LocalGitRepo(sandbox.repo_path), calls.append), target)
    assert not [g for g in evidence.gaps if not g.startswith("git")], evidence.gaps
    assert calls and all(c.status.value == "ok" for c in calls), [c.summary for c in calls]

    incident = make_incident(target, fault_type, id=f"inc-{fault_type}")
    diagnosis = RulesReasoner().diagnose(incident, evidence).diagnosis
    assert diagnosis.category is RootCause(fault.truth.category.value), diagnosis.explanation
    assert diagnosis.confidence >= 0.5
    assert set(diagnosis.cited_evidence) <= evidence.ids()
