"""Anomaly detection as pure functions over Kubernetes objects as the API server sends them (dicts).

Nothing here does I/O or keeps state: the caller passes the current time, the policy and, where a
condition needs a memory (restarts in a window, "unavailable since"), what it has observed. Bad or
partial objects never raise; they simply yield no finding.

A `Detection` may carry `recheck_at`: a condition that only counts once a grace period has passed
(Running but not Ready, unavailable replicas) is not an anomaly yet, and no watch event will arrive
when the grace period ends, so the caller re-evaluates the object at that moment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from agent.domain import WorkloadRef
from tools.boundary import redact_text

# Canonical reasons: the fingerprint is built from these, so variants of one failure share a reason.
OOM_KILLED = "OOMKilled"
CRASH_LOOP = "CrashLoopBackOff"
IMAGE_PULL = "ImagePullBackOff"
CONFIG_ERROR = "CreateContainerConfigError"
CREATE_ERROR = "CreateContainerError"
RUN_ERROR = "RunContainerError"
FREQUENT_RESTARTS = "FrequentRestarts"
NOT_READY = "NotReady"
UNSCHEDULABLE = "Unschedulable"
EVICTED = "Evicted"
UNAVAILABLE_REPLICAS = "UnavailableReplicas"
APPLICATION_DEGRADED = "ApplicationDegraded"
SYNC_FAILED = "SyncFailed"
KUSTOMIZATION_NOT_READY = "KustomizationNotReady"

# Most specific first: when one pod shows several, the first is what the incident is about.
PRIORITY = (
    OOM_KILLED,
    CONFIG_ERROR,
    IMAGE_PULL,
    CREATE_ERROR,
    RUN_ERROR,
    CRASH_LOOP,
    UNSCHEDULABLE,
    EVICTED,
    FREQUENT_RESTARTS,
    NOT_READY,
    UNAVAILABLE_REPLICAS,
    SYNC_FAILED,
    APPLICATION_DEGRADED,
    KUSTOMIZATION_NOT_READY,
)

_WAITING_REASONS = {
    "CrashLoopBackOff": CRASH_LOOP,
    "ImagePullBackOff": IMAGE_PULL,
    "ErrImagePull": IMAGE_PULL,
    "ErrImageNeverPull": IMAGE_PULL,
    "InvalidImageName": IMAGE_PULL,
    "CreateContainerConfigError": CONFIG_ERROR,
    "CreateContainerError": CREATE_ERROR,
    "RunContainerError": RUN_ERROR,
    "OOMKilled": OOM_KILLED,
}
_WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")


@dataclass(frozen=True)
class DetectPolicy:
    """Thresholds the detectors apply."""

    grace_seconds: float = 60.0
    restart_threshold: int = 3
    restart_window_seconds: float = 600.0

    def __post_init__(self) -> None:
        if self.grace_seconds < 0 or self.restart_threshold < 1 or self.restart_window_seconds <= 0:
            raise ValueError("grace must be >= 0, restart threshold >= 1 and restart window > 0")


@dataclass(frozen=True)
class Finding:
    """One anomaly on one object. `target` is None for pods: the caller resolves the owning workload.

    The watcher reads the cluster's objects itself (watch streams), not through a tool, so the
    message is redacted here, where every detector's finding is made, as `tools.boundary` redacts
    what the tools answer: a detector cannot forget it."""

    reason: str
    message: str
    target: WorkloadRef | None = None
    container: str | None = None
    # Facts about related objects the detector read (agent.incident_labels keys), set as labels.
    labels: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "message", redact_text(self.message))


@dataclass(frozen=True)
class Detection:
    """What an object shows now, most specific finding first, and when to look again if it may change."""

    findings: tuple[Finding, ...] = ()
    recheck_at: datetime | None = None

    def __bool__(self) -> bool:
        return bool(self.findings)


NOTHING = Detection()


# -- small, forgiving accessors ----------------------------------------------------------------


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Mapping[str, Any]]:
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, Mapping)]


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 timestamp as an aware datetime; None when absent or malformed."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def condition(obj: Mapping[str, Any], type_: str) -> Mapping[str, Any] | None:
    """The status condition of a type, if present."""
    for cond in _list(_map(obj.get("status")).get("conditions")):
        if cond.get("type") == type_:
            return cond
    return None


def one_line(text: object, limit: int = 300) -> str:
    """`text` on one line, redacted, cut to `limit` characters (not a string: empty).

    Redacted before the cut: a secret cut in half might no longer look like one to the `Finding`."""
    flat = " ".join(redact_text(text).split()) if isinstance(text, str) else ""
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def sort_findings(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Most specific reason first (see PRIORITY), duplicates of a reason and target dropped."""
    rank = {reason: i for i, reason in enumerate(PRIORITY)}
    unique: dict[tuple[str, WorkloadRef | None], Finding] = {}
    for finding in findings:
        unique.setdefault((finding.reason, finding.target), finding)
    return tuple(sorted(unique.values(), key=lambda f: rank.get(f.reason, len(rank))))


