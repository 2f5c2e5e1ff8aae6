"""A typed, read-only view over `Evidence` for the rules: structured `data` first, `text` second.

Gatherers fill `EvidenceItem.data` as `agent.evidence_conventions` describes; when a key is absent
the view falls back to recognising the same fact in the item's text (kubelet and controller wording),
so the rules work on both well-structured and bare evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from agent.domain import Evidence, EvidenceItem, EvidenceKind

_WAITING_REASONS = (
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "InvalidImageName",
    "ErrImageNeverPull",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
    "ContainerCreating",
)
_TERMINATED_REASONS = ("OOMKilled", "StartError", "ContainerCannotRun", "Error", "Completed")
_EXIT_CODE = re.compile(r"exit(?:ed)?[ _]?(?:code|status)[\s:=]*(\d{1,3})", re.IGNORECASE)
_RESTARTS = re.compile(r"restart(?:s|Count|_count)?[\s:=]+(\d+)", re.IGNORECASE)


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _float(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


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
    pod: str
    phase: str = ""
    reason: str = ""
    message: str = ""
    node: str = ""
    conditions: tuple[dict[str, Any], ...] = ()

    def condition(self, kind: str) -> dict[str, Any] | None:
        """The condition of that type, if shown."""
        return next((c for c in self.conditions if c.get("type") == kind), None)


@dataclass(frozen=True)
class WorkloadObs:
    """A Deployment's (or other workload's) replica counts."""

    item_id: str
    name: str
    replicas: int | None = None
    ready_replicas: int | None = None
    available_replicas: int | None = None


@dataclass(frozen=True)
class NodeObs:
    """A node's allocatable resources, conditions and taints."""

    item_id: str
    node: str
    allocatable: dict[str, str] = field(default_factory=dict)
    conditions: tuple[dict[str, Any], ...] = ()
    taints: tuple[dict[str, Any], ...] = ()

    def pressures(self) -> list[str]:
        """The pressure conditions that are True, e.g. ['MemoryPressure']."""
        return [
            str(c.get("type"))
            for c in self.conditions
            if str(c.get("type", "")).endswith("Pressure") and str(c.get("status")) == "True"
        ]


@dataclass(frozen=True)
class EventObs:
    """A Kubernetes event."""

    item_id: str
    reason: str
    message: str
    type: str = ""
    count: int = 1
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
    """A related object's manifest, e.g. a ConfigMap."""

    item_id: str
    kind: str
    name: str
    keys: tuple[str, ...] = ()
    manifest: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CommitObs:
    """A recent commit in the GitOps repository."""

    item_id: str
    sha: str
    message: str = ""
    diff: str = ""
    files: tuple[str, ...] = ()
    date: str = ""

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
    change_cause: str = ""

    def container(self, name: str) -> dict[str, Any] | None:
        """The named container of this revision's template."""
        return _find_container(self.template.get("spec", {}), name)


def _find_container(pod_spec: Any, name: str) -> dict[str, Any] | None:
    if not isinstance(pod_spec, dict):
        return None
    for container in pod_spec.get("containers") or []:
        if isinstance(container, dict) and container.get("name") == name:
            return container
    return None


def _tuple_of_dicts(value: Any) -> tuple[dict[str, Any], ...]:
    return tuple(v for v in value if isinstance(v, dict)) if isinstance(value, list) else ()


def _first_reason(text: str, reasons: tuple[str, ...]) -> str:
    return next((r for r in reasons if r in text), "")


