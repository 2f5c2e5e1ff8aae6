"""A sandbox OOM fault, seen by a REAL Prometheus scraping the sandbox, through the PromQL templates."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from sandbox.cluster import Sandbox
from tests.tools.conftest import PrometheusServer
from tools.prometheus import PrometheusClient, QueryResult

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def oom_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with Sandbox(workdir=tmp_path_factory.mktemp("prom-sandbox"), seed=5, time_factor=30.0) as sb:
        sb.wait_healthy(timeout=60)
        yield sb


def _poll(
    fetch: Callable[[], QueryResult | None], ready: Callable[[QueryResult], bool], timeout: float = 45
) -> QueryResult:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fetch()
        if last is not None and ready(last):
            return last
        time.sleep(0.5)
    raise AssertionError(f"not seen within {timeout}s: {last}")


def test_oom_fault_is_visible_through_the_templates(
    oom_sandbox: Sandbox, prometheus_factory: Callable[..., PrometheusServer]
) -> None:
    prom = prometheus_factory([f"{oom_sandbox.url}/metrics"])
    client = PrometheusClient(prom.url, timeout=5.0)

    def template(name: str) -> Callable[[], QueryResult | None]:
        def fetch() -> QueryResult | None:
            result = client.query_template(name, "shop", "joke-service", window="1m")
            return result.data if result.ok else None

        return fetch

    healthy = _poll(template("memory_limit_ratio"), lambda r: not r.empty)
    assert max(s.max() for s in healthy.series) < 0.9  # healthy: well under the limit

    fault = oom_sandbox.inject("oom", "shop/deploy/joke-service")
    assert fault.truth.category.value == "oom"

    restarts = _poll(template("restarts"), lambda r: not r.empty and max(s.max() for s in r.series) >= 1)
    assert max(s.max() for s in restarts.series) >= 1
    near_limit = _poll(
        template("memory_limit_ratio"), lambda r: not r.empty and max(s.max() for s in r.series) > 0.8
    )
    assert max(s.max() for s in near_limit.series) <= 1.05
    # The other workloads are untouched: their pods do not restart.
    web = client.query_template("restarts", "shop", "web-api", window="1m")
    assert web.ok and all(s.max() == 0 for s in web.data.series)
