"""bad_command: the container's command cannot start (StartError/RunContainerError, exit 126/127, exec
errors), or the program rejects its arguments and exits in a crash loop.

Signature: the container fails to start or exits now (a start reason, an exec error on a failing
container, or a crash loop whose log rejects the arguments) AND something names the command as the cause
(an exec/usage message, or exit 126/127). A shell script that crashes at one of its own steps (a
utility's filesystem error as the crashed instance's last words, `script_steps`) is this cause too. Exit
126/127 alone, or an exec error in a log of a container that runs fine, is partial. A container
restarted in a back-off after exiting 0 (`Completed`) is this cause too: only `restartPolicy: Always`
restarts a success, so its command (or the image's default) finishes where the workload needs it to keep
running.

The faulty field is `command` or `args`, whichever the error points at (a rejected flag is in the
arguments; an executable not found is the command), confirmed by what changed against the revision
the workload last worked on. The fix reverts the commit still in effect that changed them, else
rolls back to that revision, restating both.
"""

from __future__ import annotations

import re
from typing import Any

from agent.domain import RootCause
from agent.reasoners.rules import fields, history, remedies
from agent.reasoners.rules.context import Finding, RuleContext, cite
from agent.reasoners.rules.observations import find_container
from agent.reasoners.rules.script_steps import ScriptFailure, script_failures

_START_REASONS = {"RunContainerError", "StartError", "ContainerCannotRun", "CreateContainerError"}
# Command-line parsers rejecting their arguments (click, argparse, Go's flag/cobra, getopt).
_USAGE_ERROR = re.compile(
    r"No such option: \S+|unrecognized arguments?:|unknown (?:flag|shorthand flag|option):?\s"
    r"|flag provided but not defined|invalid option -- |error: unexpected argument",
    re.IGNORECASE,
)
_EXEC_ERROR = re.compile(
    r"executable file not found|exec: \"[^\"]*\": (?:stat|no such file)|exec format error"
    r"|(?:^|\s|:)command not found|OCI runtime (?:create|exec) failed|starting container process caused"
    r"|exec /\S+: no such file or directory"
    # A POSIX shell running the command: busybox/ash `sh: gunicorn: not found`, dash `sh: 1: [[: not found`.
    r"|^(?:/bin/|/usr/bin/)?(?:sh|ash|dash|bash)(?:: line \d+|: \d+)?: [^:\n]+: "
    r"(?:not found|Permission denied)$",
    re.IGNORECASE | re.MULTILINE,
)
_COMMAND_CHANGE = re.compile(r"^\s*(?:command|args)\s*:")


def bad_command(ctx: RuleContext) -> Finding | None:
    """The container's command cannot start: StartError/RunContainerError, exit 126/127, exec errors,
    or a crash loop whose log is the program rejecting its arguments."""
    view = ctx.view
    start = [c for c in view.containers if c.reasons & _START_REASONS]
    exec_status = [c for c in view.containers if _EXEC_ERROR.search(c.messages)]
    exec_events = view.events_matching(_EXEC_ERROR)
    exec_logs = [log for log in view.logs if _EXEC_ERROR.search(log.text)]
    exit_codes = [c for c in view.containers if c.exit_code in (126, 127, 128)]
    crashing = ctx.crashing()
    done = _finishes(ctx)
    usage_logs = [log for log in view.logs if _USAGE_ERROR.search(log.text)] if crashing else []
    if not (start or exec_status or exec_events or exec_logs or exit_codes or usage_logs):
        if done:
            return _finishing(ctx, done)
        steps = script_failures(ctx)
        return _failed_step(ctx, steps[0]) if steps else None
    usage = bool(usage_logs) and not (start or exec_status or exec_events or exec_logs or exit_codes)
    failing = bool(start or crashing or exit_codes)
    missing = []
    if not failing:
        missing.append("a container failing to start now")
    if exit_codes and not (start or exec_status or exec_events or exec_logs or usage_logs):
        missing.append("an exec or usage message (only exit 126/127)")
    if usage:
        confidence = 0.85  # the program starts, rejects its arguments and exits: a crash loop
        exec_logs = usage_logs
        exit_codes = crashing
    elif (start or exit_codes) and (exec_status or exec_events or exec_logs):
        confidence = 0.9
    elif exec_status or exec_events or start:
        confidence = 0.8
    elif exec_logs:
        confidence = 0.7
    else:
        confidence = 0.55  # exit 126/127 alone
    named = (c.name for c in (*start, *exec_status, *exit_codes) if c.name)
    container = next(named, None) or ctx.only_container()
    remediation, fix_ids = remedies.revert_or_rollback(
        ctx, _COMMAND_CHANGE, "command", container, ("command", "args")
    )
    leaf = _faulty_leaf(ctx, container, usage)
    return Finding(
        rule="bad_command",
        category=RootCause.BAD_COMMAND,
        confidence=confidence,
        explanation="The container's command cannot be executed"
        + (f" in container {container}" if container else "")
        + " (executable not found or not runnable).",
        faulty_resource=ctx.workload,
        faulty_field=fields.container(container, leaf) if container else None,
        remediation=remediation,
        cited=cite(start, exec_status, exec_events, exec_logs, exit_codes, fix_ids),
        missing=tuple(missing),
    )


