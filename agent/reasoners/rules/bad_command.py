"""bad_command: the container's command cannot start (StartError/RunContainerError, exit 126/127, exec
errors), or the program rejects its arguments and exits in a crash loop.

The fix reverts the commit that changed the command, else rolls back to the previous revision's.
"""

from __future__ import annotations

import re

from agent.domain import RootCause
from agent.reasoners.rules import remedies
from agent.reasoners.rules.context import Finding, RuleContext, cite

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
    r"|exec /\S+: no such file or directory",
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
    usage_logs = [log for log in view.logs if _USAGE_ERROR.search(log.text)] if crashing else []
    if not (start or exec_status or exec_events or exec_logs or exit_codes or usage_logs):
        return None
    if usage_logs and not (start or exec_status or exec_events or exec_logs or exit_codes):
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
    return Finding(
        rule="bad_command",
        category=RootCause.BAD_COMMAND,
        confidence=confidence,
        explanation="The container's command cannot be executed"
        + (f" in container {container}" if container else "")
        + " (executable not found or not runnable).",
        faulty_resource=ctx.workload,
        faulty_field=remedies.container_field(container, "command") if container else None,
        remediation=remediation,
        cited=cite(start, exec_status, exec_events, exec_logs, exit_codes, fix_ids),
    )
