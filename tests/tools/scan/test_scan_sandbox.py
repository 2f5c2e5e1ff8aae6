"""The scan against the sandbox's API server through the official client: the labelled set, read for real."""

from __future__ import annotations

from pathlib import Path

from sandbox import resources
from sandbox.resources import NAMESPACES
from tests.sandbox.apiserver_fixtures import serve
from tests.tools.scan.seeded import NODES, clean, seeded
from tools.kubernetes import KubeClient
from tools.scan import read_snapshot, run_checks, scanned_namespaces

_TYPES = {
    "Node": resources.NODES,
    "Pod": resources.PODS,
    "Service": resources.SERVICES,
    "ConfigMap": resources.CONFIGMAPS,
    "Secret": resources.SECRETS,
    "Deployment": resources.DEPLOYMENTS,
    "StatefulSet": resources.STATEFULSETS,
    "DaemonSet": resources.DAEMONSETS,
    "PodDisruptionBudget": resources.PODDISRUPTIONBUDGETS,
    "HorizontalPodAutoscaler": resources.HORIZONTALPODAUTOSCALERS,
}


def test_scan_of_the_sandbox_finds_each_seeded_risk_and_nothing_on_the_clean_namespace(
    tmp_path: Path,
) -> None:
    objects, expected = seeded()
    secret = {
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": "clean"},
        "data": {"password": "aHVudGVyMg=="},
    }
    with serve(tmp_path) as api:
        for ns in ("clean", "seeded"):
            api.store.create(NAMESPACES, {"metadata": {"name": ns}})
        for obj in [*NODES, *objects, *clean(), secret]:
            api.store.create(_TYPES[obj["kind"]], obj)
        kube = KubeClient(api.client)
        assert scanned_namespaces(kube, [], ["shop"]) == ["clean", "seeded"]
        assert run_checks(read_snapshot(kube, ["clean"])).findings == []
        snapshot = read_snapshot(kube, ["clean", "seeded"])
        assert "aHVudGVyMg==" not in repr(snapshot.secrets)
        report = run_checks(snapshot)
    assert {(f.check, f.name) for f in report.findings} == expected
