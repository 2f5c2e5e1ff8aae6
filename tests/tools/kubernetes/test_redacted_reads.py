"""Every Kubernetes read answers redacted: the live manifest (env values, args, annotations, the
last-applied configuration, a Secret's data), the rollout history's pod templates, status and event
messages, logs, and the trace event of each call. Names, images and numbers stay."""

from __future__ import annotations

import base64
import json
from typing import Any

from tests.tools.kubernetes.builders import NS, deployment, oom_pod, replica_set
from tests.tools.kubernetes.conftest import Answer, FakeApi, Trace
from tools.kubernetes.client import KubeClient
from tools.kubernetes.manifest import live_manifest
from tools.kubernetes.pod_logs import pod_logs
from tools.kubernetes.rollouts import rollout_history
from tools.kubernetes.status import workload_status
from tools.kubernetes.workload_events import workload_events
from tools.result import ToolResult

APPS = f"/apis/apps/v1/namespaces/{NS}"
CORE = f"/api/v1/namespaces/{NS}"
PASSWORD = "Pg-pa55word-7731"
TOKEN = "tok_5f1b9c2e8a7d4c3b"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
CURL_PW = "curl-Pw-99x"
ANNOTATION_TOKEN = "xoxb-123456789012-abcdefghijklmnop"
PLANTED = (PASSWORD, TOKEN, AWS_SECRET, CURL_PW, ANNOTATION_TOKEN)


def _planted_container() -> dict[str, Any]:
    return {
        "name": "app",
        "image": "shop/web:1.2",
        "command": ["sh", "-c", f"curl -u admin:{CURL_PW} http://auth/login && exec /app"],
        "args": ["--db-password", PASSWORD],
        "env": [
            {"name": "DATABASE_URL", "value": f"postgres://app:{PASSWORD}@db:5432/shop"},
            {"name": "API_TOKEN", "value": TOKEN},
            {"name": "CLOUD_CREDS", "value": f"AKIAIOSFODNN7EXAMPLE:{AWS_SECRET}"},
            {"name": "LOG_LEVEL", "value": "info"},
        ],
    }


def _planted_deployment() -> dict[str, Any]:
    obj = deployment()
    obj["spec"]["template"]["spec"]["containers"] = [_planted_container()]
    obj["metadata"]["annotations"]["example.com/deploy-token"] = ANNOTATION_TOKEN
    obj["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = json.dumps(
        {"spec": {"template": {"spec": {"containers": [_planted_container()]}}}}
    )
    return obj


def _assert_clean(result: ToolResult[Any], trace: Trace | None = None) -> str:
    assert result.ok, result.error
    dumped = json.dumps(result.data, default=lambda v: v.model_dump(mode="json"), ensure_ascii=False)
    if trace is not None:
        dumped += json.dumps(
            [(e.arguments, e.summary, e.error) for e in trace.events], default=str, ensure_ascii=False
        )
    for secret in PLANTED:
        assert secret not in dumped
        assert base64.b64encode(secret.encode()).decode() not in dumped
    return dumped


