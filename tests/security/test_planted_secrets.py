"""Secrets never leave the cluster (issue #15): the planted-secret end-to-end test.

A sandbox workload carries every kind of credential a new user would put in one (a password in
`DATABASE_URL`, an `API_TOKEN`, an AWS-style key in `CLOUD_CREDS`, `curl -u admin:<pw>` in its
command, a token in an annotation, a Secret, a ConfigMap with a password, a commit message naming a
token, and a log that prints its connection string); an Alertmanager alert for it carries a token in
an annotation. Paramedic serves as `paramedic serve` wires it (the healing stack, the run store,
checkpoints, breakers, the API on a real socket) with the OpenAI-compatible provider pointed at a
recording model server. The run is diagnosed, asks for approval, is approved (a restart, audited
with its before/after manifests), fails verification, is diagnosed again and rejected; the chat
agent answers a question about it through its tools.

Then no planted value, raw or base64-encoded, may appear in: any request the model received, any
file under the data directory (SQLite databases and their WAL files read as bytes, checkpoints),
any API or SSE response (runs, trace, incidents, the event streams, the chat answer, the dashboard
pages, metrics), or anything the process logged or printed. And the model must still have been
told the workload's name, its image and the names of its env vars.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from agent.config import LLMSettings, Mode, ServerSettings, Settings
from graph.context import VerifyConfig
from paramedic.sandbox_wiring import sandbox_settings, sim_clock
from sandbox.cluster import Sandbox
from server.assembly import build_service
from server.runstore import RunStatus, open_run_store
from tests.loopback import serve_app_on_loopback
from tests.polling import eventually
from tests.security.scripted_model import (
    ScriptedModel,
    Structured,
    Text,
    ToolCalls,
    has_tool_results,
    offered_tools,
    wants_structured,
)
from tools.kubernetes import KubeClient

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

TOKEN = "e2e-api-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
NAME, IMAGE = "vault-client", "registry.k8s.io/busybox:1.27.2"

DB_PASSWORD = "Pg-pa55word-7731"
API_TOKEN = "tok_5f1b9c2e8a7d4c3b"
AWS_KEY_ID = "AKIAZ7QWERTYUIOP4321"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"
CURL_PASSWORD = "Curl-Pw-99x"
ANNOTATION_TOKEN = "xoxb-123456789012-abcdefghijklmnop"
SECRET_PASSWORD = "Secret-0nly-Pw-4242"
CONFIGMAP_PASSWORD = "Cm-pa55-Qx81z"
COMMIT_TOKEN = "glpat-Zx8Yw7Vu6Ts5Rq4Po3Nm"
ALERT_TOKEN = "ghp_" + "Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0Uv1Wx2Y"
PLANTED = {
    "password in DATABASE_URL": DB_PASSWORD,
    "API_TOKEN": API_TOKEN,
    "AWS key id in CLOUD_CREDS": AWS_KEY_ID,
    "AWS secret key in CLOUD_CREDS": AWS_SECRET,
    "curl -u password": CURL_PASSWORD,
    "annotation token": ANNOTATION_TOKEN,
    "Secret data": SECRET_PASSWORD,
    "ConfigMap password": CONFIGMAP_PASSWORD,
    "commit message token": COMMIT_TOKEN,
    "alert annotation token": ALERT_TOKEN,
}


def _b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


COMMAND = (
    f"echo connecting to $DATABASE_URL; echo API_TOKEN=$API_TOKEN; curl -u admin:{CURL_PASSWORD} "
    "http://auth.shop/login; exit 3"
)
FILES = {
    f"apps/{NAME}/secret.yaml": f"""apiVersion: v1
kind: Secret
metadata:
  name: {NAME}-db
  namespace: shop
type: Opaque
data:
  password: {_b64(SECRET_PASSWORD)}
""",
    f"apps/{NAME}/configmap.yaml": f"""apiVersion: v1
kind: ConfigMap
metadata:
  name: {NAME}-config
  namespace: shop
data:
  LOG_LEVEL: info
  DB_PASSWORD: {CONFIGMAP_PASSWORD}
""",
    f"apps/{NAME}/deployment.yaml": f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {NAME}
  namespace: shop
  labels:
    app.kubernetes.io/name: {NAME}
  annotations:
    example.com/deploy-token: {ANNOTATION_TOKEN}
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: {NAME}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {NAME}
    spec:
      containers:
        - name: app
          image: {IMAGE}
          command: ["sh", "-c", "{COMMAND}"]
          env:
            - name: DATABASE_URL
              value: postgres://app:{DB_PASSWORD}@postgres.shop:5432/shop
            - name: API_TOKEN
              value: {API_TOKEN}
            - name: CLOUD_CREDS
              value: {AWS_KEY_ID}:{AWS_SECRET}
            - name: DB_PASSWORD
              valueFrom:
                configMapKeyRef:
                  name: {NAME}-config
                  key: DB_PASSWORD
            - name: SECRET_PASSWORD
              valueFrom:
                secretKeyRef:
                  name: {NAME}-db
                  key: password
""",
}
COMMIT_MESSAGE = f"add {NAME}\n\nDeployed with the registry token {COMMIT_TOKEN} (to rotate)."

