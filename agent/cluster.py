"""The Kubernetes client the settings describe (kubeconfig and context, or in-cluster)."""

from __future__ import annotations

from agent.config import ClusterSettings
from tools.kubernetes import KubeClient


def kube_client(cluster: ClusterSettings) -> KubeClient:
    """Connect as `cluster` says; the client's own errors (no kubeconfig, bad context) propagate."""
    return KubeClient.from_config(
        str(cluster.kubeconfig) if cluster.kubeconfig else None,
        cluster.context,
        in_cluster=cluster.in_cluster or None,
    )
