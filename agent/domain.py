"""Domain schemas shared by the reasoners, the graph and the API: incidents, evidence, diagnoses.

These are pydantic models because they cross edges: into prompts, out of model answers
(validated structured output), into the run store and over the API.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, TypeAdapter, field_validator


class RootCause(StrEnum):
    """The fixed root-cause taxonomy: the sandbox fault catalogue's categories plus `unknown`."""

    OOM = "oom"
    BAD_IMAGE = "bad_image"
    MISSING_ENV = "missing_env"
    MISSING_CONFIG_KEY = "missing_config_key"
    MISSING_SECRET = "missing_secret"
    BAD_COMMAND = "bad_command"
    READINESS_PROBE = "readiness_probe"
    LIVENESS_PROBE = "liveness_probe"
    UNSCHEDULABLE = "unschedulable"
    DEPENDENCY_DOWN = "dependency_down"
    BAD_CONFIG_VALUE = "bad_config_value"
    SCALED_TO_ZERO = "scaled_to_zero"
    NODE_PRESSURE = "node_pressure"
    UNKNOWN = "unknown"


class ActionType(StrEnum):
    """The allow-listed remediation actions; nothing else can ever be proposed."""

    GITOPS_PR = "gitops_pr"  # a pull request patching the workload's manifest in Git
    PATCH = "patch"  # a direct strategic-merge patch of the workload (when policy allows)
    RESTART = "restart"
    SCALE = "scale"
    ROLLBACK = "rollback"  # rollout undo to an earlier revision
    REVERT_COMMIT = "revert_commit"  # a pull request reverting a suspect commit
    NOTIFY = "notify"  # tell humans; change nothing
    NONE = "none"


class Trigger(StrEnum):
    """What started an investigation."""

    WATCHER = "watcher"
    ALERT = "alert"
    MANUAL = "manual"


class WorkloadRef(BaseModel):
    """A workload: namespace, kind and name."""

    model_config = ConfigDict(frozen=True)

    namespace: str = Field(min_length=1, max_length=253)
    kind: str = "Deployment"
    name: str = Field(min_length=1, max_length=253)

    def __str__(self) -> str:
        return f"{self.namespace}/{self.kind.lower()}/{self.name}"

    @classmethod
    def parse(cls, text: str, default_namespace: str | None = None) -> WorkloadRef:
        """Parse `ns/deploy/name`, `deploy/name` (with a default namespace) or `ns/name`."""
        kinds = {"deploy": "Deployment", "deployment": "Deployment", "deployments": "Deployment",
                 "sts": "StatefulSet", "statefulset": "StatefulSet", "statefulsets": "StatefulSet",
                 "ds": "DaemonSet", "daemonset": "DaemonSet", "daemonsets": "DaemonSet",
                 "job": "Job", "jobs": "Job", "cj": "CronJob", "cronjob": "CronJob", "cronjobs": "CronJob",
                 "po": "Pod", "pod": "Pod", "pods": "Pod",
                 # a Service is a run's subject once the run follows one (graph/policies/follow)
                 "svc": "Service", "service": "Service", "services": "Service"}  # fmt: skip
        parts = [p for p in text.strip().split("/") if p]
        if len(parts) == 3 and parts[1].lower() in kinds:
            return cls(namespace=parts[0], kind=kinds[parts[1].lower()], name=parts[2])
        if len(parts) == 2 and parts[0].lower() in kinds and default_namespace:
            return cls(namespace=default_namespace, kind=kinds[parts[0].lower()], name=parts[1])
        if len(parts) == 2 and parts[0].lower() not in kinds:
            return cls(namespace=parts[0], name=parts[1])
        raise ValueError(f"cannot parse workload {text!r}: expected NAMESPACE/deploy/NAME or deploy/NAME")


def fingerprint(target: WorkloadRef, reason: str) -> str:
    """A stable id for 'this workload failing this way': storms of pods fold into one incident."""
    raw = f"{target.namespace}|{target.kind}|{target.name}|{reason}".lower()
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


