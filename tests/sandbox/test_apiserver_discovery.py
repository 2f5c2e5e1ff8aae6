"""Discovery: the aggregated documents (apidiscovery.k8s.io/v2) say what the legacy ones say, the
Accept header picks one, and both follow CRDs as they come and go."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sandbox.apiserver import ApiServer, aggregated_discovery, discovery
from sandbox.apiserver.documents import DocumentCache
from sandbox.resources import Registry
from sandbox.store import ResourceType, Store

# What kubectl 1.32 sends for /api and /apis.
KUBECTL_ACCEPT = (
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"
)
WIDGETS = ResourceType(
    "example.com",
    "v1",
    "Widget",
    "widgets",
    namespaced=False,
    short_names=("wd",),
    singular="widget",
    subresources=("status", "scale"),
    categories=("all", "gadgets"),
)


def client_go_view(doc: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """An APIGroupDiscoveryList as client-go turns it into legacy discovery (aggregated_discovery.go):
    the groups with their versions and preferred (first) version, and each group-version's resources,
    a subresource becoming `<resource>/<sub>` with the parent's scope and no singular name."""
    groups, resources = [], {}
    for item in doc["items"]:
        name = item["metadata"].get("name", "")
        versions = [
            {"groupVersion": f"{name}/{v['version']}" if name else v["version"], "version": v["version"]}
            for v in item["versions"]
        ]
        groups.append({"name": name, "versions": versions, "preferredVersion": versions[0]})
        for v, gv in zip(item["versions"], versions, strict=True):
            out = []
            for r in v["resources"]:
                kind = r["responseKind"]
                entry = {
                    "name": r["resource"],
                    "singularName": r["singularResource"],
                    "namespaced": r["scope"] == "Namespaced",
                    "kind": kind["kind"],
                    "verbs": r["verbs"],
                    **({"shortNames": r["shortNames"]} if "shortNames" in r else {}),
                    **({"categories": r["categories"]} if "categories" in r else {}),
                }
                out.append(entry)
                for sub in r.get("subresources") or []:
                    sub_kind = sub["responseKind"]
                    out.append(
                        {
                            "name": f"{r['resource']}/{sub['subresource']}",
                            "singularName": "",
                            "namespaced": entry["namespaced"],
                            # the legacy list names a subresource's group only when it is another kind's
                            **({} if sub_kind == kind else {"group": sub_kind["group"]}),
                            **({} if sub_kind == kind else {"version": sub_kind["version"]}),
                            "kind": sub_kind["kind"],
                            "verbs": sub["verbs"],
                        }
                    )
            resources[gv["groupVersion"]] = out
    return groups, resources


def test_aggregated_documents_say_what_the_legacy_documents_say() -> None:
    registry = Registry.with_builtins()
    registry.add(WIDGETS)
    for version in aggregated_discovery.VERSIONS:
        core_doc = aggregated_discovery.group_list(registry, version, core=True)
        apis_doc = aggregated_discovery.group_list(registry, version, core=False)
        assert core_doc["kind"] == apis_doc["kind"] == "APIGroupDiscoveryList"
        assert core_doc["apiVersion"] == f"apidiscovery.k8s.io/{version}"
        core_groups, core_resources = client_go_view(core_doc)
        groups, resources = client_go_view(apis_doc)
        assert core_groups == [{"name": "", "versions": [{"groupVersion": "v1", "version": "v1"}],
                                "preferredVersion": {"groupVersion": "v1", "version": "v1"}}]  # fmt: skip
        assert core_doc["items"][0]["metadata"] == {"creationTimestamp": None}  # the core group has no name
        assert groups == discovery.api_groups(registry)["groups"]
        for gv, listed in {**core_resources, **resources}.items():
            group, _, v = gv.rpartition("/")
            legacy = discovery.resource_list(registry, group, v)
            assert legacy is not None and listed == legacy["resources"], gv
    widget = next(r for i in apis_doc["items"] if i["metadata"]["name"] == "example.com"
                  for v in i["versions"] for r in v["resources"])  # fmt: skip
    assert widget["scope"] == "Cluster" and widget["categories"] == ["all", "gadgets"]
    assert widget["subresources"][1] == {
        "subresource": "scale",
        "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"},
        "verbs": ["get", "patch", "update"],
    }
    assert all(v["freshness"] == "Current" for i in apis_doc["items"] for v in i["versions"])


