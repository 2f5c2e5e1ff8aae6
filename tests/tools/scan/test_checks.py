"""The scan's checks on a labelled seeded set: every seeded risk found, nothing else, nothing on clean."""

from __future__ import annotations

import json

import yaml

from tests.tools.scan.seeded import clean, seeded
from tests.tools.scan.snapshots import snapshot_of
from tools.scan import CHECKS, Recurring, Severity, run_checks
from tools.scan.finding import Finding
from tools.scan.snapshot import secret_names_only


def _precision_recall(found: set[tuple[str, str]], expected: set[tuple[str, str]]) -> tuple[float, float]:
    hits = len(found & expected)
    return (hits / len(found) if found else 1.0), (hits / len(expected) if expected else 1.0)


def test_nothing_is_found_on_a_clean_namespace_with_near_misses() -> None:
    report = run_checks(snapshot_of(clean()))
    assert report.findings == [], [f"{f.check}: {f.message}" for f in report.findings]
    assert report.workloads == 8


def test_every_seeded_risk_is_found_with_full_precision_and_recall() -> None:
    objects, expected = seeded()
    recurring = Recurring("seeded", "Deployment", "flaky", "oom", 4, {"healed": 3, "failed": 1})
    report = run_checks(snapshot_of([*objects, *clean()], [recurring]))
    found = {(f.check, f.name) for f in report.findings}
    precision, recall = _precision_recall(found, expected | {("recurring-incident", "flaky")})
    assert (precision, recall) == (1.0, 1.0), sorted(found ^ expected)
    assert {c.id for c in CHECKS} == {check for check, _ in found}, "every check is exercised"


def test_findings_are_worst_first_and_every_patch_is_valid_yaml() -> None:
    objects, _ = seeded()
    report = run_checks(snapshot_of(objects))
    ranks = [f.severity.rank for f in report.findings]
    assert ranks == sorted(ranks, reverse=True)
    for finding in report.findings:
        if finding.patch is not None:
            assert isinstance(yaml.safe_load(finding.patch), dict), finding
    huge = next(f for f in report.findings if f.check == "requests-exceed-nodes")
    assert "64Gi" not in huge.patch and yaml.safe_load(huge.patch)["spec"]["template"]["spec"]["containers"][
        0
    ]["resources"]["requests"]["memory"].endswith("Mi")
    probe = next(f for f in report.findings if f.check == "probe-port-not-exposed")
    assert "8080" in probe.patch and "9090" in probe.message


def test_the_unpinned_image_patch_pins_the_digest_a_pod_runs() -> None:
    objects, _ = seeded()
    objects = [o for o in objects if o["metadata"]["name"] in ("latest",)]
    running = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "latest-1", "namespace": "seeded", "labels": {"app": "latest"}},
        "status": {
            "containerStatuses": [
                {"name": "app", "imageID": "docker-pullable://registry.example/shop/web@sha256:" + "c" * 64}
            ]
        },
    }
    [finding] = [
        f for f in run_checks(snapshot_of([*objects, running])).findings if f.check == "unpinned-image"
    ]
    assert "registry.example/shop/web@sha256:" + "c" * 64 in finding.patch


def test_secrets_are_kept_as_names_and_keys_only() -> None:
    secret = {
        "kind": "Secret",
        "metadata": {"name": "api-keys", "namespace": "ns", "annotations": {"a": "b"}},
        "data": {"token": "c2VjcmV0"},
        "stringData": {"password": "hunter2"},
    }
    kept = secret_names_only(secret)
    assert kept["keys"] == ["password", "token"]
    assert "c2VjcmV0" not in json.dumps(kept) and "hunter2" not in json.dumps(kept)


def test_report_forms_and_fail_on() -> None:
    objects, expected = seeded()
    report = run_checks(snapshot_of(objects))
    as_json = report.to_json()
    assert sum(as_json["counts"].values()) == len(expected) == len(as_json["findings"])
    sarif = report.to_sarif()
    assert sarif["version"] == "2.1.0"
    results = sarif["runs"][0]["results"]
    assert {r["ruleId"] for r in results} <= {r["id"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert {r["level"] for r in results} <= {"error", "warning", "note"}
    assert len(report.at_or_above(Severity.CRITICAL)) == 0
    assert (
        len(report.at_or_above(Severity.HIGH)) == sum(1 for f in report.findings if f.severity.rank >= 3) > 0
    )
    assert len(report.at_or_above(Severity.INFO)) == len(report.findings)


def test_garbage_objects_do_not_break_the_checks() -> None:
    garbage = [
        {"kind": "Deployment", "metadata": "nope", "spec": {"template": {"spec": {"containers": "x"}}}},
        {"kind": "Deployment", "metadata": {"name": "w", "namespace": "n"}, "spec": None},
        {"kind": "Service", "metadata": {"name": "s", "namespace": "n"}, "spec": {"selector": ["x"]}},
        {"kind": "HorizontalPodAutoscaler", "metadata": {}, "spec": {"maxReplicas": "3"}},
        {"kind": "Pod", "metadata": {}, "status": {"containerStatuses": [{"restartCount": "lots"}]}},
    ]
    report = run_checks(snapshot_of(garbage))
    assert all(f.check == "single-replica-no-pdb" for f in report.findings)


def test_a_findings_message_and_patch_never_carry_a_secret() -> None:
    planted = "postgres://admin:Pl4ntedPw9x@db:5432/app"
    finding = Finding(
        check="x",
        severity=Severity.LOW,
        namespace="shop",
        kind="Deployment",
        name="api",
        message=f"env DATABASE_URL={planted}",
        patch=f"env:\n- name: DATABASE_URL\n  value: {planted}\n",
    )
    assert "Pl4ntedPw9x" not in finding.message + (finding.patch or "")
    assert "«redacted:" in finding.message and "DATABASE_URL" in finding.message
