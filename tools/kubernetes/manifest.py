"""The live manifest of an object, cleaned of what the server adds, so it diffs against Git.

Removed: `status`, `managedFields` and the server-set metadata (uid, resourceVersion, generation,
creationTimestamp, selfLink, ownerReferences, ...), bookkeeping annotations (last-applied
configuration, deployment revision), the pod-template-hash, and, with `strip_defaults`, the
fields the API server defaults when a manifest leaves them out (only when they hold the default).

`clean_manifest` only cleans: it is also what the writes compare and diff. `live_manifest`, a tool,
answers through the redaction boundary (`tools.boundary`): a Secret's values, env values, secret
flags in `command`/`args`, secret-named annotations all become markers there, the keys and names stay.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from tools.kubernetes.client import KubeClient, Obj
from tools.kubernetes.objects import API_VERSIONS, POD_TEMPLATE_HASH, read_object
from tools.result import ToolResult, TraceSink, discard

LIVE_MANIFEST_TOOL = "kubernetes.live_manifest"

_SERVER_METADATA = (
    "managedFields",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "selfLink",
    "ownerReferences",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "finalizers",
    "generateName",
)
_SERVER_ANNOTATIONS = (
    "kubectl.kubernetes.io/last-applied-configuration",
    "deployment.kubernetes.io/revision",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "argocd.argoproj.io/tracking-id",
)

# Defaults the API server fills in (apps/v1 and core/v1 defaulting) under a workload's spec.
_WORKLOAD_DEFAULTS: dict[str, Any] = {
    "progressDeadlineSeconds": 600,
    "revisionHistoryLimit": 10,
    "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
    "podManagementPolicy": "OrderedReady",
    "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
}
_POD_SPEC_DEFAULTS: dict[str, Any] = {
    "restartPolicy": "Always",
    "terminationGracePeriodSeconds": 30,
    "dnsPolicy": "ClusterFirst",
    "securityContext": {},
    "schedulerName": "default-scheduler",
    "enableServiceLinks": True,
    "preemptionPolicy": "PreemptLowerPriority",
    "priority": 0,
}
_CONTAINER_DEFAULTS: dict[str, Any] = {
    "terminationMessagePath": "/dev/termination-log",
    "terminationMessagePolicy": "File",
    "resources": {},
}
_PROBE_DEFAULTS: dict[str, Any] = {
    "timeoutSeconds": 1,
    "periodSeconds": 10,
    "successThreshold": 1,
    "failureThreshold": 3,
}


class Manifest(BaseModel):
    """A cleaned live manifest."""

    model_config = ConfigDict(frozen=True)

    kind: str
    namespace: str
    name: str
    body: dict[str, Any]


def _drop_defaults(obj: dict[str, Any], defaults: Mapping[str, Any]) -> None:
    for key, value in defaults.items():
        if key in obj and obj[key] == value:
            del obj[key]


def _clean_container(container: dict[str, Any], strip_defaults: bool) -> None:
    if not strip_defaults:
        return
    _drop_defaults(container, _CONTAINER_DEFAULTS)
    image = str(container.get("image", ""))
    latest = image.endswith(":latest") or ":" not in image.rsplit("/", 1)[-1]
    if container.get("imagePullPolicy") == ("Always" if latest else "IfNotPresent"):
        del container["imagePullPolicy"]
    for port in container.get("ports") or []:
        if port.get("protocol") == "TCP":
            del port["protocol"]
    for probe_name in ("livenessProbe", "readinessProbe", "startupProbe"):
        probe = container.get(probe_name)
        if isinstance(probe, dict):
            _drop_defaults(probe, _PROBE_DEFAULTS)
            http = probe.get("httpGet")
            if isinstance(http, dict) and http.get("scheme") == "HTTP":
                del http["scheme"]


def _clean_pod_template(template: dict[str, Any], strip_defaults: bool) -> None:
    meta = template.get("metadata")
    if isinstance(meta, dict):
        meta.pop("creationTimestamp", None)
        (meta.get("labels") or {}).pop(POD_TEMPLATE_HASH, None)
    spec = template.get("spec")
    if isinstance(spec, dict):
        _clean_pod_spec(spec, strip_defaults)


def _clean_pod_spec(spec: dict[str, Any], strip_defaults: bool) -> None:
    if strip_defaults:
        _drop_defaults(spec, _POD_SPEC_DEFAULTS)
    for key in ("containers", "initContainers"):
        for container in spec.get(key) or []:
            if isinstance(container, dict):
                _clean_container(container, strip_defaults)


def _prune_empty(value: Any) -> Any:
    """Drop None values and the empty maps the removals leave behind (not empty lists: `args: []` matters)."""
    if isinstance(value, dict):
        return _prune_map(value)
    if isinstance(value, list):
        return [_prune_empty(v) for v in value]
    return value


def _prune_map(value: Mapping[str, Any]) -> dict[str, Any]:
    pruned = {k: _prune_empty(v) for k, v in value.items() if v is not None}
    return {k: v for k, v in pruned.items() if v != {} or k in ("emptyDir", "securityContext")}


def clean_manifest(obj: Mapping[str, Any], *, strip_defaults: bool = True) -> Obj:
    """A copy of an API object without status and server-set noise (see the module docstring)."""
    body: dict[str, Any] = _deep_copy(obj)
    body.pop("status", None)
    meta = body.get("metadata")
    if isinstance(meta, dict):
        for key in _SERVER_METADATA:
            meta.pop(key, None)
        annotations = meta.get("annotations")
        if isinstance(annotations, dict):
            for key in _SERVER_ANNOTATIONS:
                annotations.pop(key, None)
        labels = meta.get("labels")
        if isinstance(labels, dict):
            labels.pop(POD_TEMPLATE_HASH, None)
    kind = body.get("kind")
    spec = body.get("spec")
    if isinstance(spec, dict):
        if strip_defaults:
            _drop_defaults(spec, _WORKLOAD_DEFAULTS)
        if isinstance(spec.get("selector"), dict):
            (spec["selector"].get("matchLabels") or {}).pop(POD_TEMPLATE_HASH, None)
        if isinstance(spec.get("template"), dict):
            _clean_pod_template(spec["template"], strip_defaults)
        if kind == "Pod":
            _clean_pod_spec(spec, strip_defaults)
    return _prune_map(body)


def _deep_copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_deep_copy(v) for v in value]
    return value


def live_manifest(
    kube: KubeClient,
    namespace: str,
    kind: str,
    name: str,
    *,
    strip_defaults: bool = True,
    sink: TraceSink = discard,
) -> ToolResult[Manifest]:
    """The object's live manifest, cleaned for diffing against the desired state in Git.

    Kinds: Deployment, StatefulSet, DaemonSet, Job, CronJob, ReplicaSet, Pod, Service, ConfigMap,
    Secret; redacted at the boundary like every tool's answer (a Secret keeps its keys only).
    """

    def run() -> Manifest:
        obj = read_object(kube, kind, namespace, name)
        obj.setdefault("apiVersion", API_VERSIONS.get(kind, ""))
        return Manifest(
            kind=kind, namespace=namespace, name=name, body=clean_manifest(obj, strip_defaults=strip_defaults)
        )

    return kube.run(
        LIVE_MANIFEST_TOOL,
        {"namespace": namespace, "kind": kind, "name": name, "strip_defaults": strip_defaults},
        run,
        sink,
        summarize=lambda m: f"{m.kind} {m.namespace}/{m.name}: {len(m.body)} top-level fields",
    )
