"""What the rules read off the evidence: one small, typed, citable observation per fact.

Each observation keeps the id of the item it came from, so a finding can cite it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tools.evidence.item_data import ConditionData
from tools.scan.objects import selector_matches


@dataclass(frozen=True)
class ContainerObs:
    """One container's status, from a pod STATUS item."""

    item_id: str
    pod: str
    name: str
    ready: bool | None = None
    restart_count: int = 0
    waiting_reason: str = ""
    waiting_message: str = ""
    terminated_reason: str = ""
    last_terminated_reason: str = ""
    last_terminated_message: str = ""
    exit_code: int | None = None
    init: bool = False

    @property
    def reasons(self) -> set[str]:
        """Every reason this container shows (waiting, terminated, last terminated)."""
        return {r for r in (self.waiting_reason, self.terminated_reason, self.last_terminated_reason) if r}

    @property
    def messages(self) -> str:
        """The waiting and termination messages, joined."""
        return " ".join(m for m in (self.waiting_message, self.last_terminated_message) if m)


@dataclass(frozen=True)
class PodObs:
    """A pod's phase, reason and conditions."""

    item_id: str
    phase: str = ""
    reason: str = ""
    message: str = ""
    node: str = ""
    conditions: tuple[ConditionData, ...] = ()

    def condition(self, kind: str) -> ConditionData | None:
        """The condition of that type, if shown."""
        return next((c for c in self.conditions if c.type == kind), None)


@dataclass(frozen=True)
class WorkloadObs:
    """A Deployment's (or other workload's) replica counts."""

    item_id: str
    name: str
    replicas: int | None = None
    ready_replicas: int | None = None


@dataclass(frozen=True)
class ServiceObs:
    """A Service: its selector, and the pods of its namespace with their labels and readiness."""

    item_id: str
    name: str
    selector: dict[str, str] = field(default_factory=dict)
    pods: tuple[tuple[str, dict[str, str], bool], ...] = ()  # (pod, labels, ready)

    def matching(self, selector: dict[str, str]) -> list[str]:
        """The pods `selector` (this Service's, or an earlier one) would select."""
        return [name for name, labels, _ in self.pods if selector_matches(selector, labels)]

    def ready_matching(self, selector: dict[str, str]) -> list[str]:
        """The ready pods `selector` would select."""
        return [name for name, labels, ready in self.pods if ready and selector_matches(selector, labels)]


@dataclass(frozen=True)
class NodeObs:
    """A node's allocatable resources and conditions."""

    item_id: str
    node: str
    allocatable: dict[str, str] = field(default_factory=dict)
    conditions: tuple[ConditionData, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    unschedulable: bool = False

    def pressures(self) -> list[str]:
        """The pressure conditions that are True, e.g. ['MemoryPressure']."""
        return [c.type for c in self.conditions if c.type.endswith("Pressure") and c.status == "True"]


@dataclass(frozen=True)
class EventObs:
    """A Kubernetes event."""

    item_id: str
    reason: str
    message: str
    involved_kind: str = ""
    involved_name: str = ""


@dataclass(frozen=True)
class LogObs:
    """A container log tail."""

    item_id: str
    text: str
    pod: str = ""
    container: str = ""
    previous: bool = False


@dataclass(frozen=True)
class MetricObs:
    """A summarised metric series."""

    item_id: str
    name: str
    container: str = ""
    value: float | None = None
    max: float | None = None
    limit: float | None = None
    previous: float | None = None
    samples: tuple[float, ...] = ()

    @property
    def peak(self) -> float | None:
        """The highest value seen: `max`, else the samples' max, else `value`."""
        candidates = [v for v in (self.max, self.value, *self.samples) if v is not None]
        return max(candidates) if candidates else None


@dataclass(frozen=True)
class ManifestObs:
    """A related object's manifest, e.g. a ConfigMap: its kind, name and keys."""

    item_id: str
    kind: str
    name: str
    keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class CommitObs:
    """A recent commit in the GitOps repository."""

    item_id: str
    sha: str
    message: str = ""
    diff: str = ""
    files: tuple[str, ...] = ()

    def changed_lines(self) -> list[str]:
        """Added and removed lines of the diff, with their +/- marker."""
        return [
            line
            for line in self.diff.splitlines()
            if line[:1] in "+-" and not line.startswith(("+++", "---"))
        ]

    def changes(self, pattern: re.Pattern[str]) -> bool:
        """True when an added or removed line matches `pattern` (matched without the marker)."""
        return any(pattern.search(line[1:]) for line in self.changed_lines())


@dataclass(frozen=True)
class RolloutObs:
    """One revision of the workload."""

    item_id: str
    revision: int
    template: dict[str, Any] = field(default_factory=dict)
    current: bool = False
    replicas: int | None = None  # pods of this revision now (None: not shown)
    ready_replicas: int | None = None

    @property
    def serving(self) -> bool:
        """True when pods of this revision are ready now: it is known to work."""
        return (self.ready_replicas or 0) > 0

    @property
    def failing(self) -> bool:
        """True when this revision has pods now and none of them is ready."""
        return (self.replicas or 0) > 0 and self.ready_replicas == 0

    @property
    def pod_spec(self) -> dict[str, Any]:
        """This revision's pod spec, or {}."""
        spec = self.template.get("spec")
        return spec if isinstance(spec, dict) else {}

    def container(self, name: str) -> dict[str, Any] | None:
        """The named container of this revision's template."""
        return find_container(self.template.get("spec", {}), name)


def find_container(pod_spec: Any, name: str) -> dict[str, Any] | None:
    """The named container of a pod spec, or None."""
    if not isinstance(pod_spec, dict):
        return None
    for container in pod_spec.get("containers") or []:
        if isinstance(container, dict) and container.get("name") == name:
            return container
    return None
