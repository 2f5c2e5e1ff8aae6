"""Errors after a rollout: the analysis step of Argo Rollouts or Flagger, done from the pods' logs.

A bad configuration value reaches pods through a rollout, and pods that fail a share of their
requests still run and pass their probes: no watch stream shows it. So when a Deployment's pod
template changes, the watcher reads the error share of the old pods' recent logs (the baseline);
when the rollout has completed and the new pods have served for a settle window, it reads theirs.
An incident (`ErrorRateAfterRollout`) opens when the new pods' share is high in absolute terms,
clearly above the baseline, and rests on a minimum number of error lines. A rollout that finished
shortly before the watcher first saw the Deployment (a watcher that just started) is checked too
when the Deployment was changed since its creation (generation above 1); it has no baseline, so
only a share far above what a healthy service logs counts. A scale is no rollout (the template
is unchanged); a Deployment at zero serves nothing to judge.

Reads are bounded (a few pods, the tail of each container's log) and happen on the rechecks
thread, never on a stream thread. Log text is untrusted: it is only counted
(`tools.evidence.error_lines`), and the one sample line an incident carries is redacted.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from agent.domain import WorkloadRef
from server.watcher.detect import Finding, condition, one_line, parse_time
from tools.evidence.error_lines import ErrorCount, count_errors
from tools.kubernetes.client import KubeClient
from tools.scan.objects import selector_matches

log = logging.getLogger(__name__)

ERROR_RATE_AFTER_ROLLOUT = "ErrorRateAfterRollout"
BASELINE, CHECK = "RolloutBaseline", "RolloutCheck"  # recheck key kinds: (kind, namespace, name)
Key = tuple[str, str, str]
Obj = dict[str, Any]


class LogReader(Protocol):
    """The last `tail_lines` lines of one container's current log (raises when it cannot be read)."""

    def __call__(self, namespace: str, pod: str, container: str, tail_lines: int) -> str: ...


def kube_log_reader(kube: KubeClient) -> LogReader:
    """Read logs through the API server (`pods/log`), bounded in lines and bytes."""

    def read(namespace: str, pod: str, container: str, tail_lines: int) -> str:
        return kube.text(
            f"logs of {namespace}/{pod}/{container}",
            kube.core.read_namespaced_pod_log,
            pod,
            namespace,
            container=container,
            tail_lines=tail_lines,
            limit_bytes=256 * 1024,
        )

    return read


@dataclass(frozen=True)
class ErrorRatePolicy:
    """When new pods' errors make an incident; the defaults suit request-serving workloads."""

    settle_seconds: float = 150.0  # traffic the new pods serve before they are judged
    lookback_seconds: float = 900.0  # a rollout found complete at first sight counts if this recent
    max_pods: int = 3
    max_containers: int = 4
    tail_lines: int = 200
    min_lines: int = 20  # fewer counted lines say nothing either way
    min_errors: int = 10
    min_share: float = 0.25  # with a baseline: at least this share of lines are errors ...
    min_rise: float = 0.2  # ... at least this many points above the baseline ...
    min_ratio: float = 2.0  # ... and at least this many times it
    min_share_unbaselined: float = 0.5  # without a baseline


def judge(before: ErrorCount | None, after: ErrorCount, policy: ErrorRatePolicy) -> bool:
    """Whether the new pods' errors are an incident (a baseline of too few lines counts as none)."""
    if after.lines < policy.min_lines or after.errors < policy.min_errors:
        return False
    if before is None or before.lines < policy.min_lines:
        return after.share >= policy.min_share_unbaselined
    return (
        after.share >= policy.min_share
        and after.share >= before.share + policy.min_rise
        and after.share >= policy.min_ratio * before.share
    )


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def template_hash(deployment: Mapping[str, Any]) -> str:
    """A digest of the pod template: it changes when a rollout starts (image, env, a checksum
    annotation bump, `kubectl rollout restart`), not when the Deployment is only scaled."""
    template = _map(deployment.get("spec")).get("template")
    return hashlib.sha256(json.dumps(template, sort_keys=True, default=str).encode()).hexdigest()


