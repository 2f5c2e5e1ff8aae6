"""`GET /api/v1/findings` and the findings page, against the sandbox's API server."""

from __future__ import annotations

from pathlib import Path

from sandbox.resources import NAMESPACES
from server.chat.service import KUBE_KEY
from tests.sandbox.apiserver_fixtures import serve
from tests.server.api.conftest import Api
from tests.tools.scan.seeded import NODES, seeded
from tests.tools.scan.test_scan_sandbox import _TYPES
from tools.kubernetes import KubeClient


def test_findings_api_and_page_without_a_cluster_say_so(api: Api) -> None:
    response = api.client.get("/api/v1/findings")
    assert response.status_code == 503 and "no cluster connection" in response.json()["detail"]
    page = api.client.get("/ui/findings")
    assert page.status_code == 200 and "no cluster connection" in page.text


def test_findings_api_filters_by_severity_and_speaks_sarif(api: Api, tmp_path: Path) -> None:
    objects, expected = seeded()
    with serve(tmp_path) as cluster:
        cluster.store.create(NAMESPACES, {"metadata": {"name": "seeded"}})
        for obj in [*NODES, *objects]:
            cluster.store.create(_TYPES[obj["kind"]], obj)
        api.context.extras[KUBE_KEY] = KubeClient(cluster.client)
        everything = api.client.get("/api/v1/findings", params={"namespace": "seeded"}).json()
        high = api.client.get("/api/v1/findings", params={"namespace": "seeded", "severity": "high"}).json()
        sarif = api.client.get("/api/v1/findings", params={"namespace": "seeded", "form": "sarif"}).json()
        page = api.client.get("/ui/findings").text
    assert {(f["check"], f["name"]) for f in everything["findings"]} == expected
    assert high["findings"] and all(f["severity"] in ("high", "critical") for f in high["findings"])
    assert sarif["version"] == "2.1.0" and len(sarif["runs"][0]["results"]) == len(expected)
    assert 'data-check="missing-config-ref"' in page and "seeded/service/orphan" in page
