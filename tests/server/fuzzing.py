"""Schemathesis over one endpoint of the app's OpenAPI schema: no generated request gets a 5xx."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error


def fuzz_endpoint(
    app: Any,
    path: str,
    headers: dict[str, str],
    allowed: set[int],
    also: Callable[[Any], None] = lambda response: None,
) -> set[int]:
    """POST generated bodies to `path` of `app`; each answer is no 5xx, one of `allowed` and passes
    `also`. Returns the statuses seen, so a test can check the fuzzer reached the valid path too."""
    operation = schemathesis.openapi.from_asgi("/openapi.json", app)[path]["POST"]
    statuses: set[int] = set()

    @given(case=operation.as_strategy())
    # 50 examples reach every status an endpoint has; hypothesis spends its time generating.
    @settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def fuzz(case: schemathesis.Case) -> None:
        response = case.call(headers=headers)
        case.validate_response(response, checks=[not_a_server_error])
        statuses.add(response.status_code)
        assert response.status_code in allowed, response.text
        also(response)

    fuzz()
    return statuses