def test_the_live_manifest_keeps_names_and_images_but_no_value(
    fake_api: FakeApi, fake_kube: KubeClient, trace: Trace
) -> None:
    fake_api.on("GET", f"{APPS}/deployments/web", Answer(200, _planted_deployment()))
    result = live_manifest(fake_kube, NS, "Deployment", "web", sink=trace)
    _assert_clean(result, trace)
    assert result.data is not None
    [container] = result.data.body["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "shop/web:1.2"
    assert [e["name"] for e in container["env"]] == ["DATABASE_URL", "API_TOKEN", "CLOUD_CREDS", "LOG_LEVEL"]
    assert container["env"][3]["value"] == "info"
    assert container["env"][0]["value"].startswith("postgres://app:«redacted:")
    assert container["args"][0] == "--db-password"


def test_a_secret_keeps_its_keys_and_its_values_correlate_with_env_values(
    fake_api: FakeApi, fake_kube: KubeClient
) -> None:
    secret = {
        "kind": "Secret",
        "apiVersion": "v1",
        "metadata": {"name": "db", "namespace": NS},
        "data": {"password": base64.b64encode(PASSWORD.encode()).decode()},
        "stringData": {"token": TOKEN},
    }
    fake_api.on("GET", f"{CORE}/secrets/db", Answer(200, secret))
    fake_api.on("GET", f"{APPS}/deployments/web", Answer(200, _planted_deployment()))
    got = live_manifest(fake_kube, NS, "Secret", "db")
    _assert_clean(got)
    assert got.data is not None and set(got.data.body["data"]) == {"password"}
    deployment_ = live_manifest(fake_kube, NS, "Deployment", "web")
    assert deployment_.data is not None
    env = deployment_.data.body["spec"]["template"]["spec"]["containers"][0]["env"]
    assert got.data.body["data"]["password"] in env[0]["value"], "one password, one marker"
    assert got.data.body["stringData"]["token"] == env[1]["value"]


def test_the_rollout_history_templates_are_redacted(fake_api: FakeApi, fake_kube: KubeClient) -> None:
    fake_api.on("GET", f"{APPS}/deployments/web", Answer(200, _planted_deployment()))
    old = replica_set("web-old11", 1, "shop/web:1.1")
    old["spec"]["template"]["spec"]["containers"] = [_planted_container()]
    rss = [old, replica_set("web-abc12", 2, "shop/web:1.2", replicas=2)]
    fake_api.on("GET", f"{APPS}/replicasets", Answer(200, {"kind": "ReplicaSetList", "items": rss}))
    result = rollout_history(fake_kube, NS, "web")
    _assert_clean(result)
    assert result.data is not None and [r.revision for r in result.data.revisions] == [1, 2]
    assert result.data.revisions[1].images == ["shop/web:1.2"]


def test_status_event_and_log_text_is_redacted(
    fake_api: FakeApi, fake_kube: KubeClient, trace: Trace
) -> None:
    pod = oom_pod()
    waiting = pod["status"]["containerStatuses"][0]["state"]["waiting"]
    waiting["message"] = f"failed to pull: unauthorized token={TOKEN}"
    fake_api.on("GET", f"{APPS}/deployments/web", Answer(200, deployment()))
    rss = [replica_set("web-abc12", 2, "shop/web:1.2", replicas=1)]
    fake_api.on("GET", f"{APPS}/replicasets", Answer(200, {"kind": "ReplicaSetList", "items": rss}))
    fake_api.on("GET", f"{CORE}/pods", Answer(200, {"kind": "PodList", "items": [pod]}))
    fake_api.on("GET", f"{CORE}/pods/web-abc12-xyz", Answer(200, pod))
    event = {
        "metadata": {"name": "web-abc12-xyz.1", "namespace": NS},
        "involvedObject": {"kind": "Pod", "name": "web-abc12-xyz", "namespace": NS},
        "reason": "Failed",
        "message": f"Error: exec curl -u admin:{CURL_PW} failed",
        "type": "Warning",
        "count": 3,
        "lastTimestamp": "2024-05-02T09:10:00Z",
    }
    fake_api.on("GET", f"{CORE}/events", Answer(200, {"kind": "EventList", "items": [event]}))
    log = f"boot\nconnecting to postgres://app:{PASSWORD}@db:5432/shop\nAPI_TOKEN={TOKEN}\n".encode()
    fake_api.on("GET", f"{CORE}/pods/web-abc12-xyz/log", Answer(200, log, content_type="text/plain"))
    status = workload_status(fake_kube, NS, "Deployment", "web", sink=trace)
    assert "unauthorized token=«redacted:" in _assert_clean(status, trace)
    events = workload_events(fake_kube, NS, "Deployment", "web", sink=trace)
    assert "curl -u admin:«redacted:" in _assert_clean(events, trace)
    logs = pod_logs(fake_kube, NS, "web-abc12-xyz", sink=trace)
    assert "connecting to postgres://app:«redacted:" in _assert_clean(logs, trace)
