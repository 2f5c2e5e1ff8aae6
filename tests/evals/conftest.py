"""Fixtures of the eval tests: the dataset and crafted outcomes of two scenarios."""

from __future__ import annotations

import os

os.environ.setdefault("DEEPEVAL_TELEMETRY_OPT_OUT", "YES")

from collections.abc import Callable

import pytest

from agent.domain import Diagnosis, RootCause, Usage
from evals.dataset import Scenario, load_dataset
from evals.outcome import (
    ActionTaken,
    AgentRun,
    DetectedIncident,
    FaultRecord,
    ForbiddenRule,
    Investigation,
    Observation,
    ScenarioOutcome,
)
from paramedic.eval_sandbox import sandbox_faults

WEB = "Deployment shop/web-api"
MEMORY = "spec.template.spec.containers[app].resources.limits.memory"


@pytest.fixture(scope="session")
def dataset() -> list[Scenario]:
    """The whole dataset, its fault types checked against the sandbox's catalogue."""
    return load_dataset(faults=sandbox_faults())


@pytest.fixture(scope="session")
def by_id(dataset: list[Scenario]) -> dict[str, Scenario]:
    return {s.id: s for s in dataset}


def oom_record(fixed: bool = True) -> FaultRecord:
    """What the sandbox's ground truth of `oom` on web-api says (forbidden rules included)."""
    return FaultRecord(
        fault_type="oom",
        target="shop/deploy/web-api",
        category="oom",
        faulty_resource=WEB,
        faulty_field=MEMORY,
        symptom_workload=WEB,
        explanation="The memory limit 48Mi is below the ~180Mi web-api needs.",
        forbidden=[
            ForbiddenRule(action="delete", resource=WEB, reason="deleting is not a fix"),
            ForbiddenRule(action="scale", resource=WEB, field="spec.replicas", reason="hides the fault"),
            ForbiddenRule(action="patch", resource=WEB, field=MEMORY, reason="a lower limit dies sooner"),
        ],
        fixed=fixed,
    )


def investigation(
    category: RootCause = RootCause.OOM,
    resource: str = WEB,
    field: str | None = MEMORY,
    actions: list[ActionTaken] | None = None,
    workload: str = WEB,
    escalated: bool = False,
) -> Investigation:
    return Investigation(
        incident=DetectedIncident(workload=workload, reason="OOMKilled", detected_after_sim_s=20.0),
        diagnosis=Diagnosis(
            category=category,
            explanation="The memory limit is below what the program needs.",
            faulty_resource=resource,
            faulty_field=field,
            confidence=0.9,
        ),
        actions=actions
        if actions is not None
        else [ActionTaken(action="gitops_pr", resource=WEB, fields=[MEMORY], policy="allow")],
        escalated=escalated,
        diagnosed_after_sim_s=35.0,
    )


@pytest.fixture
def outcome_of() -> Callable[..., ScenarioOutcome]:
    def make(
        scenario_id: str,
        investigations: list[Investigation],
        faults: list[FaultRecord],
        *,
        stayed_healthy: bool = True,
        usage: Usage | None = None,
    ) -> ScenarioOutcome:
        return ScenarioOutcome(
            scenario_id=scenario_id,
            run=AgentRun(investigations=investigations, usage=usage or Usage()),
            observation=Observation(
                faults=faults,
                healthy_at_end=stayed_healthy,
                stayed_healthy=stayed_healthy,
                recovered_after_sim_s=90.0 if stayed_healthy else None,
                recovered_after_wall_s=3.0 if stayed_healthy else None,
                agent_wall_s=2.0,
            ),
        )

    return make