class EvidenceView:
    """Parsed evidence: containers, pods, events, logs, metrics, manifests, commits, rollouts."""

    def __init__(self, evidence: Evidence) -> None:
        self.evidence = evidence
        self.target = evidence.target
        self._ids = evidence.ids()

    def has(self, item_id: str) -> bool:
        """True when the id names an item of this evidence."""
        return item_id in self._ids

    @cached_property
    def containers(self) -> list[ContainerObs]:
        """Container statuses of the target's pods (structured, else recognised in status text)."""
        out: list[ContainerObs] = []
        for item in self.evidence.of_kind(EvidenceKind.STATUS):
            kind = _str(item.data.get("object_kind"))
            if kind and kind != "Pod":
                continue
            statuses = item.data.get("containers")
            if isinstance(statuses, list) and statuses:
                out.extend(self._container_from_data(item, c) for c in statuses if isinstance(c, dict))
            elif not kind and not item.data:
                out.append(self._container_from_text(item))
        return out

    @staticmethod
    def _container_from_data(item: EvidenceItem, data: dict[str, Any]) -> ContainerObs:
        ready = data.get("ready")
        return ContainerObs(
            item_id=item.id,
            pod=_str(item.data.get("pod")) or item.source,
            name=_str(data.get("name")),
            ready=ready if isinstance(ready, bool) else None,
            restart_count=_int(data.get("restart_count")) or 0,
            waiting_reason=_str(data.get("waiting_reason")),
            waiting_message=_str(data.get("waiting_message")),
            terminated_reason=_str(data.get("terminated_reason")),
            last_terminated_reason=_str(data.get("last_terminated_reason")),
            last_terminated_message=_str(data.get("last_terminated_message")),
            exit_code=_int(data.get("exit_code")),
        )

    @staticmethod
    def _container_from_text(item: EvidenceItem) -> ContainerObs:
        text = item.text
        exit_code = _EXIT_CODE.search(text)
        restarts = _RESTARTS.search(text)
        return ContainerObs(
            item_id=item.id,
            pod=item.source,
            name="",
            waiting_reason=_first_reason(text, _WAITING_REASONS),
            waiting_message=text,
            last_terminated_reason=_first_reason(text, _TERMINATED_REASONS),
            exit_code=int(exit_code.group(1)) if exit_code else None,
            restart_count=int(restarts.group(1)) if restarts else 0,
        )

    @cached_property
    def pods(self) -> list[PodObs]:
        """Pod-level status (phase, reason, conditions)."""
        out = []
        for item in self.evidence.of_kind(EvidenceKind.STATUS):
            kind = _str(item.data.get("object_kind"))
            if kind == "Pod" or (not kind and "pod" in item.data):
                out.append(
                    PodObs(
                        item_id=item.id,
                        pod=_str(item.data.get("pod")) or item.source,
                        phase=_str(item.data.get("phase")),
                        reason=_str(item.data.get("reason")),
                        message=_str(item.data.get("message")),
                        node=_str(item.data.get("node")),
                        conditions=_tuple_of_dicts(item.data.get("conditions")),
                    )
                )
        return out

    @cached_property
    def workloads(self) -> list[WorkloadObs]:
        """Workload STATUS items (the target and, possibly, its dependencies)."""
        out = []
        for item in self.evidence.of_kind(EvidenceKind.STATUS):
            if _str(item.data.get("object_kind")) in ("Deployment", "StatefulSet", "DaemonSet"):
                out.append(
                    WorkloadObs(
                        item_id=item.id,
                        name=_str(item.data.get("name")),
                        replicas=_int(item.data.get("replicas")),
                        ready_replicas=_int(item.data.get("ready_replicas")),
                        available_replicas=_int(item.data.get("available_replicas")),
                    )
                )
        return out

    def workload(self, name: str) -> WorkloadObs | None:
        """The workload STATUS item with that name."""
        return next((w for w in self.workloads if w.name == name), None)

    @cached_property
    def nodes(self) -> list[NodeObs]:
        """Node STATUS items."""
        out = []
        for item in self.evidence.of_kind(EvidenceKind.STATUS):
            if _str(item.data.get("object_kind")) == "Node":
                alloc = item.data.get("allocatable")
                out.append(
                    NodeObs(
                        item_id=item.id,
                        node=_str(item.data.get("node")) or item.source,
                        allocatable={str(k): str(v) for k, v in alloc.items()}
                        if isinstance(alloc, dict)
                        else {},
                        conditions=_tuple_of_dicts(item.data.get("conditions")),
                        taints=_tuple_of_dicts(item.data.get("taints")),
                    )
                )
        return out

    @cached_property
    def events(self) -> list[EventObs]:
        """Events; without structured data the whole text is the message."""
        out = []
        for item in self.evidence.of_kind(EvidenceKind.EVENT):
            data = item.data
            out.append(
                EventObs(
                    item_id=item.id,
                    reason=_str(data.get("reason")),
                    message=_str(data.get("message")) or item.text,
                    type=_str(data.get("type")),
                    count=_int(data.get("count")) or 1,
                    involved_kind=_str(data.get("involved_kind")),
                    involved_name=_str(data.get("involved_name")),
                )
            )
        return out

    def events_matching(self, pattern: re.Pattern[str], reasons: tuple[str, ...] = ()) -> list[EventObs]:
        """Events whose message matches `pattern` (and, when given, whose reason is one of `reasons`)."""
        return [
            e
            for e in self.events
            if pattern.search(e.message) and (not reasons or not e.reason or e.reason in reasons)
        ]

    @cached_property
    def logs(self) -> list[LogObs]:
        """Log tails, previous (crashed) instances first: they hold the reason for a crash."""
        out = [
            LogObs(
                item_id=item.id,
                text=item.text,
                pod=_str(item.data.get("pod")),
                container=_str(item.data.get("container")),
                previous=item.data.get("previous") is True or item.id.endswith(":previous"),
            )
            for item in self.evidence.of_kind(EvidenceKind.LOG)
        ]
        return sorted(out, key=lambda log: not log.previous)

    @cached_property
    def metrics(self) -> list[MetricObs]:
        """Metric summaries."""
        out = []
        for item in self.evidence.of_kind(EvidenceKind.METRIC):
            data = item.data
            samples = data.get("samples")
            out.append(
                MetricObs(
                    item_id=item.id,
                    name=_str(data.get("name")) or item.source,
                    container=_str(data.get("container")),
                    value=_float(data.get("value")),
                    max=_float(data.get("max")),
                    limit=_float(data.get("limit")),
                    previous=_float(data.get("previous")),
                    samples=tuple(v for v in (_float(s) for s in samples) if v is not None)
                    if isinstance(samples, list)
                    else (),
                )
            )
        return out

    @cached_property
    def manifests(self) -> list[ManifestObs]:
        """Related objects' manifests (ConfigMaps, Secrets' key lists, Services)."""
        out = []
        for item in self.evidence.of_kind(EvidenceKind.MANIFEST):
            data = item.data
            manifest = data.get("manifest") if isinstance(data.get("manifest"), dict) else {}
            keys = data.get("keys")
            if not isinstance(keys, list) and isinstance(manifest.get("data"), dict):
                keys = list(manifest["data"])
            out.append(
                ManifestObs(
                    item_id=item.id,
                    kind=_str(data.get("object_kind")) or _str(manifest.get("kind")),
                    name=_str(data.get("name")) or _str(manifest.get("metadata", {}).get("name")),
                    keys=tuple(str(k) for k in keys) if isinstance(keys, list) else (),
                    manifest=manifest,
                )
            )
        return out

    @cached_property
    def commits(self) -> list[CommitObs]:
        """Recent commits, newest first (the gatherer's order)."""
        out = []
        for item in self.evidence.of_kind(EvidenceKind.COMMIT):
            data = item.data
            files = data.get("files")
            out.append(
                CommitObs(
                    item_id=item.id,
                    sha=_str(data.get("sha")) or item.id.removeprefix("commit:"),
                    message=_str(data.get("message")) or (item.text.splitlines() or [""])[0],
                    diff=_str(data.get("diff")) or item.text,
                    files=tuple(str(f) for f in files) if isinstance(files, list) else (),
                    date=_str(data.get("date")),
                )
            )
        return out

    def suspect_commit(self, pattern: re.Pattern[str]) -> CommitObs | None:
        """The newest commit whose diff adds or removes a line matching `pattern`."""
        return next((c for c in self.commits if c.changes(pattern)), None)

    @cached_property
    def rollouts(self) -> list[RolloutObs]:
        """Revisions, oldest first."""
        out = []
        for item in self.evidence.of_kind(EvidenceKind.ROLLOUT):
            revision = _int(item.data.get("revision"))
            template = item.data.get("template")
            if revision is None:
                continue
            out.append(
                RolloutObs(
                    item_id=item.id,
                    revision=revision,
                    template=template if isinstance(template, dict) else {},
                    current=item.data.get("current") is True,
                    change_cause=_str(item.data.get("change_cause")),
                )
            )
        return sorted(out, key=lambda r: r.revision)

    @cached_property
    def current_revision(self) -> RolloutObs | None:
        """The revision running now: the one flagged current, else the newest."""
        flagged = [r for r in self.rollouts if r.current]
        return flagged[-1] if flagged else (self.rollouts[-1] if self.rollouts else None)

    @cached_property
    def previous_revision(self) -> RolloutObs | None:
        """The newest revision older than the current one."""
        current = self.current_revision
        if current is None:
            return None
        older = [r for r in self.rollouts if r.revision < current.revision]
        return older[-1] if older else None

    # The live manifest of the target workload.

    @cached_property
    def pod_spec(self) -> dict[str, Any]:
        """`spec.template.spec` of the live manifest, or {}."""
        manifest = self.evidence.manifest or {}
        if not isinstance(manifest, dict):
            return {}
        spec = manifest.get("spec", {}).get("template", {}).get("spec", {})
        return spec if isinstance(spec, dict) else {}

    def container_spec(self, name: str) -> dict[str, Any] | None:
        """The named container of the live manifest."""
        return _find_container(self.pod_spec, name)

    def container_names(self) -> list[str]:
        """Container names of the live manifest, else of the statuses."""
        names = [c.get("name") for c in self.pod_spec.get("containers") or [] if isinstance(c, dict)]
        names = [n for n in names if isinstance(n, str) and n]
        return names or list(dict.fromkeys(c.name for c in self.containers if c.name))

    def desired_replicas(self) -> tuple[int | None, str | None]:
        """The target's desired replicas and the id of the item that says so (None for the manifest)."""
        own = self.workload(self.target.name)
        if own is not None and own.replicas is not None:
            return own.replicas, own.item_id
        manifest = self.evidence.manifest or {}
        replicas = _int(manifest.get("spec", {}).get("replicas")) if isinstance(manifest, dict) else None
        return replicas, None

    def unhealthy(self) -> bool:
        """True when anything shows the target failing: waiting or crashed containers, not-ready pods,
        pending or failed pods, or fewer ready replicas than desired."""
        for c in self.containers:
            if c.waiting_reason or c.restart_count > 0 or c.ready is False or c.terminated_reason:
                return True
        if any(p.phase in ("Pending", "Failed") or p.reason for p in self.pods):
            return True
        own = self.workload(self.target.name)
        if own is not None and own.replicas is not None:
            return own.replicas == 0 or (own.ready_replicas or 0) < own.replicas
        return False