@pytest.mark.parametrize(
    ("accept", "version"),
    [
        (KUBECTL_ACCEPT, "v2"),
        (
            "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json",
            "v2beta1",
        ),
        ("application/json; as=APIGroupDiscoveryList; v=v2; g=apidiscovery.k8s.io", "v2"),  # any order
        ("application/json", None),
        ("application/json, */*", None),
        ("", None),
        ("application/json,application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList", None),
        ("application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList,application/json", None),
        ("application/yaml;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList", None),
    ],
)
def test_the_accept_header_picks_aggregated_or_legacy_in_the_clients_order(
    accept: str, version: str | None
) -> None:
    assert aggregated_discovery.negotiate(accept) == version


def test_documents_are_built_once_per_registry_generation() -> None:
    registry = Registry.with_builtins()
    cache = DocumentCache(registry)
    builds: list[str] = []

    def build() -> dict[str, Any]:
        builds.append("apis")
        return discovery.api_groups(registry)

    first = cache.get("apis", build)
    assert cache.get("apis", build) is first and builds == ["apis"]
    registry.add(WIDGETS)
    assert b"example.com" in (cache.get("apis", build) or b"") and len(builds) == 2
    registry.remove("example.com", "v1", "widgets")
    registry.remove("example.com", "v1", "widgets")  # nothing served there: no change, no rebuild
    assert b"example.com" not in (cache.get("apis", build) or b"") and len(builds) == 3
    assert cache.get("apis", build) is not None and len(builds) == 3
    assert cache.get("nothing", lambda: None) is None  # a made-up path is not kept


@pytest.fixture
def server() -> Iterator[tuple[ApiServer, Registry]]:
    registry = Registry.with_builtins()
    api = ApiServer(Store(), registry)
    api.start()
    yield api, registry
    api.stop()


def test_kubectls_accept_gets_aggregated_discovery_that_follows_crds(
    server: tuple[ApiServer, Registry],
) -> None:
    api, registry = server
    with httpx.Client(base_url=api.url or "", timeout=5) as client:
        legacy = client.get("/apis").json()
        assert legacy["kind"] == "APIGroupList"
        assert client.get("/api").json()["versions"] == ["v1"]
        response = client.get("/apis", headers={"Accept": KUBECTL_ACCEPT})
        assert response.headers["content-type"] == aggregated_discovery.content_type("v2")
        assert response.headers["vary"] == "Accept"
        names = [i["metadata"]["name"] for i in response.json()["items"]]
        assert names == [g["name"] for g in legacy["groups"]]
        core = client.get("/api", headers={"Accept": KUBECTL_ACCEPT}).json()
        assert [r["resource"] for r in core["items"][0]["versions"][0]["resources"]][:2] == [
            "configmaps",
            "endpoints",
        ]
        registry.add(WIDGETS)  # as creating a CRD does
        after = client.get("/apis", headers={"Accept": KUBECTL_ACCEPT}).json()
        assert "example.com" in [i["metadata"]["name"] for i in after["items"]]
        assert client.get("/apis/example.com/v1").json()["resources"][0]["name"] == "widgets"
        registry.remove("example.com", "v1", "widgets")
        assert client.get("/apis/example.com/v1").status_code == 404
        gone = client.get("/apis", headers={"Accept": KUBECTL_ACCEPT}).json()
        assert "example.com" not in [i["metadata"]["name"] for i in gone["items"]]
