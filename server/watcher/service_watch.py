"""What the watcher needs to judge a Service: the pods and Deployments of its namespace, by index.

A Service's health changes without any event on the Service (its pods come and go), so the watcher
keeps the namespace's keys here and re-evaluates the namespace's Services when a pod or Deployment
there changes. The index holds keys only; the objects stay in the watcher's map.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from agent import incident_labels
from server.watcher.detect import Detection, DetectPolicy, Finding
from server.watcher.detect_dependants import dependant_findings
from server.watcher.detect_ingress import detect_ingress
from server.watcher.detect_ports import detect_ports
from server.watcher.detect_service import (
    SCALED_TO_ZERO,
    SELECTOR_MATCHES_NOTHING,
    detect_service,
    selects,
    service_selector,
)

Key = tuple[str, str, str]  # (stream kind, namespace, name)
Obj = dict[str, Any]


class NamespaceIndex:
    """Keys per (namespace, kind), kept in step with the watcher's object map."""

    def __init__(self) -> None:
        self._keys: dict[tuple[str, str], set[Key]] = {}
        self._listed: set[tuple[str, str | None]] = set()  # (kind, namespace or None for all)
        self._lock = threading.Lock()

    def mark_listed(self, kind: str, namespace: str | None) -> None:
        """A stream of `kind` (for one namespace, or all) delivered its full listing."""
        with self._lock:
            self._listed.add((kind, namespace))

    def listed(self, namespace: str, kinds: tuple[str, ...]) -> bool:
        """Whether every kind has been listed for the namespace: before that, "no pod" means "not seen
        yet", and judging a Service would report every Service of a starting watcher."""
        with self._lock:
            return all((k, namespace) in self._listed or (k, None) in self._listed for k in kinds)

    def of_kind(self, kind: str) -> list[Key]:
        """Every key of one kind, in all namespaces."""
        with self._lock:
            return [key for (_, k), keys in self._keys.items() if k == kind for key in keys]

    def add(self, key: Key) -> None:
        """Remember a key."""
        with self._lock:
            self._keys.setdefault((key[1], key[0]), set()).add(key)

    def discard(self, key: Key) -> None:
        """Forget a key."""
        with self._lock:
            bucket = self._keys.get((key[1], key[0]))
            if bucket is not None:
                bucket.discard(key)
                if not bucket:
                    del self._keys[(key[1], key[0])]

    def keys(self, namespace: str, kind: str) -> list[Key]:
        """The keys of one kind in one namespace."""
        with self._lock:
            return list(self._keys.get((namespace, kind), ()))


@dataclass(frozen=True)
class Neighbours:
    """The objects of one namespace as the watcher holds them: their keys in the index, the objects
    themselves through `lookup` (the watcher's map)."""

    namespace: str
    index: NamespaceIndex
    lookup: Callable[[Key], Obj | None]

    def listed(self, *kinds: str) -> bool:
        """Whether every kind has been listed in the namespace (see `NamespaceIndex.listed`)."""
        return self.index.listed(self.namespace, kinds)

    def objects(self, kind: str) -> list[Mapping[str, Any]]:
        """The namespace's objects of one kind (a key whose object is gone meanwhile is left out)."""
        found = (self.lookup(key) for key in self.index.keys(self.namespace, kind))
        return [obj for obj in found if obj is not None]


def service_detection(service: Obj, around: Neighbours, now: datetime, policy: DetectPolicy) -> Detection:
    """No endpoints and unexposed target ports of one Service, from its namespace's pods and Deployments."""
    namespace = around.namespace
    if not around.listed("Pod", "Deployment", "ConfigMap"):
        return Detection()  # looked at again when the listings arrive
    pods = around.objects("Pod")
    deployments = around.objects("Deployment")
    endpoints = detect_service(service, pods, deployments, now, policy)
    ports = detect_ports(service, pods)
    empty = [f for f in endpoints.findings if f.reason in (SCALED_TO_ZERO, SELECTOR_MATCHES_NOTHING)]
    name = (service.get("metadata") or {}).get("name")
    if not empty or not isinstance(name, str):
        return Detection(endpoints.findings + ports.findings, recheck_at=endpoints.recheck_at)
    configmaps = {
        namespace: {
            str((cm.get("metadata") or {}).get("name")): cm.get("data") or {}
            for cm in around.objects("ConfigMap")
        }
    }
    finding = empty[0]
    state = (
        incident_labels.SCALED_TO_ZERO
        if finding.reason == SCALED_TO_ZERO
        else incident_labels.SELECTOR_MATCHES_NOTHING
    )
    victims = dependant_findings(name, namespace, finding.message, deployments, configmaps, state)
    return Detection(_fold(finding, victims) + ports.findings, recheck_at=endpoints.recheck_at)


def _fold(finding: Finding, victims: list[Finding]) -> tuple[Finding, ...]:
    """One incident per fault, on the object an investigation can read and fix.

    A Deployment at zero that running workloads reach is the subject: its incident names them (the
    dependants' label), and they get none of their own, so one run judges and fixes it (two runs
    reverting the same commit would race). A Service whose selector matches nothing cannot be
    investigated as a workload: its failure is its dependants', whose incidents name it; with no
    dependant, the Service's own incident stands."""
    if not victims:
        return (finding,)
    if finding.reason == SCALED_TO_ZERO:
        names = [f"{v.target.kind} {v.target.namespace}/{v.target.name}" for v in victims if v.target]
        return (
            Finding(
                finding.reason,
                f"{finding.message}; running workloads reach it: {', '.join(names)}",
                finding.target,
                labels=((incident_labels.DEPENDANTS, ",".join(names)),),
            ),
        )
    return tuple(victims)


def unserved_zero(deployment: Obj, around: Neighbours, now: datetime, otherwise: Detection) -> Detection:
    """A Deployment changed to want zero replicas that no Service fronts (with one, the Service's
    detector names it, with the workloads that reach it); `otherwise` for any other Deployment.

    Evidence of a change, not a state: `metadata.generation` above 1 means its spec was changed after
    creation, and the controller has acted on it (`status.observedGeneration`) and removed its pods. A
    Deployment created at zero, or paused, is left alone."""
    spec, metadata = deployment.get("spec") or {}, deployment.get("metadata") or {}
    status = deployment.get("status") or {}
    generation = metadata.get("generation")
    if spec.get("replicas") != 0 or spec.get("paused") is True or not isinstance(generation, int):
        return otherwise
    if generation < 2 or status.get("observedGeneration") != generation or status.get("replicas"):
        return otherwise
    if not around.listed("Service"):
        return Detection(recheck_at=now + timedelta(seconds=5))  # the Services decide; look again
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    for service in around.objects("Service"):
        selector = service_selector(service)
        if selector is not None and selects(selector, labels):
            return otherwise
    message = (
        f"spec.replicas is 0 since its spec changed (generation {generation}); no Service fronts it "
        "and it runs no pod"
    )
    return Detection((Finding(SCALED_TO_ZERO, message),))


def edge_detection(kind: str, obj: Obj, around: Neighbours, now: datetime, policy: DetectPolicy) -> Detection:
    """A Service's findings (`service_detection`), or an Ingress's: backends on a Service or a Service
    port that does not exist, judged once the namespace's Services are listed."""
    if kind != "Ingress":
        return service_detection(obj, around, now, policy)
    if not around.listed("Service"):
        return Detection(recheck_at=now + timedelta(seconds=5))
    services = {str((svc.get("metadata") or {}).get("name")): svc for svc in around.objects("Service")}
    return detect_ingress(obj, services)
