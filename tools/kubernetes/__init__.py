"""Kubernetes adapter: reads (owners, status, events, logs, manifests, rollout history) and guarded writes.

Every function takes a `KubeClient` and answers a `ToolResult` via `call_tool`, emitting one trace
event to the caller's sink. Writes take a `PolicyGuard` and never send anything it does not allow.
"""

from tools.kubernetes.client import KubeClient, KubeConfigError, NotFound, api_client_from_config
from tools.kubernetes.manifest import Manifest, clean_manifest, live_manifest
from tools.kubernetes.nodes import NodeInfo, cluster_nodes
from tools.kubernetes.owners import ObjectRef, OwnerChain, owner_chain
from tools.kubernetes.pod_logs import ContainerLog, PodLogs, pod_logs, workload_logs
from tools.kubernetes.rollouts import Revision, RolloutHistory, rollout_history
from tools.kubernetes.service_status import LabelledPod, ServiceStatus, service_status
from tools.kubernetes.status import (
    Condition,
    ContainerStatus,
    PodStatus,
    Termination,
    WorkloadStatus,
    namespace_deployments,
    pod_status,
    workload_status,
)
from tools.kubernetes.workload_events import EventRecord, fold_events, workload_events
from tools.kubernetes.writes import (
    RESTART_ANNOTATION,
    WriteOutcome,
    delete_pod,
    patch_deployment,
    rollout_restart,
    rollout_undo,
    scale,
)

__all__ = [
    "RESTART_ANNOTATION",
    "Condition",
    "ContainerLog",
    "ContainerStatus",
    "EventRecord",
    "KubeClient",
    "KubeConfigError",
    "LabelledPod",
    "Manifest",
    "NodeInfo",
    "NotFound",
    "ObjectRef",
    "OwnerChain",
    "PodLogs",
    "PodStatus",
    "Revision",
    "RolloutHistory",
    "ServiceStatus",
    "Termination",
    "WorkloadStatus",
    "WriteOutcome",
    "api_client_from_config",
    "clean_manifest",
    "cluster_nodes",
    "delete_pod",
    "fold_events",
    "live_manifest",
    "namespace_deployments",
    "owner_chain",
    "patch_deployment",
    "pod_logs",
    "pod_status",
    "rollout_history",
    "rollout_restart",
    "rollout_undo",
    "scale",
    "service_status",
    "workload_events",
    "workload_logs",
    "workload_status",
]
