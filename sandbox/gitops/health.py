"""Health of the objects an Application manages, assessed the way Argo CD does.

A Deployment is Progressing while its rollout is under way and Degraded once it exceeds its
progress deadline; this sandbox also calls it Degraded as soon as a pod it wants is stuck in a
failure state (CrashLoopBackOff, image pull errors, config errors), because with accelerated
time waiting out the deadline only delays what the pods already say.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]

HEALTHY = "Healthy"
PROGRESSING = "Progressing"
DEGRADED = "Degraded"
SUSPENDED = "Suspended"
MISSING = "Missing"
UNKNOWN = "Unknown"
# Argo CD's ordering, best to worst: an Application is as healthy as its worst resource.
_ORDER = (HEALTHY, SUSPENDED, PROGRESSING, MISSING, DEGRADED, UNKNOWN)
FAILING_WAITING_REASONS = frozenset(
    {
        "CrashLoopBackOff",
        "ImagePullBackOff",
        "ErrImagePull",
        "InvalidImageName",
        "CreateContainerConfigError",
        "CreateContainerError",
        "RunContainerError",
    }
)


@dataclass(frozen=True)
class Health:
    """An Argo CD health status with its message."""

    status: str
    message: str = ""

    def as_dict(self) -> Obj:
        """The `{status, message}` shape Argo CD writes."""
        return {"status": self.status, "message": self.message} if self.message else {"status": self.status}


def worst(healths: Iterable[Health]) -> Health:
    """The worst of several healths (Healthy when there are none)."""
    result = Health(HEALTHY)
    for health in healths:
        if _ORDER.index(health.status) > _ORDER.index(result.status):
            result = health
    return result


def _selected(pod: Obj, match_labels: dict[str, str]) -> bool:
    labels = pod.get("metadata", {}).get("labels") or {}
    return bool(match_labels) and all(labels.get(k) == v for k, v in match_labels.items())


def _stuck_pod(pods: Iterable[Obj]) -> str | None:
    for pod in pods:
        for status in pod.get("status", {}).get("containerStatuses") or []:
            waiting = (status.get("state") or {}).get("waiting") or {}
            if waiting.get("reason") in FAILING_WAITING_REASONS:
                name = pod["metadata"]["name"]
                return f"Pod {name!r} container {status.get('name')!r} is {waiting['reason']}"
        if pod.get("status", {}).get("reason") == "Evicted":
            continue  # an evicted pod has been replaced; its replacement tells the story
    return None


def deployment_health(deployment: Obj, pods: Iterable[Obj]) -> Health:
    """Argo CD's Deployment health check, plus failing pods counting as Degraded."""
    spec = deployment.get("spec") or {}
    status = deployment.get("status") or {}
    name = deployment["metadata"]["name"]
    if spec.get("paused"):
        return Health(SUSPENDED, "Deployment is paused")
    generation = deployment["metadata"].get("generation", 1)
    if status.get("observedGeneration", 0) < generation:
        return Health(
            PROGRESSING,
            "Waiting for rollout to finish: observed deployment generation less than desired generation",
        )
    for condition in status.get("conditions") or []:
        if condition.get("type") == "Progressing" and condition.get("reason") == "ProgressDeadlineExceeded":
            return Health(DEGRADED, f"Deployment {name!r} exceeded its progress deadline")
    replicas = spec.get("replicas", 1)
    updated = status.get("updatedReplicas", 0)
    available = status.get("availableReplicas", 0)
    total = status.get("replicas", 0)
    # A rolling update keeps the old pods serving, so availability alone hides a stuck new pod.
    owned = [p for p in pods if _selected(p, (spec.get("selector") or {}).get("matchLabels") or {})]
    stuck = _stuck_pod(owned)
    if stuck:
        return Health(DEGRADED, stuck)
    if updated < replicas:
        return Health(
            PROGRESSING,
            f"Waiting for rollout to finish: {updated} out of {replicas} new replicas have been updated...",
        )
    if total > updated:
        return Health(
            PROGRESSING,
            f"Waiting for rollout to finish: {total - updated} old replicas are pending termination...",
        )
    if available < updated:
        return Health(
            PROGRESSING,
            f"Waiting for rollout to finish: {available} of {updated} updated replicas are available...",
        )
    return Health(HEALTHY)
