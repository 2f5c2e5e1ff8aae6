"""The Kubernetes client wrapper against a recorded-response server: error mapping, retries,
timeouts, trace events, and configuration errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.tools.kubernetes.builders import NS, deployment
from tests.tools.kubernetes.conftest import Answer, FakeApi, Trace, status_body
from tools.kubernetes.client import KubeClient, KubeConfigError
from tools.kubernetes.manifest import live_manifest
from tools.result import ToolStatus

DEPLOY_PATH = f"/apis/apps/v1/namespaces/{NS}/deployments/web"


def test_ok_returns_data_and_one_trace_event(fake_api: FakeApi, fake_kube: KubeClient, trace: Trace) -> None:
    fake_api.on("GET", DEPLOY_PATH, Answer(200, deployment()))
    result = live_manifest(fake_kube, NS, "Deployment", "web", sink=trace)
    assert result.ok, result.error
    assert result.data is not None and result.data.body["metadata"]["name"] == "web"
    [event] = trace.events
    assert event.tool == "kubernetes.live_manifest"
    assert event.status is ToolStatus.OK
    assert event.arguments == {"namespace": NS, "kind": "Deployment", "name": "web", "strip_defaults": True}
    assert event.duration_ms > 0


@pytest.mark.parametrize(
    ("code", "reason", "words"),
    [
        (404, "NotFound", "not found"),
        (403, "Forbidden", "not permitted"),
        (422, "Invalid", "rejected"),
        (409, "Conflict", "rejected"),
    ],
)
def test_client_errors_are_not_retried(
    fake_api: FakeApi, fake_kube: KubeClient, trace: Trace, code: int, reason: str, words: str
) -> None:
    message = f'deployments.apps "web" {reason.lower()} (test)'
    fake_api.on("GET", DEPLOY_PATH, Answer(code, status_body(code, reason, message)))
    result = live_manifest(fake_kube, NS, "Deployment", "web", sink=trace)
    assert result.status is ToolStatus.ERROR
    assert words in (result.error or "")
    assert message in (result.error or "")  # the API server's own words reach the caller
    assert len(fake_api.requests()) == 1
    assert trace.events[0].error == result.error


def test_server_errors_are_retried_then_succeed(fake_api: FakeApi, fake_kube: KubeClient) -> None:
    fake_api.on(
        "GET",
        DEPLOY_PATH,
        Answer(503, status_body(503, "ServiceUnavailable", "etcd leader changed")),
        Answer(500, status_body(500, "InternalError", "boom")),
        Answer(200, deployment()),
    )
    result = live_manifest(fake_kube, NS, "Deployment", "web")
    assert result.ok, result.error
    assert len(fake_api.requests()) == 3


@pytest.mark.parametrize(
    ("code", "status"),
    [(500, ToolStatus.ERROR), (503, ToolStatus.UNAVAILABLE), (429, ToolStatus.UNAVAILABLE)],
)
def test_persistent_transient_errors_give_up_after_the_retry_budget(
    fake_api: FakeApi, fake_kube: KubeClient, code: int, status: ToolStatus
) -> None:
    fake_api.on("GET", DEPLOY_PATH, Answer(code, status_body(code, "X", "still failing")))
    result = live_manifest(fake_kube, NS, "Deployment", "web")
    assert result.status is status
    assert f"HTTP {code}" in (result.error or "")
    assert len(fake_api.requests()) == 3


def test_unreachable_server_is_unavailable(
    kube_for: Callable[..., KubeClient], trace: Trace, refused_url: str
) -> None:
    kube = kube_for(refused_url)
    result = live_manifest(kube, NS, "Deployment", "web", sink=trace)
    assert result.status is ToolStatus.UNAVAILABLE
    assert "cannot reach the API server" in (result.error or "")
    assert trace.events[0].status is ToolStatus.UNAVAILABLE


def test_slow_server_times_out(fake_api: FakeApi, kube_for: Callable[..., KubeClient]) -> None:
    fake_api.on("GET", DEPLOY_PATH, Answer(200, deployment(), delay=1.0))
    kube = kube_for(fake_api.url, timeout=0.2)
    result = live_manifest(kube, NS, "Deployment", "web")
    assert result.status is ToolStatus.UNAVAILABLE
    assert "timed out" in (result.error or "").lower()
    assert len(fake_api.requests()) == 3  # a timeout is transient: retried


def test_invalid_json_is_an_error(fake_api: FakeApi, fake_kube: KubeClient) -> None:
    fake_api.on("GET", DEPLOY_PATH, Answer(200, b"<html>proxy</html>", content_type="text/html"))
    result = live_manifest(fake_kube, NS, "Deployment", "web")
    assert result.status is ToolStatus.ERROR
    assert "invalid JSON" in (result.error or "")


def test_unsupported_kind_is_a_clear_error_without_a_request(
    fake_api: FakeApi, fake_kube: KubeClient
) -> None:
    result = live_manifest(fake_kube, NS, "Gadget", "web")
    assert result.status is ToolStatus.ERROR
    assert "unsupported kind 'Gadget'" in (result.error or "")
    assert fake_api.requests() == []


def test_missing_kubeconfig_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(KubeConfigError, match="does not exist"):
        KubeClient.from_config(tmp_path / "nope")


def test_unknown_context_is_a_config_error(tmp_path: Path) -> None:
    from tests.tools.kubernetes.conftest import write_kubeconfig

    path = write_kubeconfig("http://127.0.0.1:1", tmp_path / "kc")
    with pytest.raises(KubeConfigError):
        KubeClient.from_config(path, context="other")


def test_non_positive_timeout_is_rejected(fake_kube: KubeClient) -> None:
    with pytest.raises(ValueError):
        KubeClient(fake_kube.api, timeout=0)
