"""The built-in resource types the sandbox serves, and a registry that CRDs extend at run time."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import NamedTuple

from sandbox.store import ResourceType


def _builtin(
    api_version: str,
    kind: str,
    plural: str,
    *,
    namespaced: bool = True,
    short_names: tuple[str, ...] = (),
    subresources: tuple[str, ...] = (),
    in_all: bool = False,
) -> ResourceType:
    """A built-in type as `kubectl api-resources` lists it (singular: the kind in lower case;
    `in_all`: part of `kubectl get all`)."""
    group, _, version = api_version.rpartition("/")
    return ResourceType(
        group,
        version,
        kind,
        plural,
        namespaced=namespaced,
        short_names=short_names,
        singular=kind.lower(),
        subresources=subresources,
        categories=("all",) if in_all else (),
    )


NAMESPACES = _builtin(
    "v1", "Namespace", "namespaces", namespaced=False, short_names=("ns",), subresources=("status",)
)
NODES = _builtin("v1", "Node", "nodes", namespaced=False, short_names=("no",), subresources=("status",))
PODS = _builtin("v1", "Pod", "pods", short_names=("po",), subresources=("status", "log"), in_all=True)
SERVICES = _builtin("v1", "Service", "services", short_names=("svc",), subresources=("status",), in_all=True)
CONFIGMAPS = _builtin("v1", "ConfigMap", "configmaps", short_names=("cm",))
SECRETS = _builtin("v1", "Secret", "secrets")
EVENTS = _builtin("v1", "Event", "events", short_names=("ev",))
SERVICEACCOUNTS = _builtin("v1", "ServiceAccount", "serviceaccounts", short_names=("sa",))
DEPLOYMENTS = _builtin(
    "apps/v1",
    "Deployment",
    "deployments",
    short_names=("deploy",),
    subresources=("status", "scale"),
    in_all=True,
)
REPLICASETS = _builtin(
    "apps/v1", "ReplicaSet", "replicasets", short_names=("rs",), subresources=("status", "scale"), in_all=True
)
STATEFULSETS = _builtin(
    "apps/v1",
    "StatefulSet",
    "statefulsets",
    short_names=("sts",),
    subresources=("status", "scale"),
    in_all=True,
)
DAEMONSETS = _builtin(
    "apps/v1", "DaemonSet", "daemonsets", short_names=("ds",), subresources=("status",), in_all=True
)
JOBS = _builtin("batch/v1", "Job", "jobs", subresources=("status",), in_all=True)
CRONJOBS = _builtin(
    "batch/v1", "CronJob", "cronjobs", short_names=("cj",), subresources=("status",), in_all=True
)
PERSISTENTVOLUMECLAIMS = _builtin(
    "v1", "PersistentVolumeClaim", "persistentvolumeclaims", short_names=("pvc",), subresources=("status",)
)
PERSISTENTVOLUMES = _builtin(
    "v1",
    "PersistentVolume",
    "persistentvolumes",
    namespaced=False,
    short_names=("pv",),
    subresources=("status",),
)
STORAGECLASSES = _builtin(
    "storage.k8s.io/v1", "StorageClass", "storageclasses", namespaced=False, short_names=("sc",)
)
RESOURCEQUOTAS = _builtin(
    "v1", "ResourceQuota", "resourcequotas", short_names=("quota",), subresources=("status",)
)
LIMITRANGES = _builtin("v1", "LimitRange", "limitranges", short_names=("limits",))
ENDPOINTS = _builtin("v1", "Endpoints", "endpoints", short_names=("ep",))
NETWORKPOLICIES = _builtin(
    "networking.k8s.io/v1", "NetworkPolicy", "networkpolicies", short_names=("netpol",)
)
INGRESSES = _builtin(
    "networking.k8s.io/v1", "Ingress", "ingresses", short_names=("ing",), subresources=("status",)
)
INGRESSCLASSES = _builtin("networking.k8s.io/v1", "IngressClass", "ingressclasses", namespaced=False)
HORIZONTALPODAUTOSCALERS = _builtin(
    "autoscaling/v2",
    "HorizontalPodAutoscaler",
    "horizontalpodautoscalers",
    short_names=("hpa",),
    subresources=("status",),
    in_all=True,
)
PODDISRUPTIONBUDGETS = _builtin(
    "policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", short_names=("pdb",), subresources=("status",)
)
PRIORITYCLASSES = _builtin(
    "scheduling.k8s.io/v1", "PriorityClass", "priorityclasses", namespaced=False, short_names=("pc",)
)
CONTROLLERREVISIONS = _builtin("apps/v1", "ControllerRevision", "controllerrevisions")
LEASES = _builtin("coordination.k8s.io/v1", "Lease", "leases")
ROLES = _builtin("rbac.authorization.k8s.io/v1", "Role", "roles")
ROLEBINDINGS = _builtin("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings")
CLUSTERROLES = _builtin("rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", namespaced=False)
CLUSTERROLEBINDINGS = _builtin(
    "rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "clusterrolebindings", namespaced=False
)
CRDS = _builtin(
    "apiextensions.k8s.io/v1",
    "CustomResourceDefinition",
    "customresourcedefinitions",
    namespaced=False,
    short_names=("crd", "crds"),
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
    # Bumped on every change, so documents derived from the registry (discovery, OpenAPI) can be
    # cached until the served types change.
    generation: int = 0
    # by_kind's index and all()'s order, made once per change: the sync loop and admission ask per
    # object and per pass. None until asked for after a change.
    _views: _Views | None = field(default=None, compare=False, repr=False)

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
            self.generation += 1
            self._views = None

    def remove(self, group: str, version: str, plural: str) -> None:
        """Stop serving a type (when its CRD is deleted)."""
        with self._lock:
            if self._types.pop((group, version, plural), None) is not None:
                self.generation += 1
                self._views = None

    def lookup(self, group: str, version: str, plural: str) -> ResourceType | None:
        """The type served at that path, or None."""
        with self._lock:
            return self._types.get((group, version, plural))

    def by_kind(self, group: str, kind: str) -> ResourceType | None:
        """The type of a kind in a group (any served version), or None."""
        with self._lock:
            return self._current_views().by_kind.get((group, kind))

    def all(self) -> list[ResourceType]:
        """Every served type, in a stable order."""
        with self._lock:
            return list(self._current_views().ordered)

    def _current_views(self) -> _Views:
        # Under the lock. by_kind keeps the first type of each kind, as a scan of _types finds it.
        if self._views is None:
            by_kind: dict[tuple[str, str], ResourceType] = {}
            for t in self._types.values():
                by_kind.setdefault((t.group, t.kind), t)
            ordered = sorted(self._types.values(), key=lambda t: (t.group, t.version, t.plural))
            self._views = _Views(by_kind, ordered)
        return self._views


class _Views(NamedTuple):
    """What the registry derives from its types: the index by (group, kind), every type in order."""

    by_kind: dict[tuple[str, str], ResourceType]
    ordered: list[ResourceType]
