"""A HorizontalPodAutoscaler pinned at its ceiling: it runs `maxReplicas` and wants more.

`status.currentReplicas == spec.maxReplicas` with `status.desiredReplicas` above it (or the
`ScalingLimited` condition saying `TooManyReplicas`) means the load outgrew the ceiling; once that
has lasted past the grace period (from the condition's transition) it is an anomaly of the scale
target. An HPA at its maximum that wants exactly that many is busy, not pinned. Pure, like `detect`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from agent.domain import WorkloadRef
from server.watcher.detect import NOTHING, Detection, DetectPolicy, Finding, condition, parse_time

HPA_AT_MAX = "HPAAtMaxReplicas"
_SCALABLE = ("Deployment", "StatefulSet", "ReplicaSet")


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def detect_hpa(hpa: Mapping[str, Any], now: datetime, policy: DetectPolicy) -> Detection:
    """A finding on the HPA's scale target when it has been pinned at maxReplicas past the grace period."""
    if not isinstance(hpa, Mapping):
        return NOTHING
    metadata, spec, status = _map(hpa.get("metadata")), _map(hpa.get("spec")), _map(hpa.get("status"))
    namespace, name = metadata.get("namespace"), metadata.get("name")
    ref = _map(spec.get("scaleTargetRef"))
    kind, target_name = ref.get("kind"), ref.get("name")
    maximum, current = _int(spec.get("maxReplicas")), _int(status.get("currentReplicas"))
    desired = _int(status.get("desiredReplicas"))
    if not (isinstance(namespace, str) and namespace and isinstance(name, str) and name):
        return NOTHING
    if kind not in _SCALABLE or not isinstance(target_name, str) or not target_name:
        return NOTHING
    if maximum is None or current is None or current < maximum:
        return NOTHING
    limited = condition(hpa, "ScalingLimited")
    too_many = (
        limited is not None and limited.get("status") == "True" and limited.get("reason") == "TooManyReplicas"
    )
    if not ((desired is not None and desired > maximum) or too_many):
        return NOTHING
    since = parse_time((limited or {}).get("lastTransitionTime")) or parse_time(status.get("lastScaleTime"))
    if since is not None and now < since + timedelta(seconds=policy.grace_seconds):
        return Detection(recheck_at=since + timedelta(seconds=policy.grace_seconds))
    above = desired is not None and desired > maximum
    wants = f"wants {desired}" if above else "is limited (TooManyReplicas)"
    message = f"HorizontalPodAutoscaler {name} runs {current} = maxReplicas {maximum} and {wants}"
    target = WorkloadRef(namespace=namespace, kind=str(kind), name=target_name)
    return Detection((Finding(HPA_AT_MAX, message, target),))