DIAGNOSIS = {
    "category": "bad_command",
    "explanation": f"The container of {NAME} exits with code 3 right after it starts.",
    "faulty_resource": f"Deployment shop/{NAME}",
    "faulty_field": "spec.template.spec.containers[app].command",
    "confidence": 0.9,
    "cited_evidence": [],
    "remediation": {"action": "restart", "rationale": "restart the crashing pods"},
}


def _model_policy(body: dict[str, Any]) -> Structured | ToolCalls | Text:
    """The analyst gets its diagnosis; the chat agent looks at the workload and the audit log first."""
    if wants_structured(body):
        return Structured(DIAGNOSIS)
    tools = offered_tools(body)
    if tools and not has_tool_results(body):
        wanted = [("workload_status", {"namespace": "shop", "name": NAME}),
                  ("workload_events", {"namespace": "shop", "name": NAME}), ("audit_log", {})]  # fmt: skip
        return ToolCalls([(name, args) for name, args in wanted if name in tools])
    return Text(f"{NAME} exits with code 3 at start; a restart was approved and did not help.")


def _forms(value: str) -> list[bytes]:
    """The value as text and base64-encoded (standard and URL-safe), as bytes to search for."""
    raw = value.encode()
    return [raw, base64.b64encode(raw), base64.urlsafe_b64encode(raw), base64.b64encode(raw).rstrip(b"=")]


def _leaks(where: str, blob: bytes) -> list[str]:
    return [f"{what} in {where}" for what, value in PLANTED.items() for form in _forms(value) if form in blob]


@pytest.fixture
def live_server() -> Iterator[Any]:
    """`live_server(app)`: the app served by uvicorn on a loopback port (debug logs: they are checked too)."""
    with contextlib.ExitStack() as serving:
        yield lambda app: serving.enter_context(serve_app_on_loopback(app, log_level="debug"))


def _wait_for(what: str, predicate: Any, timeout: float = 120.0) -> Any:
    return eventually(predicate, timeout, interval=0.2) or pytest.fail(f"timed out waiting for {what}")


def _sse(client: httpx.Client, url: str, *, idle: float) -> bytes:
    """An SSE response's bytes until it ends or stays quiet for `idle` seconds."""
    chunks: list[bytes] = []
    try:
        with client.stream("GET", url, timeout=httpx.Timeout(10, read=idle)) as response:
            assert response.status_code == 200, url
            for chunk in response.iter_bytes():
                chunks.append(chunk)
    except httpx.ReadTimeout:
        pass  # the global stream never ends: quiet for `idle` seconds is the end of what was stored
    return b"".join(chunks)


def _chat_answer(stream: str) -> str:
    """The chat endpoint's answer: its SSE `token` events' text, joined."""
    answer = []
    for block in stream.replace("\r\n", "\n").split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if lines.get("event") == "token":
            answer.append(json.loads(lines["data"])["text"])
    return "".join(answer)


def _waiting(store: Any, run_id: str) -> bool:
    return bool(store.get_run(run_id).status is RunStatus.WAITING_APPROVAL)


