"""Schemathesis fuzzes the chat endpoint from its OpenAPI schema: no question makes it answer 5xx."""

from __future__ import annotations

from typing import Any

import pytest

from server.app import create_app
from server.context import ServerContext
from tests.server.fuzzing import fuzz_endpoint

from .conftest import AUTH, Seeded


@pytest.mark.slow
def test_chat_never_answers_5xx(context: ServerContext, seeded: Seeded) -> None:
    def no_error_event(response: Any) -> None:
        # (schemathesis reads at most `max_stream_events` events of a stream, so `end` may be unread)
        assert "event: error" not in response.text, response.text

    statuses = fuzz_endpoint(create_app(context), "/api/v1/chat", AUTH, {200, 422}, no_error_event)
    assert 200 in statuses
