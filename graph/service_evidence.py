"""A Service's own evidence, for a run that followed a dependency to it (graph/policies/follow).

What decides a Service's fault is its selector against the labels the namespace's pods really
carry: one STATUS item holds both (`ServiceStatusData`), so a rule can tell a selector that matches
no pod from pods that are merely unready. Its manifest and the Git history of its manifest are
gathered by `gather_evidence` exactly as for a workload.
"""

from __future__ import annotations

from agent.domain import EvidenceItem, EvidenceKind, WorkloadRef
from tools.evidence.item_data import LabelledPodData, ServiceStatusData
from tools.kubernetes import KubeClient, ServiceStatus, service_status
from tools.result import TraceSink
from tools.scan.objects import label_text

SERVICE_KIND = "Service"
_MAX_LABEL_SETS = 8  # distinct label sets shown in the item's text


def service_items(
    kube: KubeClient, target: WorkloadRef, sink: TraceSink, gaps: list[str]
) -> list[EvidenceItem]:
    """The Service's STATUS item, or a gap saying why it could not be read."""
    result = service_status(kube, target.namespace, target.name, sink=sink)
    if not result.ok or result.data is None:
        gaps.append(f"status: {result.error}")
        return []
    return [service_item(result.data)]


def service_item(status: ServiceStatus) -> EvidenceItem:
    """A Service's status as a citable STATUS item."""
    selected = status.selected
    data = ServiceStatusData(
        object_kind=SERVICE_KIND,
        name=status.name,
        namespace=status.namespace,
        type=status.type,
        selector=status.selector,
        ports=status.ports,
        selected=[p.name for p in selected],
        ready_endpoints=status.ready_endpoints,
        pods=[
            LabelledPodData(pod=p.name, labels=p.labels, ready=p.ready, owner=p.owner) for p in status.pods
        ],
    ).dump()
    selector = label_text(status.selector, ", ") or "none"
    label_sets = list(dict.fromkeys(label_text(p.labels, ", ") for p in status.pods))
    carried = "; ".join(f"[{s}]" for s in label_sets[:_MAX_LABEL_SETS]) or "no pods"
    return EvidenceItem(
        id=f"status:service/{status.name}",
        kind=EvidenceKind.STATUS,
        source=f"Service {status.namespace}/{status.name}",
        text=f"Service {status.name} ({status.type}): selector {selector}; selects {len(selected)} pod(s), "
        f"{status.ready_endpoints} ready; the namespace's pods carry: {carried}",
        data=data,
    )
