"""The workloads that reach a Service with no endpoints: their containers' env values name its host.

A Service that serves nothing hurts whoever connects to it ("connection refused"), and those are
the workloads whose logs and error rates show the failure. The evidence is in their manifests: a
env value whose host is the Service (`redis`, `redis.shop`, `redis.shop.svc`,
`redis.shop.svc.cluster.local`, alone or inside a URL), literal or from a ConfigMap of the
namespace (`configMapKeyRef`, `envFrom`). A Secret's value is never read. Pure, like `detect`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from agent import incident_labels
from agent.domain import WorkloadRef
from server.watcher.detect import Finding

DEPENDENCY_UNREACHABLE = "DependencyUnreachable"
_HOST = re.compile(r"^(?:[a-z][a-z0-9+.-]*://)?(?:[^@/\s]*@)?(?P<host>[A-Za-z0-9.-]+)(?::\d+)?(?:[/?#].*)?$")


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _names(service: str, namespace: str, consumer_namespace: str) -> set[str]:
    full = {
        f"{service}.{namespace}",
        f"{service}.{namespace}.svc",
        f"{service}.{namespace}.svc.cluster.local",
    }
    return full | {service} if namespace == consumer_namespace else full


ConfigData = Mapping[str, Mapping[str, Any]]  # ConfigMap name -> its data


def _env_values(container: Mapping[str, Any], configmaps: ConfigData) -> Iterable[tuple[str, Any]]:
    """(variable, value) pairs a container gets: literals, ConfigMap keys and whole ConfigMaps."""
    for source in container.get("envFrom") or []:
        ref = _map(_map(source).get("configMapRef"))
        data = _map(configmaps.get(str(ref.get("name"))))
        prefix = _map(source).get("prefix") or ""
        yield from ((f"{prefix}{key}", value) for key, value in data.items())
    for var in container.get("env") or []:
        var = _map(var)
        name = var.get("name")
        if not isinstance(name, str):
            continue
        ref = _map(_map(var.get("valueFrom")).get("configMapKeyRef"))
        if ref:
            yield name, _map(configmaps.get(str(ref.get("name")))).get(str(ref.get("key")))
        else:
            yield name, var.get("value")


def _reaching_var(
    deployment: Mapping[str, Any], hosts: set[str], configmaps: ConfigData
) -> tuple[str, str] | None:
    """(container, env var) of the first env value whose host is one of `hosts`."""
    template = _map(_map(deployment.get("spec")).get("template"))
    for container in _map(template.get("spec")).get("containers") or []:
        container = _map(container)
        for name, value in _env_values(container, configmaps):
            match = _HOST.match(value.strip()) if isinstance(value, str) else None
            if match and match.group("host").lower() in hosts:
                return str(container.get("name") or ""), name
    return None


def dependant_findings(
    service_name: str,
    namespace: str,
    why: str,
    deployments: Iterable[Mapping[str, Any]],
    configmaps: Mapping[str, ConfigData] | None = None,
    state: str = "",
) -> list[Finding]:
    """A finding on each running Deployment whose env reaches Service `service_name` (`why`: its state).

    `configmaps`: per namespace, ConfigMap name -> data, to resolve values taken from ConfigMaps.
    Each finding carries the Service and `state` (an `agent.incident_labels` state) as labels, the
    facts a reasoner needs to blame the Service rather than the workload."""
    found: list[Finding] = []
    for deployment in deployments:
        metadata = _map(deployment.get("metadata"))
        name, ns = metadata.get("name"), metadata.get("namespace")
        replicas = _map(deployment.get("spec")).get("replicas", 1)
        if not (isinstance(name, str) and name and isinstance(ns, str) and ns) or replicas == 0:
            continue
        data = (configmaps or {}).get(ns, {})
        reach = _reaching_var(deployment, _names(service_name, namespace, ns), data)
        if reach is None:
            continue
        container, var = reach
        message = f"env {var} reaches Service {namespace}/{service_name}, which has no endpoints ({why})"
        found.append(
            Finding(
                DEPENDENCY_UNREACHABLE,
                message,
                WorkloadRef(namespace=ns, kind="Deployment", name=name),
                container or None,
                labels=(
                    (incident_labels.DEPENDENCY, f"Service {namespace}/{service_name}"),
                    *(((incident_labels.DEPENDENCY_STATE, state),) if state else ()),
                ),
            )
        )
    return found
