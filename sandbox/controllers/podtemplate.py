"""Pods from a controller's pod template: the defaults the API server adds, the owner reference, and
creation through admission (a quota or LimitRange refuses a controller's pod as it would the API's)."""

from __future__ import annotations

from typing import Any

from sandbox import admission
from sandbox.controllers.pod_resources import qos_class
from sandbox.resources import PODS, Registry
from sandbox.store import Obj, Store, clone


def pod_defaults(spec: dict) -> dict:
    """The pod spec defaults kube-apiserver fills in (in place; returns spec)."""
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("serviceAccountName", spec.get("serviceAccount", "default"))
    spec.setdefault("securityContext", {})
    spec.setdefault("enableServiceLinks", True)
    for c in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
        image = c.get("image", "")
        tag_latest = image.endswith(":latest") or ":" not in image.rsplit("/", 1)[-1]
        c.setdefault("imagePullPolicy", "Always" if tag_latest else "IfNotPresent")
        c.setdefault("terminationMessagePath", "/dev/termination-log")
        c.setdefault("terminationMessagePolicy", "File")
        res = c.setdefault("resources", {})
        for name, value in (res.get("limits") or {}).items():
            res.setdefault("requests", {}).setdefault(name, value)
        for port in c.get("ports") or []:
            port.setdefault("protocol", "TCP")
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            if c.get(probe):
                p = c[probe]
                for k, v in (
                    ("periodSeconds", 10),
                    ("timeoutSeconds", 1),
                    ("successThreshold", 1),
                    ("failureThreshold", 3),
                ):
                    p.setdefault(k, v)
                if "httpGet" in p:
                    p["httpGet"].setdefault("scheme", "HTTP")
                    p["httpGet"].setdefault("path", "/")
    return spec


def owner_reference(owner: Obj) -> Obj:
    """A controller ownerReference to `owner`."""
    meta = owner["metadata"]
    return {
        "apiVersion": owner.get("apiVersion", ""),
        "kind": owner.get("kind", ""),
        "name": meta["name"],
        "uid": meta["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def pod_from_template(
    template: Obj,
    owner: Obj,
    *,
    name: str = "",
    generate_name: str = "",
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    spec_overrides: dict[str, Any] | None = None,
) -> Obj:
    """A new pod of `owner` from its template (not yet stored)."""
    tmeta = template.get("metadata") or {}
    meta: Obj = {
        "namespace": owner["metadata"]["namespace"],
        "labels": {**(tmeta.get("labels") or {}), **(labels or {})},
        "ownerReferences": [owner_reference(owner)],
    }
    if name:
        meta["name"] = name
    else:
        meta["generateName"] = generate_name
    merged_annotations = {**(tmeta.get("annotations") or {}), **(annotations or {})}
    if merged_annotations:
        meta["annotations"] = merged_annotations
    spec = pod_defaults(clone(template.get("spec") or {}))
    spec.update(spec_overrides or {})
    return {"metadata": meta, "spec": spec, "status": {"phase": "Pending", "qosClass": qos_class(spec)}}


def create_pod(store: Store, registry: Registry, pod: Obj, generate_name: str = "") -> Obj:
    """Store a controller's pod through admission (ApiError 403 when a quota or LimitRange refuses it).

    `generate_name`: the prefix a real controller would send as generateName (what a refusal names)."""
    return admission.create(store, registry, PODS, pod, generate_name)
