"""A Service that serves nothing: its selector matches no pod, the workload behind it is scaled to
zero, or every pod it selects has been unready past the grace period. Pure functions, like `detect`.

The endpoint controller derives a Service's endpoints from the pods its selector matches and their
Ready condition; this detector reads the same evidence (pods and Deployments of the namespace) so it
needs no Endpoints/EndpointSlice stream, and works the same on a cluster that does not serve them.

Not an anomaly: a Service without a selector (its endpoints are managed by hand or by another
controller), an ExternalName Service, a Service younger than the grace period, pods still rolling
out within the grace period.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from agent.domain import WorkloadRef
from server.watcher.detect import NOTHING, Detection, DetectPolicy, Finding, condition, parse_time

SELECTOR_MATCHES_NOTHING = "ServiceSelectorMatchesNothing"
SCALED_TO_ZERO = "ScaledToZero"
NO_READY_ENDPOINTS = "NoReadyEndpoints"


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _labels(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return _map(_map(obj.get("metadata")).get("labels"))


def selects(selector: Mapping[str, Any], labels: Mapping[str, Any]) -> bool:
    """Whether a Service's equality selector matches these labels (a Service selector is a plain map)."""
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def service_selector(service: Mapping[str, Any]) -> dict[str, str] | None:
    """The selector of a Service the endpoint controller manages, or None when it manages none."""
    spec = _map(service.get("spec"))
    if spec.get("type") == "ExternalName":
        return None
    selector = spec.get("selector")
    if not isinstance(selector, Mapping) or not selector:
        return None  # no selector: endpoints are set by hand (or by another controller)
    return {str(k): str(v) for k, v in selector.items()}


def _serving(pod: Mapping[str, Any]) -> bool:
    """A pod that is (or may become) an endpoint: not finished, not being deleted."""
    if _map(pod.get("metadata")).get("deletionTimestamp"):
        return False
    return _map(pod.get("status")).get("phase") not in ("Succeeded", "Failed")


def _ready(pod: Mapping[str, Any]) -> bool:
    ready = condition(pod, "Ready")
    return ready is not None and ready.get("status") == "True"


def _unready_since(pod: Mapping[str, Any]) -> datetime | None:
    ready = condition(pod, "Ready")
    since = parse_time(ready.get("lastTransitionTime")) if ready is not None else None
    return since or parse_time(_map(pod.get("metadata")).get("creationTimestamp"))


def _selector_text(selector: Mapping[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(selector.items()))


def _template_labels(deployment: Mapping[str, Any]) -> Mapping[str, Any]:
    return _labels(_map(_map(deployment.get("spec")).get("template")))


def _backing(selector: Mapping[str, str], deployments: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The Deployments whose pod template the selector matches."""
    return [d for d in deployments if selects(selector, _template_labels(d))]


def _scaled_to_zero(
    selector: Mapping[str, str], deployments: Iterable[Mapping[str, Any]]
) -> Mapping[str, Any] | None:
    """A Deployment at 0 replicas whose pod template the selector matches."""
    for deployment in deployments:
        spec = _map(deployment.get("spec"))
        template_labels = _labels(_map(spec.get("template")))
        if spec.get("replicas") == 0 and selects(selector, template_labels):
            return deployment
    return None


def detect_service(
    service: Mapping[str, Any],
    pods: Iterable[Mapping[str, Any]],
    deployments: Iterable[Mapping[str, Any]],
    now: datetime,
    policy: DetectPolicy,
) -> Detection:
    """Findings for a Service, given the pods and Deployments of its namespace."""
    if not isinstance(service, Mapping):
        return NOTHING
    metadata = _map(service.get("metadata"))
    namespace, name = metadata.get("namespace"), metadata.get("name")
    selector = service_selector(service)
    if not isinstance(namespace, str) or not isinstance(name, str) or not namespace or not name:
        return NOTHING
    if selector is None:
        return NOTHING
    created = parse_time(metadata.get("creationTimestamp")) or now
    due = created + timedelta(seconds=policy.grace_seconds)
    matched = [p for p in pods if _serving(p) and selects(selector, _labels(p))]
    if any(_ready(p) for p in matched):
        return NOTHING
    grace = timedelta(seconds=policy.grace_seconds)
    deployments = list(deployments)
    if matched:
        # Backends exist but none is Ready: an anomaly once the newest of them has been unready past grace.
        since = [s for s in (_unready_since(p) for p in matched) if s is not None]
        latest = max([created, *since])
        if now < latest + grace:
            return Detection(recheck_at=latest + grace)
        # Aimed at the Deployment behind the pods when there is one, so it folds into that workload's
        # own incident (NotReady, UnavailableReplicas) instead of opening a second one.
        backing = _backing(selector, deployments)
        owner = _map(backing[0].get("metadata")).get("name") if len(backing) == 1 else None
        if isinstance(owner, str) and owner:
            target = WorkloadRef(namespace=namespace, kind="Deployment", name=owner)
        else:
            target = WorkloadRef(namespace=namespace, kind="Service", name=name)
        message = (
            f"Service {name} selects {len(matched)} pod(s) ({_selector_text(selector)}) and none is Ready"
        )
        return Detection((Finding(NO_READY_ENDPOINTS, message, target),))
    if now < due:
        return Detection(recheck_at=due)
    zero = _scaled_to_zero(selector, deployments)
    if zero is not None:
        zero_name = _map(zero.get("metadata")).get("name")
        if isinstance(zero_name, str) and zero_name:
            target = WorkloadRef(namespace=namespace, kind="Deployment", name=zero_name)
            message = (
                f"spec.replicas is 0, so Service {name} (selector {_selector_text(selector)}) "
                "has no endpoints"
            )
            return Detection((Finding(SCALED_TO_ZERO, message, target),))
    if _backing(selector, deployments):
        # A Deployment that wants pods and has none (rolling out, scaling up, failing to create
        # them) is its own detectors' business (UnavailableReplicas), not the Service's.
        return NOTHING
    target = WorkloadRef(namespace=namespace, kind="Service", name=name)
    message = (
        f"spec.selector {_selector_text(selector)} matches no pod, and no Deployment's pod template "
        "carries these labels; the Service has no endpoints"
    )
    return Detection((Finding(SELECTOR_MATCHES_NOTHING, message, target),))
