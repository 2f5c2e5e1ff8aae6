"""A typed, read-only view over `Evidence` for the rules: observations (see `readings`), the
revisions that matter, and the live manifest of the target."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cached_property
from typing import Any, TypeVar

from agent.domain import Evidence, EvidenceItem, EvidenceKind
from agent.reasoners.rules import fields, readings
from agent.reasoners.rules.observations import (
    CommitObs,
    ContainerObs,
    EventObs,
    LogObs,
    ManifestObs,
    MetricObs,
    NodeObs,
    PodObs,
    RolloutObs,
    ServiceObs,
    WorkloadObs,
    find_container,
)
from tools.evidence.item_data import AnyStatusData, as_count, read_status

_Obs = TypeVar("_Obs")

_REVERTS_SHA = re.compile(r"This reverts commit ([0-9a-f]{7,40})", re.IGNORECASE)
_REVERT_TITLE = re.compile(r'^Revert "(?P<title>.+)"\s*$')


def _revert_target(commit: CommitObs, older: list[CommitObs]) -> CommitObs | None:
    """The older commit `commit` reverts, when it is a revert of one of them."""
    match = _REVERTS_SHA.search(commit.message)
    if match:
        sha = match.group(1)
        return next((c for c in older if c.sha.startswith(sha) or sha.startswith(c.sha)), None)
    title = _REVERT_TITLE.match((commit.message.splitlines() or [""])[0])
    if title:
        return next((c for c in older if (c.message.splitlines() or [""])[0] == title.group("title")), None)
    return None


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
    def _statuses(self) -> list[tuple[EvidenceItem, AnyStatusData]]:
        return [(item, read_status(item.data)) for item in self.evidence.of_kind(EvidenceKind.STATUS)]

    def _read_statuses(self, reading: Callable[[EvidenceItem, AnyStatusData], _Obs | None]) -> list[_Obs]:
        """What `reading` makes of each STATUS item, the items it does not apply to left out."""
        return [obs for item, data in self._statuses if (obs := reading(item, data)) is not None]

    def _read_items(self, kind: EvidenceKind, reading: Callable[[EvidenceItem], _Obs | None]) -> list[_Obs]:
        """What `reading` makes of each item of `kind`, in gathering order, those it rejects left out."""
        return [obs for item in self.evidence.of_kind(kind) if (obs := reading(item)) is not None]

    @cached_property
    def containers(self) -> list[ContainerObs]:
        """Container statuses of the target's pods (structured, else recognised in status text)."""
        return [c for item, data in self._statuses for c in readings.containers(item, data)]

    @cached_property
    def pods(self) -> list[PodObs]:
        """Pod-level status (phase, reason, conditions)."""
        return self._read_statuses(readings.pod)

    @cached_property
    def workloads(self) -> list[WorkloadObs]:
        """Workload STATUS items (the target and, possibly, its dependencies)."""
        return self._read_statuses(readings.workload)

    def workload(self, name: str) -> WorkloadObs | None:
        """The workload STATUS item with that name."""
        return next((w for w in self.workloads if w.name == name), None)

    @cached_property
    def nodes(self) -> list[NodeObs]:
        """Node STATUS items."""
        return self._read_statuses(readings.node)

    @cached_property
    def services(self) -> list[ServiceObs]:
        """Service STATUS items (the target, when a Service is investigated)."""
        return self._read_statuses(readings.service)

    @cached_property
    def events(self) -> list[EventObs]:
        """Events, in gathering order."""
        return self._read_items(EvidenceKind.EVENT, readings.event)

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
        out = self._read_items(EvidenceKind.LOG, readings.log)
        return sorted(out, key=lambda log: not log.previous)

    @cached_property
    def metrics(self) -> list[MetricObs]:
        """Metric summaries."""
        return self._read_items(EvidenceKind.METRIC, readings.metric)

    @cached_property
    def manifests(self) -> list[ManifestObs]:
        """Related objects' manifests (ConfigMaps, Secrets' key lists, Services)."""
        return self._read_items(EvidenceKind.MANIFEST, readings.manifest)

    @cached_property
    def commits(self) -> list[CommitObs]:
        """Recent commits, newest first (the gatherer's order)."""
        return self._read_items(EvidenceKind.COMMIT, readings.commit)

    @cached_property
    def reverted_by(self) -> dict[str, str]:
        """Commit sha -> the sha of the later commit that reverted it (`This reverts commit`, or the
        `Revert "<title>"` title Git writes)."""
        out: dict[str, str] = {}
        commits = self.commits  # newest first
        for i, commit in enumerate(commits):
            target = _revert_target(commit, commits[i + 1 :])
            if target is not None and target.sha not in out:
                out[target.sha] = commit.sha
        return out

    @cached_property
    def live_commits(self) -> list[CommitObs]:
        """The commits whose change still holds, newest first: a commit and its revert cancel out (a
        revert that was itself reverted cancels nothing: the change is back)."""
        cancelled: set[str] = set()
        for reverted, reverting in self.reverted_by.items():
            if reverting not in self.reverted_by:
                cancelled |= {reverted, reverting}
            else:
                cancelled.add(reverting)
        return [c for c in self.commits if c.sha not in cancelled]

    def suspect_commit(self, pattern: re.Pattern[str]) -> CommitObs | None:
        """The newest commit still in effect whose diff adds or removes a line matching `pattern`
        (never one already reverted, nor a revert: reverting those again changes nothing or brings the
        fault back)."""
        return next((c for c in self.live_commits if c.changes(pattern)), None)

    @cached_property
    def rollouts(self) -> list[RolloutObs]:
        """Revisions, oldest first."""
        return sorted(self._read_items(EvidenceKind.ROLLOUT, readings.rollout), key=lambda r: r.revision)

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
        """The pod spec of the live manifest (`spec.template.spec`; a bare Pod's `spec`, a CronJob's
        `spec.jobTemplate.spec.template.spec`), or {}."""
        spec: Any = self.evidence.manifest or {}
        for key in ("spec", *fields.pod_template_keys(self.target.kind)):
            spec = spec.get(key) if isinstance(spec, dict) else None
        return spec if isinstance(spec, dict) else {}

    def container_spec(self, name: str) -> dict[str, Any] | None:
        """The named container of the live manifest."""
        return find_container(self.pod_spec, name)

    def container_names(self) -> list[str]:
        """Container names of the live manifest, else of the statuses."""
        names = [c.get("name") for c in self.pod_spec.get("containers") or [] if isinstance(c, dict)]
        found = [n for n in names if isinstance(n, str) and n]
        return found or list(dict.fromkeys(c.name for c in self.containers if c.name))

    def desired_replicas(self) -> tuple[int | None, str | None]:
        """The target's desired replicas and the id of the item that says so (None for the manifest)."""
        own = self.workload(self.target.name)
        if own is not None and own.replicas is not None:
            return own.replicas, own.item_id
        manifest = self.evidence.manifest or {}
        replicas = as_count(manifest.get("spec", {}).get("replicas")) if isinstance(manifest, dict) else None
        return replicas, None

    def failing_now(self) -> bool:
        """True when the target fails right now: a container waiting, not ready or terminated in error,
        a pod pending, failed or evicted, fewer ready replicas than desired, or zero desired. Restarts
        alone do not count: a container that restarted once and has run fine since is healthy."""
        for c in self.containers:
            if c.init and c.terminated_reason == "Completed":
                continue
            if c.waiting_reason or c.ready is False or c.terminated_reason not in ("", "Completed"):
                return True
        if any(p.phase in ("Pending", "Failed") or p.reason for p in self.pods):
            return True
        own = self.workload(self.target.name)
        if own is not None and own.replicas is not None:
            return own.replicas == 0 or (own.ready_replicas or 0) < own.replicas
        return False

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