def test_planted_secrets_never_leave_the_cluster(
    tmp_path: Path, live_server: Any, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    data_dir = tmp_path / "data"
    responses: dict[str, bytes] = {}
    with ScriptedModel(_model_policy) as model, Sandbox(workdir=tmp_path / "sb", seed=11) as sb:
        sb.wait_healthy(timeout=60)
        sb.commit(FILES, COMMIT_MESSAGE)
        base = Settings(
            llm=LLMSettings(provider="openai", model="fake-model", base_url=model.base_url, api_key="sk-test",
                            max_tool_calls=3),
            server=ServerSettings(token=TOKEN),
        )  # fmt: skip
        settings = sandbox_settings(base, sb, data_dir, mode=Mode.APPROVE)
        kube = KubeClient.from_config(str(sb.kubeconfig_path))
        raw = kube.json("negative control", kube.apps.read_namespaced_deployment, NAME, "shop")
        assert DB_PASSWORD in json.dumps(raw), "the planted values really are in the cluster"
        store = open_run_store(settings.resolved_storage_url(), poll_interval=0.1)
        verify = VerifyConfig(timeout_seconds=90, poll_seconds=10, settle_seconds=10, stable_seconds=30)
        timing = {"clock": sim_clock(sb), "sleep": sb.advance, "verify": verify}
        app, stack = build_service(settings, store, kube, **timing)
        stack.start()
        try:
            url = live_server(app)
            client = httpx.Client(base_url=url, headers=AUTH, timeout=30)
            alert = {
                "version": "4", "groupKey": "{}:{alertname=\"KubePodCrashLooping\"}", "status": "firing",
                "receiver": "paramedic", "alerts": [{
                    "status": "firing",
                    "labels": {"alertname": "KubePodCrashLooping", "namespace": "shop", "deployment": NAME},
                    "annotations": {"summary": f"{NAME} crash-looping; auth header Bearer {ALERT_TOKEN}",
                                    "runbook_token": ALERT_TOKEN},
                    "startsAt": "2026-12-02T10:00:00Z", "fingerprint": "e2e1",
                }],
            }  # fmt: skip
            intake = client.post("/api/v1/alerts/alertmanager", json=alert)
            assert intake.status_code == 202, intake.text
            run_id = intake.json()["results"][0]["run_id"]
            answers = iter([("approve", "alice"), ("reject", "bob")])
            while store.get_run(run_id).status.active:
                status = _wait_for(
                    "the run to wait for approval or end",
                    lambda: (s := store.get_run(run_id).status) is RunStatus.WAITING_APPROVAL or not s.active,
                )  # fmt: skip
                if store.get_run(run_id).status is not RunStatus.WAITING_APPROVAL:
                    break
                assert status
                page = client.get(f"/ui/runs/{run_id}").content
                responses[f"dashboard page while waiting ({len(responses)})"] = page
                verb, who = next(answers, ("reject", "carol"))
                answered = client.post(f"/api/v1/runs/{run_id}/{verb}", json={"by": who, "comment": "e2e"})
                assert answered.status_code == 200, answered.text
                _wait_for("the answer to be taken", lambda: not _waiting(store, run_id))
            assert stack.runs.wait_idle(60)
            run = store.get_run(run_id)
            assert run.status is RunStatus.REJECTED, run
            assert any(a.get("action") == "restart" for a in run.actions), "the approved restart was made"
            question = {"question": f"Why does {NAME} keep failing?", "run_id": run_id}
            chat = client.post("/api/v1/chat", json=question)
            assert chat.status_code == 200, chat.text
            assert "exits with code 3" in _chat_answer(chat.text), chat.text
            responses["chat answer"] = chat.content
            for path in (
                "/api/v1/runs", f"/api/v1/runs/{run_id}", f"/api/v1/runs/{run_id}/trace",
                f"/api/v1/runs/{run_id}/trace?inline=false", "/api/v1/incidents",
                f"/api/v1/incidents/{run.incident_id}", "/metrics", "/", "/ui/runs", "/ui/runs/rows",
                f"/ui/runs/{run_id}", f"/ui/runs/{run_id}/body", f"/ui/runs/{run_id}/timeline",
            ):  # fmt: skip
                got = client.get(path, follow_redirects=True)
                assert got.status_code == 200, (path, got.status_code)
                responses[path] = got.content
            responses["run event stream"] = _sse(client, f"/api/v1/runs/{run_id}/events?after=0", idle=5)
            responses["event stream"] = _sse(client, "/api/v1/events?after=0", idle=3)
            assert b"approval" in responses["run event stream"] and b"node_end" in responses["event stream"]
            client.close()
        finally:
            stack.stop()
            store.close()
            kube.close()
    files = {str(p.relative_to(data_dir)): p.read_bytes() for p in data_dir.rglob("*") if p.is_file()}
    captured = capfd.readouterr()
    logged = "\n".join([caplog.text, captured.out, captured.err]).encode()

    assert {"paramedic.db", "checkpoints.db"} <= set(files), sorted(files)
    assert len(model.raw) >= 3, "the analyst (twice) and the chat agent asked the model"
    leaks = _leaks("the model's requests", model.sent())
    for name, content in files.items():
        leaks += _leaks(f"data file {name}", content)
    for name, content in responses.items():
        leaks += _leaks(f"API response {name}", content)
    leaks += _leaks("the process output", logged)
    assert leaks == []

    analyst = [body for body in model.bodies if wants_structured(body)]
    prompt = json.dumps(analyst[0], ensure_ascii=False)
    for needed in (NAME, IMAGE, "DATABASE_URL", "API_TOKEN", "CLOUD_CREDS", "curl -u admin:«redacted:"):
        assert needed in prompt, f"the model was not told {needed!r}"
    chat_bodies = [b for b in model.bodies if has_tool_results(b)]
    assert chat_bodies, "the chat agent's tool results went back to the model"
    tool_results = [m for m in chat_bodies[-1]["messages"] if m.get("role") == "tool"]
    assert len(tool_results) >= 2 and NAME in json.dumps(tool_results), "the chat agent read the workload"
