"""A container's own shell script failing at one of its steps (read by `bad_command`).

A container whose command is a shell (`sh -c '...'`, `bash -c`) runs a script; with `set -e`, or a
step written `cmd || exit 1`, the first failing step ends it. What the crashed instance logged last
is then that step's error, in the words of a standard utility: busybox `mkdir: can't create directory
'/data/cache': No such file or directory`, coreutils `cp: cannot stat 'x': No such file or
directory`, `chmod: /x: Operation not permitted`. When the utility is one the script runs and the
error is about the filesystem, the command is what fails: the image started, the process ran, nothing
else (a config reference, a dependency, memory) shows in those words. Network errors (`wget: bad
address`, refused connections) are not matched: they name a dependency, which is `dependency_down`'s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from agent.reasoners.rules.context import RuleContext
from agent.reasoners.rules.observations import LogObs

_SHELLS = frozenset({"sh", "ash", "bash", "dash", "zsh", "ksh"})
# `tool: <what it could not do>: <the OS error>` as busybox and coreutils print it; a folded repeat
# carries a ` [xN]` suffix in the evidence.
_UTILITY_ERROR = re.compile(
    r"^(?P<tool>[a-z][a-z0-9_+.-]*): [^\n]*?"
    r"(?:No such file or directory|Permission denied|Read-only file system|Not a directory|File exists"
    r"|Operation not permitted|Is a directory|Directory not empty|No space left on device)"
    r"['\"]?\s*(?:\[x\d+\])?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ScriptFailure:
    """The step of a container's script that failed: its utility, the error line, where it was read."""

    container: str
    tool: str
    line: str
    log: LogObs
    field: str  # `command` or `args`: where the script is written


def _script(spec: dict[str, Any]) -> tuple[str, str] | None:
    """The script a shell runs for the container and the field holding it, when its command is a shell."""
    command = [str(a) for a in spec.get("command") or [] if a is not None]
    args = [str(a) for a in spec.get("args") or [] if a is not None]
    argv = command + args if command else args
    if not argv or PurePosixPath(argv[0]).name not in _SHELLS or "-c" not in argv[1:]:
        return None
    script_at = argv.index("-c") + 1
    if script_at >= len(argv):
        return None
    return argv[script_at], "command" if script_at < len(command) else "args"


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def script_failures(ctx: RuleContext) -> list[ScriptFailure]:
    """Steps of crashing containers' scripts that ended them, read from the crashed instance's log."""
    view = ctx.view
    crashed = {
        c.name
        for c in ctx.crashing()
        if c.name and not c.init and (c.exit_code or 0) != 0 and "OOMKilled" not in c.reasons
    }
    found: dict[str, ScriptFailure] = {}
    for log in view.logs:  # crashed (previous) instances first
        if log.container not in crashed or log.container in found:
            continue
        script = _script(view.container_spec(log.container) or {})
        match = _UTILITY_ERROR.match(_last_line(log.text))
        if script is None or match is None:
            continue
        tool = match.group("tool")
        if tool in _SHELLS or not re.search(rf"(?:^|[\s;&|(`]){re.escape(tool)}(?=\s|$)", script[0], re.M):
            continue  # a shell's own error is an exec error (bad_command's); a tool the script does not run
        found[log.container] = ScriptFailure(log.container, tool, match.group(0), log, script[1])
    return list(found.values())
