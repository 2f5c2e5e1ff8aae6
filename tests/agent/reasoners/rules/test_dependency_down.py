"""dependency_down: the unreachable dependency named, confirmed by its status; ready pods failing
every request count, old startup refusals on healthy pods do not."""

from __future__ import annotations

import pytest

from agent.domain import ActionType, EvidenceKind, RootCause
from tests.agent import evidence_samples as s

REFUSED = (
    'ERROR app.api: request failed: connection to server at "postgres", port 5432 failed: Connection refused'
)


def test_dependency_down_names_the_dependency_and_notifies(diagnose) -> None:
    d = diagnose(s.dependency_down())
    assert d.category is RootCause.DEPENDENCY_DOWN and d.confidence == 0.9
    assert d.faulty_resource == "Deployment shop/postgres"
    assert d.remediation.action is ActionType.NOTIFY
    assert "status:deployment/postgres" in d.cited_evidence


@pytest.mark.parametrize(
    "line",
    [
        "dial tcp: lookup postgres on 10.96.0.10:53: no such host",
        "Error: getaddrinfo ENOTFOUND postgres",
        "redis.exceptions.ConnectionError: Error 111 connecting to postgres:6379. Connection refused.",
        "wget: bad address 'postgres'",  # busybox wget (nc and ping word it the same)
        "wget: unable to resolve host address 'postgres'",  # GNU wget
        "curl: (6) Could not resolve host: postgres",
        "curl: (7) Failed to connect to postgres port 5432 after 0 ms: Connection refused",
        "nc: connect to postgres port 5432 (tcp) failed: Connection refused",
        "** server can't find postgres.shop.svc.cluster.local: NXDOMAIN\nwaiting for postgres",  # nslookup
        "ping: postgres: Name or service not known",
    ],
)
def test_dependency_down_recognises_common_wordings(diagnose, line: str) -> None:
    ev = s.dependency_down()
    ev.items = [i if i.kind is not EvidenceKind.LOG else s.log(line) for i in ev.items]
    d = diagnose(ev)
    assert d.category is RootCause.DEPENDENCY_DOWN and d.faulty_resource == "Deployment shop/postgres"


def ready_app_beside_postgres(postgres_ready: int, line: str) -> s.Evidence:
    """Ready web-api pods logging `line`, beside a postgres Deployment with `postgres_ready` of its pods."""
    return s.evidence(
        s.status(ready=True, restart_count=0),
        s.deployment_status("web-api", 2, 2),
        s.deployment_status("postgres", postgres_ready, postgres_ready),
        s.log(line, previous=False),
    )


def test_ready_pods_failing_every_request_blame_the_stopped_dependency(diagnose) -> None:
    d = diagnose(ready_app_beside_postgres(0, f"{REFUSED} [x98]"))
    assert d.category is RootCause.DEPENDENCY_DOWN and d.confidence >= 0.85
    assert d.faulty_resource == "Deployment shop/postgres"


def test_old_startup_refusals_on_healthy_pods_are_not_a_dependency_outage(diagnose) -> None:
    d = diagnose(
        ready_app_beside_postgres(
            1, 'ERROR connection to server at "postgres", port 5432 failed: Connection refused'
        )
    )
    assert d.category is not RootCause.DEPENDENCY_DOWN
