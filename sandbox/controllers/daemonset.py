"""The DaemonSet controller: one pod per node the template may run on.

A node qualifies when the template's nodeSelector and required node affinity match it and its
NoSchedule/NoExecute taints are tolerated (daemon pods tolerate the not-ready, unreachable and
pressure taints, as the real controller adds). Each pod is pinned to its node by node affinity on
`metadata.name` and goes through the default scheduler like any pod; failed pods are replaced and
a template change replaces pods within maxUnavailable.
"""

from __future__ import annotations

import contextlib
import random

from sandbox.controllers.base import (
    Key,
    OwnerController,
    Wiring,
    key_of,
    put_status,
)
from sandbox.controllers.events import Source
from sandbox.controllers.node_match import DAEMONSET_TOLERATIONS, matches_node, untolerated_taint
from sandbox.controllers.podtemplate import pod_from_template
from sandbox.controllers.replicaset import SUFFIX_ALPHABET, is_ready
from sandbox.controllers.rollout import template_hash
from sandbox.resources import DAEMONSETS, NODES, PODS
from sandbox.store import ApiError, Obj, WatchEvent

REVISION_LABEL = "controller-revision-hash"
GENERATION_LABEL = "pod-template-generation"
_SOURCE = Source("daemonset-controller")


def _pinned_node(pod: Obj) -> str | None:
    if (pod.get("spec") or {}).get("nodeName"):
        return pod["spec"]["nodeName"]
    required = (((pod.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    for term in required.get("nodeSelectorTerms") or []:
        for field in term.get("matchFields") or []:
            if field.get("key") == "metadata.name" and field.get("values"):
                return field["values"][0]
    return None


def daemon_spec(template: Obj, node: str) -> dict:
    """The pod spec changes the controller makes: its tolerations, and node affinity pinning it to `node`."""
    spec = template.get("spec") or {}
    tolerations = list(spec.get("tolerations") or [])
    for tol in DAEMONSET_TOLERATIONS:
        if not any(t.get("key") == tol["key"] and t.get("effect") == tol["effect"] for t in tolerations):
            tolerations.append(dict(tol))
    affinity = dict(spec.get("affinity") or {})
    node_affinity = dict(affinity.get("nodeAffinity") or {})
    node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {
        "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}]
    }
    affinity["nodeAffinity"] = node_affinity
    return {"tolerations": tolerations, "affinity": affinity}


class DaemonSetController(OwnerController):
    """Reconciles DaemonSets into one pod per eligible node."""

    name = "daemonset"
    resource = DAEMONSETS

    def __init__(self, wiring: Wiring, rng: random.Random) -> None:
        super().__init__(wiring)
        self._rng = rng

    def observe(self, event: WatchEvent) -> None:
        """A DaemonSet, one of its pods, or a node changed."""
        if event.key == NODES.key:
            sets, _ = self._store.list(DAEMONSETS, copy=False)
            for ds in sets:
                self.mark(key_of(ds))
        else:
            super().observe(event)

    def reconcile(self, ds: Obj, key: Key) -> None:
        """Reconcile one DaemonSet."""
        spec = ds.get("spec") or {}
        template = spec.get("template") or {}
        revision = template_hash(template)
        nodes, _ = self._store.list(NODES, copy=False)
        pods = [
            p
            for k in self._cache.pods.of(ds["metadata"]["uid"])
            if (p := self._store.find(PODS, k[0], k[1], copy=False))
        ]
        by_node: dict[str, list[Obj]] = {}
        for pod in pods:
            node = _pinned_node(pod)
            if node:
                by_node.setdefault(node, []).append(pod)
        wanted = []
        for node_obj in nodes:
            name = node_obj["metadata"]["name"]
            tolerant = {**(template.get("spec") or {}), **daemon_spec(template, name)}
            if (
                matches_node(template.get("spec") or {}, node_obj)
                and untolerated_taint(tolerant, node_obj) is None
            ):
                wanted.append(name)
        for name, mine in by_node.items():
            for pod in mine:
                failed = (pod.get("status") or {}).get("phase") == "Failed"
                if name not in wanted or failed or (len(mine) > 1 and pod is not mine[0]):
                    self.delete_owned(ds, PODS, pod, "pod: ", _SOURCE)
        budget = self._unavailable_budget(ds, len(wanted), by_node, wanted)
        for name in wanted:
            mine = [p for p in by_node.get(name, []) if (p.get("status") or {}).get("phase") != "Failed"]
            if not mine:
                self._create(ds, template, name, revision)
            elif (mine[0]["metadata"].get("labels") or {}).get(REVISION_LABEL) != revision and budget > 0:
                self.delete_owned(ds, PODS, mine[0], "pod: ", _SOURCE)
                budget -= 1
        self._write_status(ds, key, wanted, by_node, revision)

    def _unavailable_budget(
        self, ds: Obj, desired: int, by_node: dict[str, list[Obj]], wanted: list[str]
    ) -> int:
        rolling = ((ds.get("spec") or {}).get("updateStrategy") or {}).get("rollingUpdate") or {}
        if ((ds.get("spec") or {}).get("updateStrategy") or {}).get("type") == "OnDelete":
            return 0
        value = rolling.get("maxUnavailable", 1)
        limit = (
            desired * int(value[:-1]) // 100 if isinstance(value, str) and value.endswith("%") else int(value)
        )
        unavailable = sum(1 for n in wanted if not any(is_ready(p) for p in by_node.get(n, [])))
        return max(limit, 1) - unavailable

    def _create(self, ds: Obj, template: Obj, node: str, revision: str) -> None:
        suffix = "".join(self._rng.choice(SUFFIX_ALPHABET) for _ in range(5))
        labels = {REVISION_LABEL: revision, GENERATION_LABEL: str(ds["metadata"].get("generation", 1))}
        pod = pod_from_template(template, ds, name=f"{ds['metadata']['name']}-{suffix}", labels=labels,
                                spec_overrides=daemon_spec(template, node))  # fmt: skip
        with contextlib.suppress(ApiError):  # refused: the event says so; the next sync tries again
            self.create_owned_pod(ds, pod, _SOURCE)

    def _write_status(
        self, ds: Obj, key: Key, wanted: list[str], by_node: dict[str, list[Obj]], revision: str
    ) -> None:
        scheduled = [n for n in wanted if by_node.get(n)]
        ready = [n for n in scheduled if any(is_ready(p) for p in by_node[n])]
        updated = [
            n
            for n in scheduled
            if any((p["metadata"].get("labels") or {}).get(REVISION_LABEL) == revision for p in by_node[n])
        ]
        status = {
            "desiredNumberScheduled": len(wanted),
            "currentNumberScheduled": len(scheduled),
            "numberMisscheduled": sum(1 for n in by_node if n not in wanted),
            "numberReady": len(ready),
            "numberAvailable": len(ready),
            "updatedNumberScheduled": len(updated),
            "observedGeneration": ds["metadata"].get("generation", 1),
        }
        if len(wanted) - len(ready):
            status["numberUnavailable"] = len(wanted) - len(ready)

        put_status(self._store, DAEMONSETS, key, status)
