"""Fuzz the runs, incidents, health and metrics endpoints from the OpenAPI schema (schemathesis).

No generated request may get a 5xx; every answer must use a documented status code, content
type and response schema. The SSE endpoints are left out: a stream of a live run (or of every
run) does not end, and the SSE tests cover them against a real server.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from server.runstore import RunStatus
from tests.server.api.conftest import Api, make_api

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MINE = r"^/(api/v1/(runs|incidents)(?!.*/events$).*|healthz|readyz|metrics)$"


def _seed(api: Api) -> None:
    # Known ids for the generator to hit now and then, in every state an answer can meet.
    api.new_run("r1", status=RunStatus.WAITING_APPROVAL)
    api.new_run("r2", status=RunStatus.HEALED)
    api.emit("r1", 3)
    api.client.post("/api/v1/runs", json={"namespace": "shop", "name": "web"})


@pytest.mark.slow
def test_no_server_errors_and_answers_match_the_schema(tmp_path: Path) -> None:
    # One app for every operation (schemathesis' pytest fixtures do not load under this pytest).
    for api in make_api(tmp_path):
        _seed(api)
        schema = schemathesis.openapi.from_asgi("/openapi.json", api.app).include(path_regex=MINE)
        labels = []
        for result in schema.get_all_operations():
            operation = result.ok()
            labels.append(operation.label)

            @given(case=operation.as_strategy())
            @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), database=None)
            def fuzz(case: schemathesis.Case) -> None:
                case.call_and_validate(checks=CHECKS)

            fuzz()
        assert len(labels) == 13, labels  # every endpoint of this part but the two SSE streams