def rollout_complete(deployment: Mapping[str, Any]) -> bool:
    """Like `kubectl rollout status`: the newest template observed, every replica updated and available."""
    meta, spec, status = (_map(deployment.get(k)) for k in ("metadata", "spec", "status"))
    want = spec.get("replicas", 1)
    if not isinstance(want, int) or want < 1:
        return False  # scaled to zero serves nothing to judge
    return (
        status.get("observedGeneration", 0) >= meta.get("generation", 0)
        and status.get("updatedReplicas") == want
        and status.get("replicas") == want
        and status.get("availableReplicas") == want
    )


def completed_at(deployment: Mapping[str, Any]) -> datetime | None:
    """When the last rollout completed (the Progressing condition's NewReplicaSetAvailable update)."""
    progressing = condition(deployment, "Progressing") or {}
    if progressing.get("reason") != "NewReplicaSetAvailable":
        return None
    return parse_time(progressing.get("lastUpdateTime"))


def _changed(deployment: Mapping[str, Any]) -> bool:
    """Changed since it was created (generation 1 is its creation): only then was its last rollout
    a change that may have brought the errors, rather than the workload's first start."""
    generation = _map(deployment.get("metadata")).get("generation")
    return isinstance(generation, int) and generation > 1


def _ready(pod: Mapping[str, Any]) -> bool:
    status = _map(pod.get("status"))
    if _map(pod.get("metadata")).get("deletionTimestamp") or status.get("phase") != "Running":
        return False
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])


@dataclass
class _Track:
    template: str
    started_at: datetime | None = None  # a rollout seen starting, not yet complete
    old_pods: tuple[Obj, ...] = ()  # the pods serving when it started: the baseline
    baseline: ErrorCount | None = None
    check_at: datetime | None = None  # the settle window ends: judge then


