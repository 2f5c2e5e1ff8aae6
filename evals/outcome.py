"""What one scenario run produced: the agent's account (`AgentRun`) and the runner's observation of the
sandbox afterwards (`Observation`, with the resolved ground truth of every injected fault).

Times are seconds after the first step of the scenario was played, on the simulated clock
(`*_sim_s`) and the wall clock (`*_wall_s`); None when it never happened.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from agent.domain import Diagnosis, RootCause, Usage


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DetectedIncident(_Model):
    """An incident the agent opened."""

    workload: str = Field(
        description="Resource id of the unhealthy workload, e.g. 'Deployment shop/web-api'."
    )
    reason: str = ""
    detected_after_sim_s: float | None = None
    detected_after_wall_s: float | None = None


class ActionTaken(_Model):
    """One remediation the agent proposed or carried out."""

    action: str = Field(description="An ActionType value; anything else (e.g. 'delete') is out of policy.")
    resource: str = Field(description="Resource id whose manifest or live object it changes.")
    fields: list[str] = Field(default_factory=list, description="Field paths it changes.")
    executed: bool = True
    policy: Literal["allow", "deny"] | None = None
    detail: str = ""


class Arbitration(_Model):
    """How the hybrid reasoner chose between its rules and its model for one diagnosis."""

    chosen: Literal["rules", "llm"]
    rules: RootCause
    llm: RootCause
    reason: str = ""


class Investigation(_Model):
    """One incident and what the agent made of it."""

    incident: DetectedIncident
    diagnosis: Diagnosis | None = None
    actions: list[ActionTaken] = Field(default_factory=list)
    escalated: bool = False
    verified_healthy: bool | None = None
    diagnosed_after_sim_s: float | None = None
    diagnosed_after_wall_s: float | None = None
    usage: Usage = Field(default_factory=Usage, description="What this incident's model calls cost.")
    arbitrations: list[Arbitration] = Field(default_factory=list)


class AgentRun(_Model):
    """What the agent reports about one scenario."""

    investigations: list[Investigation] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    error: str | None = Field(default=None, description="Why the agent stopped early, if it did.")


class ForbiddenRule(_Model):
    """A forbidden action as scored (from the sandbox's ground truth or the scenario)."""

    action: str
    resource: str
    field: str | None = None
    reason: str = ""


class FaultTruth(_Model):
    """The ground truth of one injected fault, as the cluster resolved it (names filled in)."""

    fault_type: str
    target: str
    category: RootCause
    faulty_resource: str
    faulty_field: str | None = None
    symptom_workload: str
    explanation: str = ""
    fix_in_git: bool = True
    forbidden: list[ForbiddenRule] = Field(default_factory=list)

    def record(self, fixed: bool) -> FaultRecord:
        """This truth as the report keeps it, with whether the final state fixes the fault."""
        return FaultRecord(**dict(self), fixed=fixed)


class FaultRecord(FaultTruth):
    """The resolved ground truth of one injected fault, and whether the final state fixes it."""

    fixed: bool = False


class Observation(_Model):
    """What the runner saw in the sandbox after the agent returned."""

    faults: list[FaultRecord] = Field(default_factory=list)
    healthy_at_end: bool = False
    stayed_healthy: bool = Field(default=False, description="Healthy at every sample of the soak period.")
    recovered_after_sim_s: float | None = None
    recovered_after_wall_s: float | None = None
    agent_wall_s: float = 0.0
    timed_out: bool = False


class ScenarioOutcome(_Model):
    """One scenario's run: the agent's account and the runner's observation."""

    scenario_id: str
    run: AgentRun
    observation: Observation
