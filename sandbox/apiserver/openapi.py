"""A small OpenAPI document: enough for kubectl to find every kind and its patch strategy.

Each kind gets a definition carrying `x-kubernetes-group-version-kind`, with no property
schema (so kubectl's client-side validation accepts any field, as the sandbox stores any field),
and the merge keys kubectl's three-way strategic merge needs on the common pod-spec lists.
"""

from __future__ import annotations

from typing import Any

from sandbox.apiserver.patch import MERGE_KEYS
from sandbox.resources import Registry


def _definition_name(group: str, version: str, kind: str) -> str:
    return f"io.k8s.api.{group or 'core'}.{version}.{kind}"


def _lists_with_keys() -> dict[str, Any]:
    props: dict[str, Any] = {}
    for field, key in MERGE_KEYS.items():
        props[field] = {
            "type": "array",
            "items": {"type": "object"},
            "x-kubernetes-patch-merge-key": key,
            "x-kubernetes-patch-strategy": "merge",
        }
    return props


def swagger(registry: Registry) -> dict[str, Any]:
    """The /openapi/v2 document."""
    definitions: dict[str, Any] = {}
    for rt in registry.all():
        definitions[_definition_name(rt.group, rt.version, rt.kind)] = {
            "type": "object",
            "x-kubernetes-group-version-kind": [{"group": rt.group, "version": rt.version, "kind": rt.kind}],
        }
    return {
        "swagger": "2.0",
        "info": {"title": "Kubernetes (Paramedic sandbox)", "version": "v1.32.0"},
        "paths": {},
        "definitions": definitions,
    }


def document(registry: Registry, segments: list[str]) -> dict[str, Any] | None:
    """Serve /openapi/v2; /openapi/v3 is answered with 404 so kubectl falls back to v2."""
    if segments == ["v2"]:
        return swagger(registry)
    return None
