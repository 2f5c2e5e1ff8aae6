"""Schemathesis fuzzes the webhook from its own OpenAPI schema: no input makes it answer 5xx."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from server.app import create_app
from server.context import ServerContext

from .conftest import AUTH


@pytest.mark.slow
def test_the_webhook_never_answers_5xx(context: ServerContext) -> None:
    # Built inside the test so the app runs on this test's real SQLite store.
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(context))
    operation = schema["/api/v1/alerts/alertmanager"]["POST"]
    statuses: set[int] = set()

    @given(case=operation.as_strategy())
    # 50 examples reach every status the endpoint has (202, 422); hypothesis spends its time generating.
    @settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def fuzz(case) -> None:
        response = case.call(headers=AUTH)
        case.validate_response(response, checks=[not_a_server_error])
        statuses.add(response.status_code)
        assert response.status_code in {202, 422}, response.text

    fuzz()
    assert 202 in statuses, "the fuzzer reached the endpoint with valid payloads too"
