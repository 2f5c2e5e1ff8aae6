"""What the scan reads: one read-only snapshot of the namespaces in scope, listed once.

Secrets are reduced to their names and key names the moment they are read: no value is kept.
An API group the cluster does not serve (no HPAs, no PDBs) reads as empty.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from kubernetes import client as k8s

from tools.kubernetes.client import KubeClient, NotFound
from tools.scan.objects import Obj, dicts, labels_of, meta, namespace_of, selector_matches


@dataclass(frozen=True)
class Recurring:
    """A workload incident memory saw failing the same way again and again."""

    namespace: str
    kind: str
    name: str
    category: str | None
    count: int
    outcomes: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Snapshot:
    """Objects of the scanned namespaces (workloads carry their `kind`), and the cluster's nodes."""

    workloads: list[Obj] = field(default_factory=list)  # Deployments, StatefulSets, DaemonSets
    pods: list[Obj] = field(default_factory=list)
    services: list[Obj] = field(default_factory=list)
    configmaps: list[Obj] = field(default_factory=list)  # metadata and data keys
    secrets: list[Obj] = field(default_factory=list)  # metadata (name, namespace) and key names only
    pdbs: list[Obj] = field(default_factory=list)
    hpas: list[Obj] = field(default_factory=list)
    nodes: list[Obj] = field(default_factory=list)
    recurring: list[Recurring] = field(default_factory=list)
    # Per list, its objects by namespace: built on first use, so checks stay linear in the objects.
    _by_namespace: dict[int, dict[str, list[Obj]]] = field(default_factory=dict, repr=False, compare=False)

    def in_namespace(self, objects: list[Obj], namespace: str) -> list[Obj]:
        """The objects of one namespace (`objects` is one of this snapshot's lists)."""
        index = self._by_namespace.get(id(objects))
        if index is None or sum(len(v) for v in index.values()) != len(objects):
            index = {}
            for obj in objects:
                index.setdefault(namespace_of(obj), []).append(obj)
            self._by_namespace[id(objects)] = index
        return index.get(namespace, [])

    def pods_matching(self, namespace: str, selector: Any) -> list[Obj]:
        """The namespace's pods a label selector matches; an index on one required label narrows
        the candidates first, so matching every workload against every pod stays cheap."""
        required = selector.get("matchLabels", selector) if isinstance(selector, dict) else None
        candidates = self.in_namespace(self.pods, namespace)
        if isinstance(required, dict) and required and "matchExpressions" not in required:
            key, value = next(iter(required.items()))
            index = self._by_namespace.setdefault(-id(self.pods), {})
            if not index:
                for pod in self.pods:
                    for k, v in labels_of(pod).items():
                        index.setdefault(f"{namespace_of(pod)}\0{k}\0{v}", []).append(pod)
            candidates = index.get(f"{namespace}\0{key}\0{value}", [])
        return [pod for pod in candidates if selector_matches(selector, labels_of(pod))]


def secret_names_only(secret: Obj) -> Obj:
    """A Secret as the scan keeps it: name, namespace and key names; never a value."""
    data = secret.get("data") if isinstance(secret.get("data"), dict) else {}
    string_data = secret.get("stringData") if isinstance(secret.get("stringData"), dict) else {}
    keys = sorted({*map(str, data or {}), *map(str, string_data or {})})
    return {
        "kind": "Secret",
        "metadata": {"name": meta(secret).get("name"), "namespace": meta(secret).get("namespace")},
        "keys": keys,
    }


def configmap_keys_only(configmap: Obj) -> Obj:
    """A ConfigMap as the scan keeps it: name, namespace and key names."""
    keys = {*map(str, configmap.get("data") or {}), *map(str, configmap.get("binaryData") or {})}
    return {
        "kind": "ConfigMap",
        "metadata": {"name": meta(configmap).get("name"), "namespace": meta(configmap).get("namespace")},
        "keys": sorted(keys),
    }


def _items(kube: KubeClient, what: str, method: Callable[..., Any], *args: Any, kind: str) -> list[Obj]:
    try:
        body = kube.json(what, method, *args)
    except NotFound:
        return []  # the API group is not served here
    return [{**item, "kind": kind} for item in dicts(body.get("items"))]


def read_snapshot(
    kube: KubeClient, namespaces: Iterable[str], recurring: Iterable[Recurring] = ()
) -> Snapshot:
    """List everything the checks read, namespace by namespace, with list calls only (read-only)."""
    core, apps = kube.core, kube.apps
    policy, autoscaling = k8s.PolicyV1Api(kube.api), k8s.AutoscalingV2Api(kube.api)
    snapshot = Snapshot(recurring=list(recurring))
    snapshot.nodes.extend(_items(kube, "list nodes", core.list_node, kind="Node"))
    for ns in namespaces:
        for kind, method in (("Deployment", apps.list_namespaced_deployment),
                             ("StatefulSet", apps.list_namespaced_stateful_set),
                             ("DaemonSet", apps.list_namespaced_daemon_set)):  # fmt: skip
            snapshot.workloads.extend(_items(kube, f"list {kind}s in {ns}", method, ns, kind=kind))
        snapshot.pods.extend(_items(kube, f"list pods in {ns}", core.list_namespaced_pod, ns, kind="Pod"))
        snapshot.services.extend(
            _items(kube, f"list services in {ns}", core.list_namespaced_service, ns, kind="Service")
        )
        snapshot.configmaps.extend(
            configmap_keys_only(c)
            for c in _items(
                kube, f"list configmaps in {ns}", core.list_namespaced_config_map, ns, kind="ConfigMap"
            )
        )
        snapshot.secrets.extend(
            secret_names_only(s)
            for s in _items(kube, f"list secrets in {ns}", core.list_namespaced_secret, ns, kind="Secret")
        )
        snapshot.pdbs.extend(
            _items(
                kube,
                f"list PDBs in {ns}",
                policy.list_namespaced_pod_disruption_budget,
                ns,
                kind="PodDisruptionBudget",
            )
        )
        snapshot.hpas.extend(
            _items(
                kube,
                f"list HPAs in {ns}",
                autoscaling.list_namespaced_horizontal_pod_autoscaler,
                ns,
                kind="HorizontalPodAutoscaler",
            )
        )
    return snapshot


def scanned_namespaces(kube: KubeClient, wanted: Iterable[str], excluded: Iterable[str]) -> list[str]:
    """The namespaces to scan: `wanted` when given, else every namespace not `excluded`."""
    chosen = list(wanted)
    if chosen:
        return chosen
    skip = set(excluded)
    found = _items(kube, "list namespaces", kube.core.list_namespace, kind="Namespace")
    return sorted(str(meta(n).get("name")) for n in found if meta(n).get("name") not in skip)
