"""bad_command: the previous command restored; an argument-parser crash counts, usage text alone does not."""

from __future__ import annotations

from agent.domain import ActionType, RootCause
from tests.agent import evidence_samples as s
from tools.boundary import redact_value


def test_bad_command_rolls_back_with_the_previous_command(diagnose) -> None:
    d = diagnose(s.bad_command())
    assert d.category is RootCause.BAD_COMMAND and d.confidence == 0.9
    assert d.remediation.action is ActionType.ROLLBACK
    assert d.remediation.patch["spec"]["template"]["spec"]["containers"][0]["command"] == [
        "python",
        "-m",
        "webapi",
    ]


def test_a_crash_loop_whose_log_is_an_argument_error_is_a_bad_command(diagnose) -> None:
    d = diagnose(
        s.evidence(
            s.status(ready=False, restart_count=4, waiting_reason="CrashLoopBackOff", exit_code=2),
            s.log("Usage: celery [OPTIONS]\nTry 'celery --help' for help.\nError: No such option: --loglvel"),
        )
    )
    assert d.category is RootCause.BAD_COMMAND and d.confidence >= 0.8


def test_usage_text_without_a_crash_is_not_a_bad_command(diagnose) -> None:
    d = diagnose(
        s.evidence(s.status(ready=True, restart_count=0), s.log("Error: No such option: --x", previous=False))
    )
    assert d.category is not RootCause.BAD_COMMAND


def test_a_previous_command_holding_a_secret_rolls_back_without_restating_it(diagnose) -> None:
    ev = s.bad_command()
    command = redact_value(["sh", "-c", "curl -u admin:curl-Pw-99x http://auth && exec python -m webapi"])
    assert "«redacted:" in command[2]
    ev.items = [i if i.id != "rollout:1" else s.rollout(1, [s.container(command=command)]) for i in ev.items]
    d = diagnose(ev)
    assert d.category is RootCause.BAD_COMMAND
    assert d.remediation.action is ActionType.ROLLBACK and d.remediation.revision == 1
    assert d.remediation.manifest_patch() is None
