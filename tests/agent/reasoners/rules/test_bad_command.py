"""bad_command: the previous command restored; an argument-parser crash counts, usage text alone does not."""

from __future__ import annotations

import pytest

from agent.domain import ActionType, Evidence, RootCause
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


SETUP_SCRIPT = 'set -e\nmkdir /data/cache\necho "cache dir ready"\nexec sleep 3600\n'


def _script_crash(script: str, last_words: str) -> Evidence:
    """A container running `sh -c script` in a crash loop, exit 1, having logged `last_words`."""
    return s.evidence(
        s.status(
            restart_count=4, waiting_reason="CrashLoopBackOff", last_terminated_reason="Error", exit_code=1
        ),
        s.log(last_words),
        live=s.manifest(s.container(command=["sh", "-c", script])),
    )


@pytest.mark.parametrize(
    "last_words",
    [
        "mkdir: can't create directory '/data/cache': No such file or directory",  # busybox
        "mkdir: cannot create directory '/data/cache': No such file or directory [x3]",  # coreutils, folded
    ],
)
def test_a_script_stopped_by_a_failing_step_is_a_bad_command(diagnose, last_words: str) -> None:
    d = diagnose(_script_crash(SETUP_SCRIPT, last_words))
    assert d.category is RootCause.BAD_COMMAND and d.confidence == 0.75
    assert d.faulty_field == "spec.template.spec.containers[app].command"
    assert "log:web-api-7d9f8c6b5-x2k4p:app:previous" in d.cited_evidence


@pytest.mark.parametrize(
    ("script", "last_words"),
    [
        # The application's own message, then `exit 1`: nothing says the command is wrong.
        ("echo checking schema; echo 'schema version mismatch'; exit 1", "schema version mismatch"),
        # A filesystem error from a program the script does not run (the application's own).
        ("exec python -m app", "cp: cannot stat '/seed/data.sql': No such file or directory"),
        # An earlier step's error the script went past: not its last words.
        (SETUP_SCRIPT, "mkdir: can't create directory '/data/cache': File exists\nconnecting to db\nfatal"),
    ],
)
def test_a_script_crash_without_a_failing_step_is_not_called_a_bad_command(
    diagnose, script: str, last_words: str
) -> None:
    assert diagnose(_script_crash(script, last_words)).category is not RootCause.BAD_COMMAND


def test_a_script_step_that_cannot_resolve_a_host_is_a_dependency_not_a_command(diagnose) -> None:
    d = diagnose(
        _script_crash(
            "wget -q -O- http://orders-backend:8080/health || exit 1\nsleep 3600",
            "wget: bad address 'orders-backend'",
        )
    )
    assert d.category is RootCause.DEPENDENCY_DOWN
    assert d.faulty_resource == "Service shop/orders-backend"
