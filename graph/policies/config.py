"""What the remediation policy allows: actions, fields, namespaces, kinds, bounds, limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agent.config import DEFAULT_EXCLUDED_NAMESPACES, Settings
from agent.domain import ActionType
from tools.guard import DEFAULT_FIELD_ALLOW_LIST

# `kubectl rollout restart` bumps this annotation; its key has dots, so it is listed literally.
RESTART_ANNOTATION = "kubectl.kubernetes.io/restartedAt"
RESTART_ANNOTATION_FIELD = f"spec.template.metadata.annotations.{RESTART_ANNOTATION}"

DEFAULT_PROTECTED_PREFIXES = ("kube-", "openshift-")
# Kinds Paramedic may change at all; graph/policies/kinds says which actions suit each (a Job only
# through Git). A bare Pod is not listed: nothing re-creates it, so a human decides.
# A Service is changed only through Git (graph/policies/kinds): a run reaches one by following the
# workloads that depend on it, when the diagnosis blames its own field.
DEFAULT_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Service")


@dataclass(frozen=True)
class PolicyConfig:
    """The knobs of the remediation policy. Defaults are the safe baseline."""

    allowed_actions: frozenset[ActionType] = frozenset(ActionType)
    field_allow_list: tuple[str, ...] = (*DEFAULT_FIELD_ALLOW_LIST, RESTART_ANNOTATION_FIELD)
    namespaces: tuple[str, ...] = ()  # empty: any namespace that is not protected
    protected_namespaces: tuple[str, ...] = DEFAULT_EXCLUDED_NAMESPACES
    protected_prefixes: tuple[str, ...] = DEFAULT_PROTECTED_PREFIXES
    allowed_kinds: tuple[str, ...] = DEFAULT_KINDS
    min_replicas: int = 1
    max_replicas: int = 10
    # Image references a rollback may move to, by prefix; empty: only the workload's own repositories.
    allowed_registries: tuple[str, ...] = ()
    max_patch_bytes: int = 16_384
    max_patch_depth: int = 16
    max_patch_nodes: int = 400
    allow_merge: bool = False  # may the Git tools merge Paramedic's own pull requests

    def __post_init__(self) -> None:
        if self.min_replicas < 1:
            raise ValueError("min_replicas must be >= 1: scaling to zero is never a fix")
        if self.max_replicas < self.min_replicas:
            raise ValueError("max_replicas must be >= min_replicas")
        if min(self.max_patch_bytes, self.max_patch_depth, self.max_patch_nodes) < 1:
            raise ValueError("patch limits must be positive")

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> PolicyConfig:
        """The policy for the configured scope; the protected namespaces always stay protected.

        `overrides` set other fields by name (checked, as any construction, by `__post_init__`).
        """
        protected = tuple(dict.fromkeys((*DEFAULT_EXCLUDED_NAMESPACES, *settings.scope.exclude_namespaces)))
        values: dict[str, Any] = {
            "namespaces": tuple(settings.scope.namespaces),
            "protected_namespaces": protected,
            "allow_merge": settings.git.auto_merge,
        }
        values.update(overrides)
        return cls(**values)
