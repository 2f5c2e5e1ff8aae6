"""Signatures learnt from the sandbox's realistic evidence: ready pods that fail every request,
argument-parser crashes, and a bad value the log names and a commit changed."""

from __future__ import annotations

from agent.domain import RootCause
from agent.reasoners.rules import RulesReasoner
from tests.agent import evidence_samples as s

REFUSED = (
    'ERROR app.api: request failed: connection to server at "postgres", port 5432 failed: Connection refused'
)


def diagnose(evidence):
    return RulesReasoner().diagnose(s.incident(), evidence).diagnosis


def test_ready_pods_failing_every_request_blame_the_stopped_dependency() -> None:
    d = diagnose(
        s.evidence(
            s.status(ready=True, restart_count=0),
            s.deployment_status("web-api", 2, 2),
            s.deployment_status("postgres", 0, 0),
            s.log(f"{REFUSED} [x98]", previous=False),
        )
    )
    assert d.category is RootCause.DEPENDENCY_DOWN and d.confidence >= 0.85
    assert d.faulty_resource == "Deployment shop/postgres"


def test_old_startup_refusals_on_healthy_pods_are_not_a_dependency_outage() -> None:
    d = diagnose(
        s.evidence(
            s.status(ready=True, restart_count=0),
            s.deployment_status("web-api", 2, 2),
            s.deployment_status("postgres", 1, 1),
            s.log(
                'ERROR connection to server at "postgres", port 5432 failed: Connection refused',
                previous=False,
            ),
        )
    )
    assert d.category is not RootCause.DEPENDENCY_DOWN


def test_a_crash_loop_whose_log_is_an_argument_error_is_a_bad_command() -> None:
    d = diagnose(
        s.evidence(
            s.status(ready=False, restart_count=4, waiting_reason="CrashLoopBackOff", exit_code=2),
            s.log("Usage: celery [OPTIONS]\nTry 'celery --help' for help.\nError: No such option: --loglvel"),
        )
    )
    assert d.category is RootCause.BAD_COMMAND and d.confidence >= 0.8


def test_usage_text_without_a_crash_is_not_a_bad_command() -> None:
    d = diagnose(
        s.evidence(s.status(ready=True, restart_count=0), s.log("Error: No such option: --x", previous=False))
    )
    assert d.category is not RootCause.BAD_COMMAND


def test_a_bad_value_named_in_the_log_and_changed_by_a_commit_is_bad_config_value() -> None:
    path = "apps/web-api/configmap.yaml"
    diff = f'--- a/{path}\n+++ b/{path}\n-  POOL_SIZE: "10"\n+  POOL_SIZE: "0"\n'
    line = "ERROR app.api: request failed: ValueError: POOL_SIZE must be between 1 and 100, got 0 [x96]"
    d = diagnose(
        s.evidence(
            s.status(ready=True, restart_count=0),
            s.log(line, previous=False),
            s.commit("3c938ba5b99e0000", "web-api-config: set POOL_SIZE to 0", diff, [path]),
        )
    )
    assert d.category is RootCause.BAD_CONFIG_VALUE and d.confidence >= 0.75
    assert d.remediation is not None and d.remediation.action.value == "revert_commit"
