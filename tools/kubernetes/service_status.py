"""A Service's status as the endpoint controller derives it: its selector, and the namespace's pods
with their labels and readiness (which of them the selector picks, and which it could pick).

Read from the pods rather than from Endpoints/EndpointSlices, like the watcher's Service detector:
a Service's endpoints are the ready pods its selector matches, and the labels of the pods it does
*not* match are what tells a selector that drifted from the labels pods carry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from tools.kubernetes.client import KubeClient
from tools.kubernetes.objects import name_of, read_object
from tools.kubernetes.status import pod_status_of
from tools.result import ToolResult, TraceSink, discard
from tools.scan.objects import selector_matches

SERVICE_STATUS_TOOL = "kubernetes.service_status"
MAX_PODS = 50  # a namespace's pods shown with their labels; more says nothing new about a selector


class LabelledPod(BaseModel):
    """One pod of the Service's namespace: its labels and whether it could serve."""

    model_config = ConfigDict(frozen=True)

    name: str
    labels: dict[str, str] = {}
    ready: bool = False
    phase: str = ""
    owner: str = ""  # Kind/name of the controller


class ServiceStatus(BaseModel):
    """A Service's selector and ports, and the pods of its namespace (the selected ones and the rest)."""

    model_config = ConfigDict(frozen=True)

    namespace: str
    name: str
    type: str = "ClusterIP"
    selector: dict[str, str] = {}  # empty: endpoints are managed by hand or by another controller
    ports: list[dict[str, Any]] = []
    pods: list[LabelledPod] = []  # the namespace's live pods, selected ones first

    def selects(self, labels: Mapping[str, str]) -> bool:
        """Whether this Service's (equality) selector matches `labels`."""
        return selector_matches(self.selector, labels)

    @property
    def selected(self) -> list[LabelledPod]:
        """The pods the selector matches: the endpoint controller's candidates."""
        return [p for p in self.pods if self.selects(p.labels)]

    @property
    def ready_endpoints(self) -> int:
        """How many selected pods are ready: the Service's ready endpoints."""
        return sum(1 for p in self.selected if p.ready)


def _labels(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, Mapping) else {}


def read_service_status(kube: KubeClient, namespace: str, name: str) -> ServiceStatus:
    """The Service and its namespace's pods (raises `ToolFailure`; run inside a tool call)."""
    service = read_object(kube, "Service", namespace, name)
    spec = service.get("spec") or {}
    listed = kube.json(f"list pods in {namespace}", kube.core.list_namespaced_pod, namespace)
    pods = []
    for pod in listed.get("items") or []:
        status = pod_status_of(pod)
        if status.deleting or status.phase in ("Succeeded", "Failed"):
            continue
        pods.append(
            LabelledPod(
                name=name_of(pod),
                labels=_labels((pod.get("metadata") or {}).get("labels")),
                ready=status.ready,
                phase=status.phase,
                owner=status.owner,
            )
        )
    result = ServiceStatus(
        namespace=namespace,
        name=name,
        type=str(spec.get("type") or "ClusterIP"),
        selector=_labels(spec.get("selector")),
        ports=[p for p in spec.get("ports") or [] if isinstance(p, dict)],
    )
    ordered = sorted(pods, key=lambda p: (not result.selects(p.labels), p.name))
    return result.model_copy(update={"pods": ordered[:MAX_PODS]})


def service_status(
    kube: KubeClient, namespace: str, name: str, *, sink: TraceSink = discard
) -> ToolResult[ServiceStatus]:
    """A Service's selector, ports and the pods of its namespace with their labels and readiness."""
    return kube.run(
        SERVICE_STATUS_TOOL,
        {"namespace": namespace, "name": name},
        lambda: read_service_status(kube, namespace, name),
        sink,
        summarize=lambda s: (
            f"Service {s.namespace}/{s.name}: {len(s.selected)} pod(s) selected, "
            f"{s.ready_endpoints} ready, of {len(s.pods)} in the namespace"
        ),
    )
