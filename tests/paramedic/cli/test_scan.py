"""`paramedic scan` against the sandbox: the labelled seeded namespace, a clean one, the output forms
and the `--fail-on` exit code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from paramedic.cli.main import app
from sandbox import resources
from sandbox.cluster import Sandbox
from tests.tools.scan.seeded import clean, seeded

pytestmark = pytest.mark.e2e

_TYPES = {
    "Pod": resources.PODS,
    "Service": resources.SERVICES,
    "ConfigMap": resources.CONFIGMAPS,
    "Deployment": resources.DEPLOYMENTS,
    "StatefulSet": resources.STATEFULSETS,
    "DaemonSet": resources.DAEMONSETS,
    "PodDisruptionBudget": resources.PODDISRUPTIONBUDGETS,
    "HorizontalPodAutoscaler": resources.HORIZONTALPODAUTOSCALERS,
}


@pytest.fixture(scope="module")
def seeded_sandbox(tmp_path_factory: pytest.TempPathFactory):
    # Stepped: nothing moves, so the seeded objects stay as written (a bad liveness probe would
    # otherwise start restarting its pods too, a true finding but a timing-dependent one).
    with Sandbox(workdir=tmp_path_factory.mktemp("sb"), seed=7, background=False) as sb:
        objects, expected = seeded()
        for obj in objects:
            if obj["kind"] == "Pod":  # an owner that does not exist would be garbage-collected
                obj["metadata"].pop("ownerReferences")
                expected = expected - {("restarts-climbing", "crashy")} | {
                    ("restarts-climbing", obj["metadata"]["name"])
                }
        for ns in ("clean", "seeded"):
            sb.store.create(resources.NAMESPACES, {"metadata": {"name": ns}})
        for obj in [*objects, *clean()]:
            sb.store.create(_TYPES[obj["kind"]], obj)
        yield sb, expected


def _env(sb: Sandbox, data: Path) -> dict[str, str]:
    return {"PARAMEDIC_CLUSTER__KUBECONFIG": str(sb.kubeconfig_path), "PARAMEDIC_DATA_DIR": str(data)}


def test_scan_finds_each_seeded_risk_as_json_and_fails_on_high(seeded_sandbox, tmp_path: Path) -> None:
    sb, expected = seeded_sandbox
    result = CliRunner().invoke(
        app, ["scan", "-n", "seeded", "-o", "json", "--fail-on", "high"], env=_env(sb, tmp_path)
    )
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    found = {(f["check"], f["name"]) for f in report["findings"]}
    assert found == expected
    assert all(f["namespace"] == "seeded" for f in report["findings"])


def test_scan_of_a_clean_namespace_finds_nothing_and_exits_0(seeded_sandbox, tmp_path: Path) -> None:
    sb, _ = seeded_sandbox
    result = CliRunner().invoke(app, ["scan", "-n", "clean", "--fail-on", "info"], env=_env(sb, tmp_path))
    assert result.exit_code == 0, result.output
    assert "no findings in 8 workloads" in result.output


def test_scan_table_and_sarif(seeded_sandbox, tmp_path: Path) -> None:
    sb, expected = seeded_sandbox
    table = CliRunner().invoke(app, ["scan", "-n", "seeded"], env={**_env(sb, tmp_path), "COLUMNS": "250"})
    assert table.exit_code == 0, table.output  # no --fail-on: findings are reported, not failed
    assert f"{len(expected)} findings in 11 workloads" in table.output
    assert "missing-config-ref" in table.output and "seeded/service/orphan" in table.output
    sarif = CliRunner().invoke(
        app, ["scan", "-n", "seeded", "-o", "sarif", "--fail-on", "critical"], env=_env(sb, tmp_path)
    )
    assert sarif.exit_code == 0
    assert len(json.loads(sarif.stdout)["runs"][0]["results"]) == len(expected)


def test_scan_rejects_a_bad_severity(seeded_sandbox, tmp_path: Path) -> None:
    sb, _ = seeded_sandbox
    result = CliRunner().invoke(app, ["scan", "--fail-on", "urgent"], env=_env(sb, tmp_path))
    assert result.exit_code == 2
