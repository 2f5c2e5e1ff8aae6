"""Schemathesis fuzzes the webhook from its own OpenAPI schema: no input makes it answer 5xx."""

from __future__ import annotations

import pytest

from server.app import create_app
from server.context import ServerContext
from tests.server.fuzzing import fuzz_endpoint

from .conftest import AUTH


@pytest.mark.slow
def test_the_webhook_never_answers_5xx(context: ServerContext) -> None:
    # Built inside the test so the app runs on this test's real SQLite store.
    statuses = fuzz_endpoint(create_app(context), "/api/v1/alerts/alertmanager", AUTH, {202, 422})
    assert 202 in statuses, "the fuzzer reached the endpoint with valid payloads too"
