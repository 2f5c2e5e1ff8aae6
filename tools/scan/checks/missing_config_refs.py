"""References to ConfigMaps, Secrets or keys that do not exist: the pod cannot start
(CreateContainerConfigError) or mounts nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tools.scan.finding import Finding, Severity, as_yaml
from tools.scan.objects import all_containers, dicts, name_of, namespace_of, pod_spec
from tools.scan.snapshot import Snapshot

ID = "missing-config-ref"
TITLE = "Referenced ConfigMap, Secret or key does not exist"


def _refs(workload: dict[str, Any]) -> Iterator[tuple[str, str, str | None, str]]:
    """(kind, object name, key or None, where) for every non-optional reference of the pod spec."""
    for container in all_containers(workload):
        cname = str(container.get("name") or "")
        for env in dicts(container.get("env")):
            value_from = env.get("valueFrom")
            source: dict[str, Any] = value_from if isinstance(value_from, dict) else {}
            for field, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
                ref = source.get(field)
                if isinstance(ref, dict) and not ref.get("optional"):
                    yield (
                        kind,
                        str(ref.get("name") or ""),
                        str(ref.get("key") or ""),
                        f"env {env.get('name')} of {cname}",
                    )
        for env_from in dicts(container.get("envFrom")):
            for field, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                ref = env_from.get(field)
                if isinstance(ref, dict) and not ref.get("optional"):
                    yield kind, str(ref.get("name") or ""), None, f"envFrom of {cname}"
    for volume in dicts(pod_spec(workload).get("volumes")):
        for field, kind, key in (("configMap", "ConfigMap", "name"), ("secret", "Secret", "secretName")):
            ref = volume.get(field)
            if isinstance(ref, dict) and not ref.get("optional"):
                yield kind, str(ref.get(key) or ""), None, f"volume {volume.get('name')}"


def _suggestion(kind: str, namespace: str, name: str, key: str | None, exists: bool) -> str:
    value = "<set in the cluster; never in Git>" if kind == "Secret" else "<value>"
    field = "stringData" if kind == "Secret" else "data"
    if exists and key:
        return as_yaml({field: {key: value}})
    manifest = {"apiVersion": "v1", "kind": kind, "metadata": {"name": name, "namespace": namespace}}
    return as_yaml({**manifest, field: {key or "<key>": value}})


def check(snapshot: Snapshot) -> Iterator[Finding]:
    """A finding per missing object or key a workload's pods reference."""
    for workload in snapshot.workloads:
        namespace = namespace_of(workload)
        keys = {
            (obj["kind"], name_of(obj)): set(obj.get("keys") or [])
            for obj in [
                *snapshot.in_namespace(snapshot.configmaps, namespace),
                *snapshot.in_namespace(snapshot.secrets, namespace),
            ]
        }
        seen: set[tuple[str, str, str | None]] = set()
        for kind, name, key, where in _refs(workload):
            present = keys.get((kind, name))
            missing_key = present is not None and key is not None and key not in present
            if (present is not None and not missing_key) or (kind, name, key) in seen:
                continue
            seen.add((kind, name, key))
            what = f"key {key!r} of {kind} {name}" if missing_key else f"{kind} {name}"
            yield Finding(
                check=ID,
                severity=Severity.HIGH,
                namespace=namespace,
                kind=str(workload.get("kind")),
                name=name_of(workload),
                message=f"{where} needs {what}, which does not exist: its pods cannot start",
                patch=_suggestion(kind, namespace, name, key, present is not None),
            )