def _field_of(container: str, key: str) -> history.Getter:
    def read(pod_spec: dict[str, Any]) -> Any:
        return (find_container(pod_spec, container) or {}).get(key)

    return read


def _faulty_leaf(ctx: RuleContext, container: str | None, usage: bool) -> str:
    """`args` or `command`: what changed against the revision that worked, else what the error names
    (a program rejecting a flag was started; its arguments are wrong)."""
    if container is not None:
        changed = [
            key for key in ("command", "args") if history.known_good(ctx.view, _field_of(container, key))
        ]
        if len(changed) == 1:
            return changed[0]
        spec = ctx.view.container_spec(container) or {}
        if not usage and "command" not in spec and "args" in spec:
            return "args"
    return "args" if usage else "command"


def _finishes(ctx: RuleContext) -> list[Any]:
    """Containers the kubelet restarts although their process exited 0 (`Completed`), now in a back-off:
    only `restartPolicy: Always` restarts a success, so the workload wants a long-running process and
    its command (or the image's default, as busybox, python or hello-world have) finishes at once."""
    return [
        c
        for c in ctx.view.containers
        if c.waiting_reason == "CrashLoopBackOff"
        and c.last_terminated_reason == "Completed"
        and c.exit_code in (0, None)
    ]


def _finishing(ctx: RuleContext, done: list[Any]) -> Finding:
    container = next((c.name for c in done if c.name), None) or ctx.only_container()
    remediation, fix_ids = remedies.revert_or_rollback(
        ctx, _COMMAND_CHANGE, "command", container, ("command", "args")
    )
    return Finding(
        rule="bad_command",
        category=RootCause.BAD_COMMAND,
        confidence=0.6,
        explanation="The container's command exits successfully at once"
        + (f" in container {container}" if container else "")
        + ", and the workload restarts it in a back-off: it needs a long-running command.",
        faulty_resource=ctx.workload,
        faulty_field=fields.container(container, _faulty_leaf(ctx, container, False)) if container else None,
        remediation=remediation,
        cited=cite(done, fix_ids),
    )


def _failed_step(ctx: RuleContext, step: ScriptFailure) -> Finding:
    """The container's shell script stopped at a step whose utility failed (`script_steps`)."""
    remediation, fix_ids = remedies.revert_or_rollback(
        ctx, _COMMAND_CHANGE, "command", step.container, ("command", "args")
    )
    return Finding(
        rule="bad_command",
        category=RootCause.BAD_COMMAND,
        confidence=0.75,
        explanation=f"The script of container {step.container} fails at its `{step.tool}` step and exits "
        f"before the program starts: {step.line[:200]}",
        faulty_resource=ctx.workload,
        faulty_field=fields.container(step.container, step.field),
        remediation=remediation,
        cited=cite([step.log], [c for c in ctx.crashing() if c.name == step.container], fix_ids),
    )
