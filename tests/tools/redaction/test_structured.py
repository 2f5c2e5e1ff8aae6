"""redact_data on Kubernetes objects and alerts: structure first, then shapes; nothing else moves."""

from __future__ import annotations

import copy
import json

from tools.redaction import MARKER_PATTERN, Marker, Redactor, StructuredRedactor, redact_data

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def _redactor() -> StructuredRedactor:
    return StructuredRedactor(Redactor(Marker(b"k" * 32)))


def test_env_values_go_by_name_and_names_stay() -> None:
    pod = {"env": [
        {"name": "CLOUD_CREDS", "value": "AKIAJHYYXWU9NWHP5WD5"},
        {"name": "DATABASE_URL", "value": "postgres://app:Pw1@db:5432/shop"},
        {"name": "PORT", "value": "8080"},
        {"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "api", "key": "token"}}},
    ]}  # fmt: skip
    out = redact_data(pod)
    assert MARKER_PATTERN.fullmatch(out["env"][0]["value"])
    assert out["env"][1]["value"].startswith("postgres://app:«redacted:")
    assert out["env"][1]["value"].endswith("@db:5432/shop")
    assert out["env"][2:] == pod["env"][2:]
    assert [e["name"] for e in out["env"]] == [e["name"] for e in pod["env"]]


def test_a_secret_loses_every_value_and_keeps_every_key() -> None:
    secret = {"kind": "Secret", "metadata": {"name": "db"}, "type": "Opaque",
              "data": {"password": "aHVudGVyMg==", "empty": ""}, "stringData": {"user": "app"}}  # fmt: skip
    out = redact_data(secret)
    assert set(out["data"]) == {"password", "empty"} and out["data"]["empty"] == ""
    assert MARKER_PATTERN.fullmatch(out["data"]["password"])
    assert MARKER_PATTERN.fullmatch(out["stringData"]["user"])
    assert out["metadata"] == {"name": "db"} and out["type"] == "Opaque"


def test_a_secret_value_and_the_same_password_in_an_env_var_correlate() -> None:
    redactor = _redactor()
    secret = redactor.redact_data({"kind": "Secret", "data": {"password": "aHVudGVyMg=="}})
    env = redactor.redact_data({"name": "DB_PASSWORD", "value": "hunter2"})
    assert secret["data"]["password"] == env["value"]


def test_last_applied_configuration_is_redacted_inside_not_dropped() -> None:
    env = [{"name": "SMTP_PASSWORD", "value": "L4st"}]
    containers = [{"name": "web", "image": "web:1.2", "env": env}]
    applied = {"kind": "Deployment", "spec": {"template": {"spec": {"containers": containers}}}}
    obj = {"metadata": {"annotations": {LAST_APPLIED: json.dumps(applied)}}}
    out = redact_data(obj)
    inner = json.loads(out["metadata"]["annotations"][LAST_APPLIED])
    container = inner["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "web:1.2" and container["env"][0]["name"] == "SMTP_PASSWORD"
    assert MARKER_PATTERN.fullmatch(container["env"][0]["value"])
    untouched = {"metadata": {"annotations": {"x": json.dumps({"replicas": 2}, indent=2)}}}
    assert redact_data(untouched) == untouched, "a JSON value with no secret keeps its formatting"


def test_argv_flag_values_and_scripts() -> None:
    container = {"command": ["sh", "-c", "curl -u ops:Sh3ll http://x"],
                 "args": ["--mysql.password", "Exp0rt", "--port=9104"]}  # fmt: skip
    out = redact_data(container)
    assert "Sh3ll" not in out["command"][2] and out["command"][2].startswith("curl -u ops:«redacted:")
    assert out["args"][0] == "--mysql.password" and MARKER_PATTERN.fullmatch(out["args"][1])
    assert out["args"][2] == "--port=9104"


def test_kubernetes_key_names_and_selectors_stay() -> None:
    spec = {
        "selector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]},
        "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}],
        "volumes": [{"secret": {"secretName": "db", "items": [{"key": "password", "path": "pw"}]}}],
        "resources": {"limits": {"memory": "512Mi", "cpu": "1"}},
    }
    assert redact_data(spec) == spec


def test_fields_by_name_numbers_and_booleans() -> None:
    out = redact_data({"password": 1234, "max_tokens": 1024, "password_required": True, "token": None})
    assert MARKER_PATTERN.fullmatch(out["password"])
    assert out["max_tokens"] == 1024 and out["password_required"] is True and out["token"] is None


def test_alert_labels_and_annotations() -> None:
    alert = {"labels": {"alertname": "ProbeFailed", "instance": "https://ops:Al3rt@status.shop/h"},
             "annotations": {"runbook_token": "rb-t0k", "summary": "Probe failed"}}  # fmt: skip
    out = redact_data(alert)
    assert "Al3rt" not in json.dumps(out) and "rb-t0k" not in json.dumps(out)
    assert out["labels"]["alertname"] == "ProbeFailed" and out["annotations"]["summary"] == "Probe failed"


def test_the_input_is_never_modified() -> None:
    obj = {"kind": "Secret", "data": {"a": "YQ=="}, "env": [{"name": "DB_PASSWORD", "value": "x1"}]}
    before = copy.deepcopy(obj)
    redact_data(obj)
    assert obj == before
