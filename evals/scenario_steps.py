"""The steps of a scenario, each exactly one thing done to the cluster before the agent starts.

- `inject`: a catalogue fault (its ground truth comes from the cluster), with an optional commit
  message of the scenario's own wording;
- `commit`: a raw change to the GitOps repository (manifest patches or whole files): a red
  herring, a new app, or a fault whose ground truth the scenario writes by hand;
- `apply` / `delete`: a raw manifest written straight to the cluster (or an object deleted),
  as an operator with kubectl would: objects that are not in Git, such as Secrets;
- `log`: lines in a workload's container logs, the running instance or the last terminated one
  (`kubectl logs --previous`), once or for every later instance too (`persist`);
- `alert`: an Alertmanager alert the agent receives the way the webhook does;
- `wait`: simulated seconds.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from agent.domain import WorkloadRef

NAMESPACE = "shop"
SAMPLE_APPS: tuple[str, ...] = ("web-api", "worker", "joke-service", "postgres", "redis")
RESOURCE_PATTERN = r"^[A-Z][A-Za-z]+ ([a-z0-9-]+/)?[a-z0-9][a-z0-9.-]*$"
_DNS_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
FAULTS_CONTEXT = "faults"  # the validation-context key of the fault catalogue (fault type -> RootCause)
STEP_KINDS = ("inject", "commit", "apply", "delete", "log", "alert", "wait")


class Strict(BaseModel):
    """Frozen, and unknown keys are errors (a typo in a scenario must not pass silently)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def workload(text: str) -> WorkloadRef:
    """A workload reference; ValueError naming the text when it is not one."""
    try:
        return WorkloadRef.parse(text)
    except ValueError as exc:
        raise ValueError(f"{text!r}: {exc}") from None


def deployment_target(text: str) -> str:
    """`NS/deploy/NAME` of a Deployment in the apps' namespace (a sample app, or one a step adds)."""
    target = workload(text)
    if target.kind != "Deployment" or target.namespace != NAMESPACE or not _DNS_NAME.match(target.name):
        raise ValueError(
            f"{text!r} is not a Deployment of namespace {NAMESPACE} "
            f"(expected {NAMESPACE}/deploy/<name>, e.g. a sample app: {', '.join(SAMPLE_APPS)})"
        )
    return f"{target.namespace}/deploy/{target.name}"


class InjectStep(Strict):
    """Inject a catalogue fault (`via: git` commits it to main, so the commit is the cause)."""

    fault: str
    target: str
    via: Literal["git", "cluster"] = "git"
    message: str | None = Field(default=None, min_length=1, description="The commit's message (git only).")

    @field_validator("fault")
    @classmethod
    def _known_fault(cls, value: str, info: ValidationInfo) -> str:
        faults = info.context.get(FAULTS_CONTEXT) if isinstance(info.context, dict) else None
        if faults is not None and value not in faults:
            raise ValueError(f"unknown fault type {value!r}; known: {', '.join(sorted(faults))}")
        return value

    @field_validator("target")
    @classmethod
    def _deployment(cls, value: str) -> str:
        return deployment_target(value)

    @model_validator(mode="after")
    def _message_needs_git(self) -> InjectStep:
        if self.message is not None and self.via != "git":
            raise ValueError("a commit message needs via: git")
        return self


class ManifestPatch(Strict):
    """A strategic-merge patch of one manifest in the GitOps repository."""

    resource: str = Field(pattern=RESOURCE_PATTERN)
    patch: dict[str, Any] = Field(min_length=1)


class CommitStep(Strict):
    """A raw commit to main: manifest patches or whole files (None deletes a file)."""

    message: str = Field(min_length=1)
    patches: list[ManifestPatch] | None = Field(default=None, min_length=1)
    files: dict[str, str | None] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_change(self) -> CommitStep:
        if (self.patches is None) == (self.files is None):
            raise ValueError("a commit step needs exactly one of 'patches' or 'files'")
        return self


class ApplyStep(Strict):
    """A raw manifest created (or replaced) on the cluster, not through Git."""

    manifest: dict[str, Any] = Field(min_length=1)

    @field_validator("manifest")
    @classmethod
    def _an_object(cls, value: dict[str, Any]) -> dict[str, Any]:
        meta = value.get("metadata")
        if not isinstance(value.get("apiVersion"), str) or not isinstance(value.get("kind"), str):
            raise ValueError("a manifest needs apiVersion and kind")
        if not isinstance(meta, dict) or not isinstance(meta.get("name"), str):
            raise ValueError("a manifest needs metadata.name")
        return value


class DeleteStep(Strict):
    """Delete one live object (`Kind ns/name`), not through Git."""

    resource: str = Field(pattern=RESOURCE_PATTERN)


class LogStep(Strict):
    """Lines in the logs of a workload's pods.

    `instance: current` writes to each running container; `previous` to each container's last
    terminated instance (what `kubectl logs --previous`, or the log of a crash-looping
    container, shows). `persist` also gives the lines to every later instance: at its start
    (current) or at its exit (previous), so they survive restarts and reach new pods."""

    target: str
    lines: list[str] = Field(min_length=1)
    container: str | None = None
    instance: Literal["current", "previous"] = "current"
    persist: bool = False

    @field_validator("target")
    @classmethod
    def _deployment(cls, value: str) -> str:
        return deployment_target(value)


class AlertStep(Strict):
    """An Alertmanager alert (firing), delivered to the agent as the webhook would deliver it.

    Labels are what an alerting rule sets (`alertname`, `namespace`, `deployment`/`pod`/...);
    annotations are free text (untrusted)."""

    labels: dict[str, str] = Field(min_length=1)
    annotations: dict[str, str] = Field(default_factory=dict)

    @field_validator("labels")
    @classmethod
    def _named(cls, value: dict[str, str]) -> dict[str, str]:
        if not value.get("alertname"):
            raise ValueError("an alert needs an alertname label")
        return value

    def workload(self) -> str | None:
        """`Kind ns/name` of the workload the labels name (as the webhook maps them), if any."""
        namespace = self.labels.get("namespace", "")
        if named := self.labels.get("workload"):
            try:
                ref = WorkloadRef.parse(named, default_namespace=namespace or None)
            except ValueError:
                return None
            return f"{ref.kind} {ref.namespace}/{ref.name}"
        for label, kind in (
            ("deployment", "Deployment"),
            ("statefulset", "StatefulSet"),
            ("daemonset", "DaemonSet"),
        ):
            if namespace and (name := self.labels.get(label)):
                return f"{kind} {namespace}/{name}"
        return None


class Step(Strict):
    """Exactly one of: inject, commit, apply, delete, log, alert, wait (simulated seconds)."""

    inject: InjectStep | None = None
    commit: CommitStep | None = None
    apply: ApplyStep | None = None
    delete: DeleteStep | None = None
    log: LogStep | None = None
    alert: AlertStep | None = None
    wait: float | None = Field(default=None, gt=0, le=3600)

    @model_validator(mode="after")
    def _exactly_one(self) -> Step:
        given = [k for k in STEP_KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"a step is exactly one of {', '.join(STEP_KINDS)} (got {given or 'none'})")
        return self
