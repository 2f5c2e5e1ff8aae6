"""The built-in resource types the sandbox serves, and a registry that CRDs extend at run time."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from sandbox.store import ResourceType

NAMESPACES = ResourceType(
    "",
    "v1",
    "Namespace",
    "namespaces",
    namespaced=False,
    short_names=("ns",),
    singular="namespace",
    subresources=("status",),
)
NODES = ResourceType(
    "",
    "v1",
    "Node",
    "nodes",
    namespaced=False,
    short_names=("no",),
    singular="node",
    subresources=("status",),
)
PODS = ResourceType(
    "",
    "v1",
    "Pod",
    "pods",
    short_names=("po",),
    singular="pod",
    subresources=("status", "log"),
    categories=("all",),
)
SERVICES = ResourceType(
    "",
    "v1",
    "Service",
    "services",
    short_names=("svc",),
    singular="service",
    subresources=("status",),
    categories=("all",),
)
CONFIGMAPS = ResourceType("", "v1", "ConfigMap", "configmaps", short_names=("cm",), singular="configmap")
SECRETS = ResourceType("", "v1", "Secret", "secrets", singular="secret")
EVENTS = ResourceType("", "v1", "Event", "events", short_names=("ev",), singular="event")
SERVICEACCOUNTS = ResourceType(
    "", "v1", "ServiceAccount", "serviceaccounts", short_names=("sa",), singular="serviceaccount"
)
DEPLOYMENTS = ResourceType(
    "apps",
    "v1",
    "Deployment",
    "deployments",
    short_names=("deploy",),
    singular="deployment",
    subresources=("status", "scale"),
    categories=("all",),
)
REPLICASETS = ResourceType(
    "apps",
    "v1",
    "ReplicaSet",
    "replicasets",
    short_names=("rs",),
    singular="replicaset",
    subresources=("status", "scale"),
    categories=("all",),
)
STATEFULSETS = ResourceType(
    "apps",
    "v1",
    "StatefulSet",
    "statefulsets",
    short_names=("sts",),
    singular="statefulset",
    subresources=("status", "scale"),
    categories=("all",),
)
DAEMONSETS = ResourceType(
    "apps",
    "v1",
    "DaemonSet",
    "daemonsets",
    short_names=("ds",),
    singular="daemonset",
    subresources=("status",),
    categories=("all",),
)
JOBS = ResourceType(
    "batch", "v1", "Job", "jobs", singular="job", subresources=("status",), categories=("all",)
)
CRONJOBS = ResourceType(
    "batch",
    "v1",
    "CronJob",
    "cronjobs",
    short_names=("cj",),
    singular="cronjob",
    subresources=("status",),
    categories=("all",),
)
PERSISTENTVOLUMECLAIMS = ResourceType(
    "",
    "v1",
    "PersistentVolumeClaim",
    "persistentvolumeclaims",
    short_names=("pvc",),
    singular="persistentvolumeclaim",
    subresources=("status",),
)
PERSISTENTVOLUMES = ResourceType(
    "",
    "v1",
    "PersistentVolume",
    "persistentvolumes",
    namespaced=False,
    short_names=("pv",),
    singular="persistentvolume",
    subresources=("status",),
)
STORAGECLASSES = ResourceType(
    "storage.k8s.io", "v1", "StorageClass", "storageclasses", namespaced=False, short_names=("sc",),
    singular="storageclass",
)  # fmt: skip
RESOURCEQUOTAS = ResourceType(
    "", "v1", "ResourceQuota", "resourcequotas", short_names=("quota",), singular="resourcequota",
    subresources=("status",),
)  # fmt: skip
LIMITRANGES = ResourceType(
    "", "v1", "LimitRange", "limitranges", short_names=("limits",), singular="limitrange"
)
ENDPOINTS = ResourceType("", "v1", "Endpoints", "endpoints", short_names=("ep",), singular="endpoints")
NETWORKPOLICIES = ResourceType(
    "networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", short_names=("netpol",),
    singular="networkpolicy",
)  # fmt: skip
INGRESSES = ResourceType(
    "networking.k8s.io", "v1", "Ingress", "ingresses", short_names=("ing",), singular="ingress",
    subresources=("status",),
)  # fmt: skip
INGRESSCLASSES = ResourceType(
    "networking.k8s.io", "v1", "IngressClass", "ingressclasses", namespaced=False, singular="ingressclass"
)
HORIZONTALPODAUTOSCALERS = ResourceType(
    "autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", short_names=("hpa",),
    singular="horizontalpodautoscaler", subresources=("status",), categories=("all",),
)  # fmt: skip
PODDISRUPTIONBUDGETS = ResourceType(
    "policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", short_names=("pdb",),
    singular="poddisruptionbudget", subresources=("status",),
)  # fmt: skip
PRIORITYCLASSES = ResourceType(
    "scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", namespaced=False, short_names=("pc",),
    singular="priorityclass",
)  # fmt: skip
CONTROLLERREVISIONS = ResourceType(
    "apps", "v1", "ControllerRevision", "controllerrevisions", singular="controllerrevision"
)
LEASES = ResourceType("coordination.k8s.io", "v1", "Lease", "leases", singular="lease")
ROLES = ResourceType("rbac.authorization.k8s.io", "v1", "Role", "roles", singular="role")
ROLEBINDINGS = ResourceType(
    "rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", singular="rolebinding"
)
CLUSTERROLES = ResourceType(
    "rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", namespaced=False, singular="clusterrole"
)
CLUSTERROLEBINDINGS = ResourceType(
    "rbac.authorization.k8s.io",
    "v1",
    "ClusterRoleBinding",
    "clusterrolebindings",
    namespaced=False,
    singular="clusterrolebinding",
)
CRDS = ResourceType(
    "apiextensions.k8s.io",
    "v1",
    "CustomResourceDefinition",
    "customresourcedefinitions",
    namespaced=False,
    short_names=("crd", "crds"),
    singular="customresourcedefinition",
    subresources=("status",),
)

BUILTIN: tuple[ResourceType, ...] = (
    NAMESPACES,
    NODES,
    PODS,
    SERVICES,
    CONFIGMAPS,
    SECRETS,
    EVENTS,
    SERVICEACCOUNTS,
    DEPLOYMENTS,
    REPLICASETS,
    STATEFULSETS,
    DAEMONSETS,
    JOBS,
    CRONJOBS,
    PERSISTENTVOLUMECLAIMS,
    PERSISTENTVOLUMES,
    STORAGECLASSES,
    RESOURCEQUOTAS,
    LIMITRANGES,
    ENDPOINTS,
    NETWORKPOLICIES,
    INGRESSES,
    INGRESSCLASSES,
    HORIZONTALPODAUTOSCALERS,
    PODDISRUPTIONBUDGETS,
    PRIORITYCLASSES,
    CONTROLLERREVISIONS,
    LEASES,
    ROLES,
    ROLEBINDINGS,
    CLUSTERROLES,
    CLUSTERROLEBINDINGS,
    CRDS,
)


@dataclass
class Registry:
    """Resource types by (group, version, plural); custom resources join when their CRD is created."""

    _types: dict[tuple[str, str, str], ResourceType] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def with_builtins(cls) -> Registry:
        """A registry holding every built-in type."""
        reg = cls()
        for rt in BUILTIN:
            reg.add(rt)
        return reg

    def add(self, rt: ResourceType) -> None:
        """Serve `rt` from now on."""
        with self._lock:
            self._types[(rt.group, rt.version, rt.plural)] = rt

    def remove(self, group: str, version: str, plural: str) -> None:
        """Stop serving a type (when its CRD is deleted)."""
        with self._lock:
            self._types.pop((group, version, plural), None)

    def lookup(self, group: str, version: str, plural: str) -> ResourceType | None:
        """The type served at that path, or None."""
        with self._lock:
            return self._types.get((group, version, plural))

    def by_kind(self, group: str, kind: str) -> ResourceType | None:
        """The type of a kind in a group (any served version), or None."""
        with self._lock:
            return next((t for t in self._types.values() if t.group == group and t.kind == kind), None)

    def all(self) -> list[ResourceType]:
        """Every served type, in a stable order."""
        with self._lock:
            return sorted(self._types.values(), key=lambda t: (t.group, t.version, t.plural))
