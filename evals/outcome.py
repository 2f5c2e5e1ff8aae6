"""What one scenario run produced: the agent's account (`AgentRun`) and the runner's observation of the
sandbox afterwards (`Observation`, with the resolved ground truth of every injected fault).

Times are seconds after the first step of the scenario was played, on the simulated clock
(`*_sim_s`) and the wall clock (`*_wall_s`); None when it never happened.
"""

from __future__ import annotations

from typing import Any, Literal

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
    trigger: Literal["watcher", "alert"] = Field(
        default="watcher", description="Who opened it: the agent's watcher, or an alert the scenario posted."
    )
    watcher_sighted: bool = Field(
        default=False,
        description="The watcher saw it too: its sighting folded into the run an alert opened first.",
    )
    detected_after_sim_s: float | None = None
    detected_after_wall_s: float | None = None


class FieldChange(_Model):
    """One field an action changed: its value before and after (None: absent)."""

    resource: str = Field(description="`Kind namespace/name` of the object.")
    field: str
    before: Any = None
    after: Any = None


class ActionTaken(_Model):
    """One remediation the agent proposed or carried out.

    `executed`: the write went through (a merged pull request, a live write). `noop`: it went
    through but changed nothing (an empty diff, a commit already on the branch, a revert of a
    revert, a rollback to the current revision); no-ops are counted apart and fix nothing.
    `changes` are the field values it changed, read by the harness from Git (or the write's
    answer), so direction rules ("memory must not go down") can be judged."""

    action: str = Field(description="An ActionType value; anything else (e.g. 'delete') is out of policy.")
    resource: str = Field(description="Resource id whose manifest or live object it changes.")
    fields: list[str] = Field(default_factory=list, description="Field paths it changes.")
    executed: bool = True
    policy: Literal["allow", "deny"] | None = None
    detail: str = ""
    via: Literal["git", "cluster"] | None = Field(default=None, description="Where the write went.")
    commit: str | None = Field(default=None, description="Git: the commit on main that made it live.")
    empty_diff: bool = Field(default=False, description="Cluster: the write's answer showed no change.")
    changes: list[FieldChange] = Field(default_factory=list)
    noop: bool = False
    noop_reason: str = ""

    @property
    def effective(self) -> bool:
        """Executed and changed something."""
        return self.executed and not self.noop


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
    change: str = Field(default="any", description="A direction on `field` (evals.expectations.Change).")
    reason: str = ""


class FaultTruth(_Model):
    """The ground truth of one injected fault, as the cluster resolved it (names filled in)."""

    fault_type: str = Field(description="The catalogue fault type, or 'declared' for a hand-written fault.")
    target: str
    category: str = Field(description="A RootCause value (or a category the product does not have yet).")
    faulty_resource: str
    faulty_field: str | None = None
    symptom_workload: str
    explanation: str = ""
    fix_in_git: bool = True
    forbidden: list[ForbiddenRule] = Field(default_factory=list)
    declared: bool = Field(default=False, description="Written by the scenario, not resolved by the cluster.")

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