class Incident(BaseModel):
    """A workload that is unhealthy (or an alert about it), as the graph receives it."""

    id: str
    fingerprint: str
    target: WorkloadRef
    trigger: Trigger
    reason: str = Field(description="What was seen first, e.g. CrashLoopBackOff, OOMKilled, an alert name.")
    summary: str = ""
    started_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    labels: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def new(
        cls,
        target: WorkloadRef,
        trigger: Trigger,
        reason: str,
        *,
        summary: str = "",
        started_at: datetime | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> Incident:
        """A new incident with a fresh id, fingerprinted as `target` failing for `reason` (so storms fold)."""
        return cls(
            id=uuid.uuid4().hex,
            fingerprint=fingerprint(target, reason),
            target=target,
            trigger=trigger,
            reason=reason,
            summary=summary,
            started_at=started_at or datetime.now(UTC),
            labels=dict(labels or {}),
        )


class EvidenceKind(StrEnum):
    """Where a piece of evidence comes from."""

    STATUS = "status"
    EVENT = "event"
    LOG = "log"
    METRIC = "metric"
    MANIFEST = "manifest"
    COMMIT = "commit"
    ROLLOUT = "rollout"
    ALERT = "alert"
    MEMORY = "memory"  # a similar past incident from Paramedic's incident memory, and how it ended


class EvidenceItem(BaseModel):
    """One citable fact. `text` from logs, events and alerts is untrusted data, never instructions."""

    id: str = Field(description="Stable id used in citations, e.g. 'log:web-api-7d9f:app:previous'.")
    kind: EvidenceKind
    source: str = Field(description="Which object or query it came from.")
    text: str
    data: dict[str, Any] = Field(default_factory=dict)


class Evidence(BaseModel):
    """What the analyst gathered, already redacted and capped by tools/evidence."""

    target: WorkloadRef
    items: list[EvidenceItem] = Field(default_factory=list)
    manifest: dict[str, Any] | None = Field(default=None, description="The live workload manifest, cleaned.")
    gaps: list[str] = Field(default_factory=list, description="What could not be gathered, and why.")

    def of_kind(self, kind: EvidenceKind) -> list[EvidenceItem]:
        """The items of one kind, in gathering order."""
        return [item for item in self.items if item.kind is kind]

    def ids(self) -> set[str]:
        """Every citable id."""
        return {item.id for item in self.items}


Patch = dict[str, Any]  # a strategic-merge patch of the workload's manifest; containers by `name`


class _Remediation(BaseModel):
    """What every proposal carries besides its action's own fields. Policy decides whether it may be done."""

    model_config = ConfigDict(extra="forbid")

    action: ActionType  # each variant narrows it to its own value: the union's discriminator
    rationale: str = ""
    notes: dict[str, Any] = Field(
        default_factory=dict,
        description="What the reasoner noted beside the action (container, field, old and new values); "
        "shown to humans, never acted on.",
    )

    def request_parameters(self) -> dict[str, Any]:
        """The action's own parameters, named as the policy and the tools' write requests name them."""
        return {}

    def manifest_patch(self) -> Patch | None:
        """The manifest change this proposal makes, when it makes one (what Git would receive)."""
        return None


class GitOpsPullRequest(_Remediation):
    """Commit `patch` to the workload's manifest in Git and open a pull request."""

    action: Literal[ActionType.GITOPS_PR] = ActionType.GITOPS_PR
    patch: Patch

    def manifest_patch(self) -> Patch | None:
        """The patch to commit."""
        return self.patch


class DirectPatch(_Remediation):
    """Patch the live workload directly (only where policy allows direct patches)."""

    action: Literal[ActionType.PATCH] = ActionType.PATCH
    patch: Patch

    def manifest_patch(self) -> Patch | None:
        """The patch to apply."""
        return self.patch


class Restart(_Remediation):
    """`kubectl rollout restart` the workload."""

    action: Literal[ActionType.RESTART] = ActionType.RESTART


class Scale(_Remediation):
    """Set the workload's replica count (in Git when its manifest is there)."""

    action: Literal[ActionType.SCALE] = ActionType.SCALE
    replicas: StrictInt

    def request_parameters(self) -> dict[str, Any]:
        """`replicas`."""
        return {"replicas": self.replicas}

    def manifest_patch(self) -> Patch | None:
        """`spec.replicas`, so the same change can be committed to Git."""
        return {"spec": {"replicas": self.replicas}}


class Rollback(_Remediation):
    """Roll the workload back to an earlier revision (None: the previous one)."""

    action: Literal[ActionType.ROLLBACK] = ActionType.ROLLBACK
    revision: StrictInt | None = None
    patch: Patch | None = Field(
        default=None,
        description="That revision's fields restated, so the rollback can be made in Git, where a bare "
        "rollout undo would be synced away.",
    )

    def request_parameters(self) -> dict[str, Any]:
        """`revision`, when one is named."""
        return {} if self.revision is None else {"revision": self.revision}

    def manifest_patch(self) -> Patch | None:
        """The restated fields, when there are any."""
        return self.patch


class RevertCommit(_Remediation):
    """Open a pull request reverting the commit that caused the fault."""

    action: Literal[ActionType.REVERT_COMMIT] = ActionType.REVERT_COMMIT
    commit: str = Field(description="The sha (or a unique prefix) of the commit to revert.")

    def request_parameters(self) -> dict[str, Any]:
        """`commit`."""
        return {"commit": self.commit}


class Notify(_Remediation):
    """Tell humans and change nothing: the fix is out of reach or not derivable from the evidence."""

    action: Literal[ActionType.NOTIFY] = ActionType.NOTIFY


class NoAction(_Remediation):
    """Nothing to do."""

    action: Literal[ActionType.NONE] = ActionType.NONE


ProposedRemediation = Annotated[
    GitOpsPullRequest | DirectPatch | Restart | Scale | Rollback | RevertCommit | Notify | NoAction,
    Field(discriminator="action"),
]
"""What a reasoner suggests doing: one variant per `ActionType`, each with its own typed fields."""

_REMEDIATION: TypeAdapter[ProposedRemediation] = TypeAdapter(ProposedRemediation)
# The fields a proposal's action takes besides rationale, notes and patch (what `remediation_from` lifts).
_ACTION_FIELDS: dict[ActionType, tuple[str, ...]] = {
    ActionType.SCALE: ("replicas",),
    ActionType.ROLLBACK: ("revision",),
    ActionType.REVERT_COMMIT: ("commit",),
}


def remediation_from(
    action: ActionType | str,
    parameters: Mapping[str, Any] | None = None,
    patch: Patch | None = None,
    rationale: str = "",
) -> ProposedRemediation:
    """A proposal from a flat answer (a model's `{action, parameters, patch}`): the action's own
    parameters become its fields, every other parameter becomes a note; raises ValidationError when
    the result is not a valid proposal (a missing field, a value of the wrong type, a patch where the
    action takes none)."""
    parsed = ActionType(action)
    own = _ACTION_FIELDS.get(parsed, ())
    given = dict(parameters or {})
    data: dict[str, Any] = {
        "action": parsed.value,
        "rationale": rationale,
        "notes": {k: v for k, v in given.items() if k not in own},
        **{k: given[k] for k in own if k in given},
    }
    if patch is not None:
        data["patch"] = patch
    return _REMEDIATION.validate_python(data)


class Diagnosis(BaseModel):
    """The reasoner's answer: root cause, where it is, how sure, what to do."""

    category: RootCause
    explanation: str = Field(min_length=1)
    faulty_resource: str = Field(
        description="e.g. 'Deployment shop/web-api' or 'ConfigMap shop/web-api-config'."
    )
    faulty_field: str | None = Field(
        default=None,
        description="Dotted path, e.g. 'spec.template.spec.containers[app].resources.limits.memory'.",
    )
    cited_evidence: list[str] = Field(default_factory=list, description="Evidence item ids that support it.")
    confidence: float = Field(ge=0.0, le=1.0)
    remediation: ProposedRemediation | None = None
    quip: str | None = Field(default=None, description="Optional one-liner; never replaces facts.")

    @field_validator("cited_evidence")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


class Usage(BaseModel):
    """What a reasoning step cost: model requests, tokens, tool calls, and the largest single prompt
    (the context window it needed; sums do not add it up, they keep the largest)."""

    model_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    tool_calls: int = 0
    max_prompt_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            model_calls=self.model_calls + other.model_calls,
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            tool_calls=self.tool_calls + other.tool_calls,
            max_prompt_tokens=max(self.max_prompt_tokens, other.max_prompt_tokens),
        )
