"""The API's request and response bodies (the stored `RunRecord` and `IncidentRecord` are reused as is)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from agent.trace import TraceEvent
from server.runstore import RunStatus

# Kubernetes names: DNS-1123 subdomain (workloads) and label (namespaces).
_NAME = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"
_NAMESPACE = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"


class ErrorBody(BaseModel):
    """Every 4xx/5xx this API answers itself: what went wrong, in words."""

    detail: str


class TriggerRequest(BaseModel):
    """A manual trigger: investigate (and, as the mode allows, heal) one workload."""

    model_config = ConfigDict(extra="forbid")

    namespace: str = Field(min_length=1, max_length=63, pattern=_NAMESPACE)
    kind: str = Field(default="Deployment", pattern=r"^(Deployment|StatefulSet|DaemonSet|Job)$")
    name: str = Field(min_length=1, max_length=253, pattern=_NAME)
    reason: str = Field(default="ManualTrigger", min_length=1, max_length=200)
    summary: str = Field(default="", max_length=2000)


class TriggerResponse(BaseModel):
    """The run that will handle the trigger: a new one, or the workload's active run it folded into."""

    run_id: str
    incident_id: str | None = Field(description="The incident the run handles (an open one it folded into).")
    status: RunStatus
    new: bool = Field(description="False when the trigger folded into a run already active for the workload.")
    url: str = Field(description="Where to follow the run.")


class AnswerRequest(BaseModel):
    """A human's answer to a run waiting for approval."""

    model_config = ConfigDict(extra="forbid")

    by: str = Field(min_length=1, max_length=200, description="Who answers (kept in the audit trail).")
    comment: str = Field(default="", max_length=2000)


class AnswerResponse(BaseModel):
    """The run after the answer was handed to it."""

    run_id: str
    approved: bool
    status: RunStatus


class AnswerConflict(BaseModel):
    """The run is not waiting for approval (already answered, or never asked): nothing was changed."""

    detail: str
    status: RunStatus


class RunTrace(BaseModel):
    """A run's full trace, ordered by `seq`."""

    run_id: str
    status: RunStatus
    inlined: bool = Field(description="True when blob references were replaced by their content.")
    events: list[TraceEvent]


class Health(BaseModel):
    """Liveness: the process answers."""

    status: str = "ok"


class Check(BaseModel):
    """One readiness check."""

    ok: bool
    detail: str = ""


class Readiness(BaseModel):
    """Readiness: every dependency the server needs, checked now."""

    ready: bool
    checks: dict[str, Check]