# -- pods ---------------------------------------------------------------------------------------


def _container_finding(status: Mapping[str, Any]) -> Finding | None:
    name = _str(status.get("name")) or None
    state = _map(status.get("state"))
    waiting = _map(state.get("waiting"))
    terminated = _map(state.get("terminated"))
    last = _map(_map(status.get("lastState")).get("terminated"))
    label = f"container {name}" if name else "a container"

    if terminated.get("reason") == "OOMKilled" or (waiting and last.get("reason") == "OOMKilled"):
        limit_note = f" (exit code {last.get('exitCode', terminated.get('exitCode', 137))})"
        return Finding(OOM_KILLED, f"{label} was OOMKilled{limit_note}", container=name)
    reason = _str(waiting.get("reason"))
    canonical = _WAITING_REASONS.get(reason)
    if canonical is None:
        return None
    detail = one_line(_str(waiting.get("message")))
    message = f"{label} is waiting: {reason}" + (f": {detail}" if detail else "")
    return Finding(canonical, message, container=name)


def _all_container_statuses(status: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return _list(status.get("initContainerStatuses")) + _list(status.get("containerStatuses"))


def restart_total(pod: Mapping[str, Any]) -> int:
    """The sum of restartCount over the pod's containers (init containers included)."""
    total = 0
    for status in _all_container_statuses(_map(pod.get("status"))):
        count = status.get("restartCount")
        if isinstance(count, int) and not isinstance(count, bool) and count > 0:
            total += count
    return total


def detect_pod(pod: Mapping[str, Any], now: datetime, policy: DetectPolicy) -> Detection:
    """Container failures, eviction, unschedulable, and Running-but-not-Ready beyond the grace period.

    Restart counts over a window need memory across events; see `restart_finding`.
    """
    if not isinstance(pod, Mapping):
        return NOTHING
    metadata = _map(pod.get("metadata"))
    if metadata.get("deletionTimestamp"):
        return NOTHING  # a pod on its way out is not an anomaly
    status = _map(pod.get("status"))
    phase = _str(status.get("phase"))
    if phase == "Succeeded":
        return NOTHING
    if phase == "Failed" and status.get("reason") == "Evicted":
        message = one_line(_str(status.get("message"))) or "the pod was evicted"
        return Detection((Finding(EVICTED, message),))

    findings = [f for s in _all_container_statuses(status) if (f := _container_finding(s)) is not None]
    if phase == "Pending":
        scheduled = condition(pod, "PodScheduled")
        if scheduled and scheduled.get("status") == "False" and scheduled.get("reason") == "Unschedulable":
            message = one_line(_str(scheduled.get("message"))) or "no node can run the pod"
            findings.append(Finding(UNSCHEDULABLE, message))
    if findings:
        return Detection(sort_findings(findings))

    if phase != "Running":
        return NOTHING
    ready = condition(pod, "Ready")
    if not ready or ready.get("status") != "False":
        return NOTHING
    since = parse_time(ready.get("lastTransitionTime")) or parse_time(status.get("startTime"))
    if since is None:
        return NOTHING
    due = since + timedelta(seconds=policy.grace_seconds)
    if now < due:
        return Detection(recheck_at=due)
    unready = [_str(s.get("name")) for s in _list(status.get("containerStatuses")) if s.get("ready") is False]
    which = ", ".join(n for n in unready if n) or "its containers"
    waited = int((now - since).total_seconds())
    return Detection((Finding(NOT_READY, f"Running but not Ready for {waited}s ({which} not ready)"),))


def restart_finding(restarts_in_window: int, policy: DetectPolicy) -> Finding | None:
    """A finding when the restarts seen within the window reach the threshold."""
    if restarts_in_window < policy.restart_threshold:
        return None
    window = int(policy.restart_window_seconds)
    return Finding(FREQUENT_RESTARTS, f"{restarts_in_window} container restarts in the last {window}s")


# -- deployments -------------------------------------------------------------------------------


def unavailable_since(deployment: Mapping[str, Any]) -> datetime | None:
    """When the Deployment's Available condition turned False, if it is False."""
    available = condition(deployment, "Available")
    if available and available.get("status") == "False":
        return parse_time(available.get("lastTransitionTime"))
    return None


def detect_deployment(
    deployment: Mapping[str, Any], now: datetime, policy: DetectPolicy, first_seen: datetime | None = None
) -> Detection:
    """`unavailableReplicas > 0` for longer than the grace period.

    The condition starts at the Available=False transition when there is one, else at
    `first_seen`: when the caller first saw unavailable replicas (a stuck rolling update keeps
    Available=True while new pods never become ready).
    """
    if not isinstance(deployment, Mapping):
        return NOTHING
    spec, status = _map(deployment.get("spec")), _map(deployment.get("status"))
    if spec.get("paused") is True:
        return NOTHING
    unavailable = status.get("unavailableReplicas")
    if not isinstance(unavailable, int) or isinstance(unavailable, bool) or unavailable <= 0:
        return NOTHING
    candidates = [t for t in (unavailable_since(deployment), first_seen) if t is not None]
    since = min(candidates) if candidates else now
    due = since + timedelta(seconds=policy.grace_seconds)
    if now < due:
        return Detection(recheck_at=due)
    wanted = spec.get("replicas") if isinstance(spec.get("replicas"), int) else "?"
    waited = int((now - since).total_seconds())
    message = f"{unavailable} of {wanted} replicas unavailable for {waited}s"
    progressing = condition(deployment, "Progressing")
    if progressing and progressing.get("reason") == "ProgressDeadlineExceeded":
        message += f"; {one_line(_str(progressing.get('message')))}"
    return Detection((Finding(UNAVAILABLE_REPLICAS, message),))


# -- GitOps ------------------------------------------------------------------------------------


def _ref_of(obj: Mapping[str, Any], kind: str) -> WorkloadRef | None:
    metadata = _map(obj.get("metadata"))
    namespace, name = _str(metadata.get("namespace")), _str(metadata.get("name"))
    if not namespace or not name:
        return None
    return WorkloadRef(namespace=namespace, kind=kind, name=name)


def detect_application(app: Mapping[str, Any]) -> Detection:
    """Argo CD `Application`: health Degraded (aimed at each degraded workload it manages) or sync failed."""
    if not isinstance(app, Mapping):
        return NOTHING
    own = _ref_of(app, "Application")
    if own is None:
        return NOTHING
    status = _map(app.get("status"))
    findings: list[Finding] = []
    operation = _map(status.get("operationState"))
    if operation.get("phase") in ("Failed", "Error"):
        detail = one_line(_str(operation.get("message"))) or "no message"
        findings.append(Finding(SYNC_FAILED, f"sync {operation.get('phase')}: {detail}", own))
    health = _map(status.get("health"))
    if health.get("status") == "Degraded":
        app_namespace = _str(_map(_map(app.get("spec")).get("destination")).get("namespace"))
        for resource in _list(status.get("resources")):
            rhealth = _map(resource.get("health"))
            kind, name = _str(resource.get("kind")), _str(resource.get("name"))
            namespace = _str(resource.get("namespace")) or app_namespace
            if (
                rhealth.get("status") != "Degraded"
                or kind not in _WORKLOAD_KINDS
                or not name
                or not namespace
            ):
                continue
            detail = one_line(_str(rhealth.get("message"))) or "Degraded"
            target = WorkloadRef(namespace=namespace, kind=kind, name=name)
            findings.append(Finding(APPLICATION_DEGRADED, f"Application {own.name}: {detail}", target))
        if not any(f.reason == APPLICATION_DEGRADED for f in findings):
            detail = one_line(_str(health.get("message"))) or "health Degraded"
            findings.append(Finding(APPLICATION_DEGRADED, f"Application {own.name}: {detail}", own))
    return Detection(sort_findings(findings))


def detect_kustomization(kustomization: Mapping[str, Any]) -> Detection:
    """Flux `Kustomization`: Ready=False (Unknown means reconciling); suspended ones are skipped."""
    if not isinstance(kustomization, Mapping):
        return NOTHING
    own = _ref_of(kustomization, "Kustomization")
    if own is None or _map(kustomization.get("spec")).get("suspend") is True:
        return NOTHING
    ready = condition(kustomization, "Ready")
    if not ready or ready.get("status") != "False":
        return NOTHING
    reason = _str(ready.get("reason")) or "NotReady"
    detail = one_line(_str(ready.get("message")))
    return Detection((Finding(KUSTOMIZATION_NOT_READY, f"{reason}: {detail}" if detail else reason, own),))
