"""Aggregated discovery (apidiscovery.k8s.io/v2): every group-version's resources in /api and /apis.

A Kubernetes 1.30 API server answers `GET /api` and `GET /apis` with an APIGroupDiscoveryList when
the client's Accept asks for one (`application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList`,
as kubectl and client-go do), so a client learns every resource in two requests instead of one per
group-version. Clients that ask for plain JSON (the Python `kubernetes` client) still get the legacy
documents of `discovery`.
"""

from __future__ import annotations

from typing import Any

from sandbox.apiserver.discovery import SUBRESOURCES
from sandbox.resources import Registry
from sandbox.store import ResourceType

GROUP = "apidiscovery.k8s.io"
# The versions served, newest first: v2 (GA in 1.30) and v2beta1 (what 1.26-1.29 clients ask for).
VERSIONS = ("v2", "v2beta1")


def negotiate(accept: str) -> str | None:
    """The aggregated-discovery version the Accept header prefers (`v2`, `v2beta1`), or None for the
    legacy documents. Media ranges are taken in the client's order, as the API server does."""
    for media_range in accept.split(","):
        kind, *raw_params = (part.strip() for part in media_range.split(";"))
        if kind != "application/json":
            continue
        params = dict(p.partition("=")[::2] for p in raw_params)
        if params.get("g") == GROUP and params.get("as") == "APIGroupDiscoveryList":
            if params.get("v") in VERSIONS:
                return params["v"]
            continue
        if "g" not in params and "as" not in params:
            return None  # plain JSON first: the legacy documents
    return None


def content_type(version: str) -> str:
    """The media type of an APIGroupDiscoveryList response (kubectl checks it before decoding)."""
    return f"application/json;g={GROUP};v={version};as=APIGroupDiscoveryList"


def _resource(rt: ResourceType) -> dict[str, Any]:
    own_kind = {"group": rt.group, "version": rt.version, "kind": rt.kind}
    entry: dict[str, Any] = {
        "resource": rt.plural,
        "responseKind": own_kind,
        "scope": "Namespaced" if rt.namespaced else "Cluster",
        "singularResource": rt.singular or rt.kind.lower(),
        "verbs": list(rt.verbs),
    }
    if rt.short_names:
        entry["shortNames"] = list(rt.short_names)
    if rt.categories:
        entry["categories"] = list(rt.categories)
    subresources = [
        {
            "subresource": sub,
            "responseKind": SUBRESOURCES[sub][0] or own_kind,
            "verbs": list(SUBRESOURCES[sub][1]),
        }
        for sub in rt.subresources
        if sub in SUBRESOURCES
    ]
    if subresources:
        entry["subresources"] = subresources
    return entry


def group_list(registry: Registry, version: str, *, core: bool) -> dict[str, Any]:
    """GET /api (`core`: the core group alone) or /apis (every other group) as an APIGroupDiscoveryList.

    A group's versions keep the order of the legacy /apis document, whose first is the preferred one."""
    groups: dict[str, dict[str, list[ResourceType]]] = {}
    for rt in registry.all():
        if (rt.group == "") == core:
            groups.setdefault(rt.group, {}).setdefault(rt.version, []).append(rt)
    items = []
    for group, versions in sorted(groups.items()):
        metadata: dict[str, Any] = (
            {"name": group, "creationTimestamp": None} if group else {"creationTimestamp": None}
        )
        items.append(
            {
                "metadata": metadata,
                "versions": [
                    {"version": v, "resources": [_resource(rt) for rt in types], "freshness": "Current"}
                    for v, types in versions.items()
                ],
            }
        )
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": f"{GROUP}/{version}",
        "metadata": {},
        "items": items,
    }
