"""`PooledClient`: one `httpx.Client` per tool object, reused, closed with it, reopened after."""

from __future__ import annotations

import threading

import httpx

from tools.http_client import PooledClient
from tools.notify import WebhookNotifier
from tools.notify.message import Notification, Severity
from tools.prometheus import PrometheusClient


def _ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"status": "success", "data": {"resultType": "vector", "result": []}})


def test_one_client_for_every_request_until_closed() -> None:
    pooled = PooledClient(timeout=1.0, transport=httpx.MockTransport(_ok))
    first = pooled.client()
    assert pooled.client() is first
    pooled.close()
    assert first.is_closed
    second = pooled.client()  # a late caller still gets through, on a new client
    assert second is not first and not second.is_closed
    pooled.close()
    pooled.close()  # idempotent
    assert second.is_closed


def test_threads_share_one_client() -> None:
    pooled = PooledClient(timeout=1.0, transport=httpx.MockTransport(_ok))
    seen: list[httpx.Client] = []
    threads = [threading.Thread(target=lambda: seen.append(pooled.client())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(client) for client in seen}) == 1
    pooled.close()


def test_prometheus_queries_reuse_the_client_and_close_it() -> None:
    clients: list[int] = []
    with PrometheusClient("http://prometheus.test:9090", transport=httpx.MockTransport(_ok)) as prometheus:
        for _ in range(3):
            assert prometheus.query("up").ok
            clients.append(id(prometheus._http.client()))
        held = prometheus._http.client()
    assert len(set(clients)) == 1
    assert held.is_closed


def test_notifier_reuses_the_client_and_closes_it() -> None:
    posted: list[httpx.Request] = []

    def receive(request: httpx.Request) -> httpx.Response:
        posted.append(request)
        return httpx.Response(204)

    notifier = WebhookNotifier("https://hooks.example.test/x", transport=httpx.MockTransport(receive))
    note = Notification(title="t", severity=Severity.INFO, summary="body")
    assert notifier.send(note).ok and notifier.send(note).ok
    held = notifier._http.client()
    notifier.close()
    assert len(posted) == 2 and held.is_closed
