"""OpenAPI v3 documents: enough for kubectl to find every kind and to use server-side validation.

kubectl asks `/openapi/v3` for the group-versions, then each group-version's document. A PATCH
operation tagged with a kind's `x-kubernetes-group-version-kind` and a `fieldValidation`
parameter tells kubectl the server validates fields itself, so it does not download the
(protobuf) v2 schema. Schemas carry no properties: the sandbox stores any field, and for
built-in kinds kubectl computes strategic-merge patches from its own compiled types.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sandbox.resources import Registry
from sandbox.store import ResourceType


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def _schema_name(rt: ResourceType) -> str:
    return f"io.k8s.api.{rt.group or 'core'}.{rt.version}.{rt.kind}"


def root(registry: Registry) -> dict[str, Any]:
    """GET /openapi/v3: where each group-version's document is."""
    paths: dict[str, Any] = {}
    for gv in sorted({(rt.group, rt.version) for rt in registry.all()}):
        path = _gv_path(*gv)
        digest = hashlib.sha256(str(group_version(registry, *gv)).encode()).hexdigest()[:16].upper()
        paths[path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest}"}
    return {"paths": paths}


def _operation(rt: ResourceType, verb: str) -> dict[str, Any]:
    params = [{"name": "dryRun", "in": "query", "schema": {"type": "string"}}]
    if verb in ("patch", "put", "post"):
        params.append({"name": "fieldValidation", "in": "query", "schema": {"type": "string"}})
        params.append({"name": "fieldManager", "in": "query", "schema": {"type": "string"}})
    ref = {"$ref": f"#/components/schemas/{_schema_name(rt)}"}
    return {
        "operationId": f"{verb}{rt.kind}",
        "parameters": params,
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": ref}}}},
        "x-kubernetes-action": verb,
        "x-kubernetes-group-version-kind": {"group": rt.group, "version": rt.version, "kind": rt.kind},
    }


def group_version(registry: Registry, group: str, version: str) -> dict[str, Any] | None:
    """GET /openapi/v3/api/v1 or /openapi/v3/apis/<group>/<version>."""
    types = [rt for rt in registry.all() if rt.group == group and rt.version == version]
    if not types:
        return None
    prefix = "/" + _gv_path(group, version)
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for rt in types:
        base = f"{prefix}/namespaces/{{namespace}}/{rt.plural}" if rt.namespaced else f"{prefix}/{rt.plural}"
        paths[base] = {"get": _operation(rt, "list"), "post": _operation(rt, "post")}
        paths[f"{base}/{{name}}"] = {
            "get": _operation(rt, "get"),
            "put": _operation(rt, "put"),
            "patch": _operation(rt, "patch"),
            "delete": _operation(rt, "delete"),
        }
        schemas[_schema_name(rt)] = {
            "type": "object",
            "x-kubernetes-preserve-unknown-fields": True,
            "x-kubernetes-group-version-kind": [{"group": rt.group, "version": rt.version, "kind": rt.kind}],
        }
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes (Paramedic sandbox)", "version": "v1.32.0"},
        "paths": paths,
        "components": {"schemas": schemas},
    }


def document(registry: Registry, segments: list[str]) -> dict[str, Any] | None:
    """Serve /openapi/v3 and its group-version documents; None (404) for anything else."""
    if segments == ["v3"]:
        return root(registry)
    if segments[:2] == ["v3", "api"] and len(segments) == 3:
        return group_version(registry, "", segments[2])
    if segments[:2] == ["v3", "apis"] and len(segments) == 4:
        return group_version(registry, segments[2], segments[3])
    return None