class RolloutErrors:
    """Per Deployment: when its rollout started and completed, the baseline, the check to run."""

    def __init__(
        self,
        pods_in: Callable[[str], list[Obj]],
        read_log: LogReader,
        policy: ErrorRatePolicy | None = None,
    ) -> None:
        self._pods_in = pods_in
        self._read_log = read_log
        self.policy = policy or ErrorRatePolicy()
        self._tracks: dict[Key, _Track] = {}
        self._lock = threading.Lock()

    def observe(self, key: Key, deployment: Obj, now: datetime) -> list[tuple[Key, datetime]]:
        """A Deployment event: the rechecks to schedule (a baseline to read now, a check to run later)."""
        digest, complete = template_hash(deployment), rollout_complete(deployment)
        due: list[tuple[Key, datetime]] = []
        with self._lock:
            track = self._tracks.get(key)
            if track is None:  # first sight: a rollout under way, or one that completed recently
                track = self._tracks[key] = _Track(digest, started_at=None if complete else now)
                done = completed_at(deployment) if complete and _changed(deployment) else None
                if done is not None and now - done <= timedelta(seconds=self.policy.lookback_seconds):
                    track.check_at = max(now, done + timedelta(seconds=self.policy.settle_seconds))
                    due.append(((CHECK, *key[1:]), track.check_at))
            elif digest != track.template:  # a new rollout: the old pods are still serving
                old = tuple(self._serving(deployment))  # kept: read even if the watcher lags behind
                self._tracks[key] = track = _Track(digest, started_at=now, old_pods=old)
                due.append(((BASELINE, *key[1:]), now))
            if track.started_at is not None and complete:
                track.check_at = now + timedelta(seconds=self.policy.settle_seconds)
                track.started_at = None
                due.append(((CHECK, *key[1:]), track.check_at))
        return due

    def forget(self, key: Key) -> None:
        """The Deployment is gone."""
        with self._lock:
            self._tracks.pop(key, None)

    def pending(self) -> int:
        """Checks waiting for their settle window to end (work the watcher has not done yet)."""
        with self._lock:
            return sum(track.check_at is not None for track in self._tracks.values())

    def due(self, key: Key, deployment: Obj | None, now: datetime) -> tuple[Finding | None, datetime | None]:
        """Run a baseline read or a check whose time has come: a finding, if the check found errors,
        and when to look again (a check whose settle window moved on, e.g. a rollout that began
        while an earlier check was scheduled: the rechecks keep one time per key)."""
        workload: Key = ("Deployment", key[1], key[2])
        with self._lock:
            track = self._tracks.get(workload)
            if track is None or deployment is None or track.template != template_hash(deployment):
                return None, None  # gone, or another rollout began: it has its own baseline and check
            if key[0] == BASELINE:
                pods = list(track.old_pods)
            elif track.check_at is None:
                return None, None
            elif track.check_at > now:
                return None, track.check_at
            else:  # run once: pods failing now are the pod detectors' to report
                track.check_at = None
                if not rollout_complete(deployment):
                    return None, None
                old = {_uid(pod) for pod in track.old_pods}
                pods = [pod for pod in self._serving(deployment) if _uid(pod) not in old]
        namespace = str(_map(deployment.get("metadata")).get("namespace") or "")
        count, read = self._read(namespace, pods)
        if key[0] == BASELINE:
            with self._lock:
                if self._tracks.get(workload) is track:
                    track.baseline = count if read else None
            return None, None
        if not judge(track.baseline, count, self.policy):
            return None, None
        target = WorkloadRef(namespace=key[1], kind="Deployment", name=key[2])
        return Finding(ERROR_RATE_AFTER_ROLLOUT, _message(track.baseline, count, read), target=target), None

    def _serving(self, deployment: Obj) -> list[Obj]:
        """The workload's ready pods as the watcher last saw them, newest first."""
        meta = _map(deployment.get("metadata"))
        selector = _map(deployment.get("spec")).get("selector")
        pods = []
        for pod in self._pods_in(str(meta.get("namespace") or "")):
            labels = _map(_map(pod.get("metadata")).get("labels"))
            if _ready(pod) and selector_matches(selector, {str(k): str(v) for k, v in labels.items()}):
                pods.append(pod)
        return sorted(pods, key=_created, reverse=True)

    def _read(self, namespace: str, pods: list[Obj]) -> tuple[ErrorCount, int]:
        """The error count of the first `max_pods` pods' logs, and how many pods could be read."""
        total, read = ErrorCount(), 0
        for pod in pods[: self.policy.max_pods]:
            name = str(_map(pod.get("metadata")).get("name"))
            containers = [c for c in _map(pod.get("spec")).get("containers") or [] if isinstance(c, Mapping)]
            counted = False
            for container in containers[: self.policy.max_containers]:
                try:
                    text = self._read_log(namespace, name, str(container.get("name")), self.policy.tail_lines)
                except Exception as exc:  # a log that cannot be read is left out of the count
                    log.debug("reading the log of %s/%s failed: %s", namespace, name, exc)
                    continue
                total, counted = total + count_errors(text.splitlines()[-self.policy.tail_lines :]), True
            read += counted
        return total, read


def _uid(pod: Mapping[str, Any]) -> str:
    meta = _map(pod.get("metadata"))
    return str(meta.get("uid") or meta.get("name") or "")


def _created(pod: Mapping[str, Any]) -> float:
    created = parse_time(_map(pod.get("metadata")).get("creationTimestamp"))
    return created.timestamp() if created is not None else 0.0


def _pct(count: ErrorCount) -> str:
    return f"{count.share:.0%} ({count.errors} of {count.lines} lines)"


def _message(before: ErrorCount | None, after: ErrorCount, pods: int) -> str:
    """The incident's summary: error shares before and after and one sample line (redacted)."""
    baseline = (
        f"{_pct(before)} before it"
        if before is not None and before.lines
        else "no baseline (the rollout completed before it was seen)"
    )
    sample = one_line(after.sample, 240)
    return f"error lines since the rollout: {_pct(after)} in the newest {pods} ready pod(s), {baseline}" + (
        f"; e.g. {sample}" if sample else ""
    )
