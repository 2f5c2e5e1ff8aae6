"""deploy/components/workload-alerts: the PrometheusRule renders, Prometheus's own `promtool` accepts
its rules, a pod answering with errors fires the alert (a healthy or nearly idle one does not), and
the alert's labels name the pod's workload to Paramedic's webhook."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from server.alertmanager import workload_of
from tests import system_packages
from tests.deploy.conftest import DEPLOY, kustomize, parse

BROKEN = "joke-service-7d9f8b6c4d-x2x9z"  # a third of its answers are 500s
HEALTHY = "web-api-5c8f7b9d6-k4q7p"  # 1 in 60
IDLE = "cron-report-6b7f9c5d4-zz8m2"  # half fail, at 4 requests a minute


def _rules(tmp_path: Path) -> Path:
    [rule] = parse(kustomize(DEPLOY / "overlays" / "workload-alerts"))
    assert (rule["kind"], rule["metadata"]["namespace"]) == ("PrometheusRule", "paramedic")
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}), encoding="utf-8")
    return path


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [system_packages.require("promtool"), *args], capture_output=True, text=True, timeout=60, check=False
    )


def _series(pod: str, ok_per_min: int, errors_per_min: int) -> list[dict[str, str]]:
    selector = f'namespace="shop",pod="{pod}"'
    return [
        {"series": f'http_requests_total{{{selector},code="{code}"}}', "values": f"0+{n}x30"}
        for code, n in (("200", ok_per_min), ("500", errors_per_min))
    ]


@pytest.mark.process  # promtool
def test_promtool_accepts_the_rules(tmp_path: Path) -> None:
    done = _promtool("check", "rules", str(_rules(tmp_path)))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 1 rules found" in done.stdout


@pytest.mark.process  # promtool
def test_a_pod_answering_with_errors_fires_once_its_for_window_passed_and_names_its_workload(
    tmp_path: Path,
) -> None:
    rules = _rules(tmp_path)
    labels = {"severity": "warning", "namespace": "shop", "pod": BROKEN}
    expected = {
        "exp_labels": labels,
        "exp_annotations": {
            "summary": f"shop/{BROKEN} answers 33.33% of its requests with a 5xx",
            "description": (
                "More than 5% of the HTTP requests this pod served over the last 5 minutes failed with a "
                "server error, for 5 minutes. The pod runs and passes its probes, so only its answers show "
                "the fault: a configuration value it cannot use, or a dependency behind it failing."
            ),
        },
    }
    tests = {
        "rule_files": [rules.name],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [*_series(BROKEN, 40, 20), *_series(HEALTHY, 59, 1), *_series(IDLE, 2, 2)],
                "alert_rule_test": [
                    # pending, not firing, before the 5 minutes of `for` have passed
                    {"eval_time": "4m", "alertname": "WorkloadHighErrorRate", "exp_alerts": []},
                    {"eval_time": "15m", "alertname": "WorkloadHighErrorRate", "exp_alerts": [expected]},
                ],
            }
        ],
    }
    spec = tmp_path / "tests.yaml"
    spec.write_text(yaml.safe_dump(tests), encoding="utf-8")
    done = _promtool("test", "rules", str(spec))
    assert done.returncode == 0, done.stdout + done.stderr
    # The webhook maps the alert to the pod's Deployment (its ReplicaSet-hashed name).
    target = workload_of(labels)
    assert not isinstance(target, str), target
    assert (target.kind, target.namespace, target.name) == ("Deployment", "shop", "joke-service")
