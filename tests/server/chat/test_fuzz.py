"""Schemathesis fuzzes the chat endpoint from its OpenAPI schema: no question makes it answer 5xx."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from server.app import create_app
from server.context import ServerContext

from .conftest import AUTH, Seeded


@pytest.mark.slow
def test_chat_never_answers_5xx(context: ServerContext, seeded: Seeded) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(context))
    operation = schema["/api/v1/chat"]["POST"]
    statuses: set[int] = set()

    @given(case=operation.as_strategy())
    @settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def fuzz(case) -> None:
        response = case.call(headers=AUTH)
        case.validate_response(response, checks=[not_a_server_error])
        statuses.add(response.status_code)
        assert response.status_code in {200, 422}, response.text
        # (schemathesis reads at most `max_stream_events` events of a stream, so `end` may be unread)
        assert "event: error" not in response.text, response.text

    fuzz()
    assert 200 in statuses
