"""Legacy discovery documents: /api, /apis, /api/v1, /apis/<group>/<version>, /version."""

from __future__ import annotations

from typing import Any

from sandbox.resources import Registry
from sandbox.store import ResourceType

VERSION = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.0-paramedic-sandbox",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2026-01-01T00:00:00Z",
    "goVersion": "go1.23",
    "compiler": "gc",
    "platform": "linux/amd64",
}


def api_versions() -> dict[str, Any]:
    """GET /api."""
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}],
    }


def api_groups(registry: Registry) -> dict[str, Any]:
    """GET /apis: every non-core group with its served versions."""
    groups: dict[str, list[str]] = {}
    for rt in registry.all():
        if rt.group and rt.version not in groups.setdefault(rt.group, []):
            groups[rt.group].append(rt.version)
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [
            {
                "name": group,
                "versions": [{"groupVersion": f"{group}/{v}", "version": v} for v in versions],
                "preferredVersion": {"groupVersion": f"{group}/{versions[0]}", "version": versions[0]},
            }
            for group, versions in sorted(groups.items())
        ],
    }


def api_group(registry: Registry, group: str) -> dict[str, Any] | None:
    """GET /apis/<group>."""
    for entry in api_groups(registry)["groups"]:
        if entry["name"] == group:
            return {"kind": "APIGroup", "apiVersion": "v1", **entry}
    return None


# subresource -> (the kind it serves, when not the resource's own; its verbs)
SUBRESOURCES: dict[str, tuple[dict[str, str], tuple[str, ...]]] = {
    "status": ({}, ("get", "patch", "update")),
    "scale": ({"group": "autoscaling", "version": "v1", "kind": "Scale"}, ("get", "patch", "update")),
    "log": ({}, ("get",)),
}


def _resource_entries(rt: ResourceType) -> list[dict[str, Any]]:
    entry: dict[str, Any] = {
        "name": rt.plural,
        "singularName": rt.singular or rt.kind.lower(),
        "namespaced": rt.namespaced,
        "kind": rt.kind,
        "verbs": list(rt.verbs),
    }
    if rt.short_names:
        entry["shortNames"] = list(rt.short_names)
    if rt.categories:
        entry["categories"] = list(rt.categories)
    entries = [entry]
    for sub in rt.subresources:
        if sub in SUBRESOURCES:
            serves, verbs = SUBRESOURCES[sub]
            entries.append(
                {
                    "name": f"{rt.plural}/{sub}",
                    "singularName": "",
                    "namespaced": rt.namespaced,
                    **(serves or {"kind": rt.kind}),
                    "verbs": list(verbs),
                }
            )
    return entries


def resource_list(registry: Registry, group: str, version: str) -> dict[str, Any] | None:
    """GET /api/v1 or /apis/<group>/<version>: the resources served there, or None."""
    types = [rt for rt in registry.all() if rt.group == group and rt.version == version]
    if not types:
        return None
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": [entry for rt in types for entry in _resource_entries(rt)],
    }
