"""A misspelt command-line flag (or a missing executable) -> the program exits at start."""

from __future__ import annotations

from typing import Any

from sandbox.faults.context import FaultContext, FaultPlan, FaultType
from sandbox.faults.edits import container_plan
from sandbox.faults.taxonomy import FaultCategory
from sandbox.faults.truth import Check, Symptoms, container_path


def _typo(flag: str) -> str:
    body = flag.lstrip("-")
    cut = len(body) // 2
    return flag[: len(flag) - len(body)] + body[:cut] + body[cut + 1 :]


def build(ctx: FaultContext) -> FaultPlan:
    """A misspelt command-line flag (or a missing executable) -> the program exits at start."""
    c = ctx.container
    spec = ctx.image
    good_args = c.get("args")
    if spec.flags:
        args = list(good_args or [])
        index = next((i for i, a in enumerate(args) if a.split("=", 1)[0] in spec.flags and len(a) > 4), None)
        if index is None:
            preferred: list[str] = [f for f in ("--workers", "--concurrency", "--port") if f in spec.flags]
            flag = (preferred or sorted(f for f in spec.flags if len(f) >= 6) or sorted(spec.flags))[0]
            args.append(f"{_typo(flag)}=2")
            bad_flag = _typo(flag)
        else:
            name, _, value = args[index].partition("=")
            bad_flag = _typo(name)
            args[index] = f"{bad_flag}={value}" if value else bad_flag
        field = container_path(c["name"], "args")
        bad_value: Any = args
        log = f"(No such option|flag provided but not defined): {bad_flag}"
        exit_code = 2
        fixes: tuple[tuple[Check, ...], ...] = (
            (Check(ctx.target.id, field, "none_match", f"^{bad_flag}(=|$)"),),
            (Check(ctx.target.id, field, "absent"),),
        )
        fix: Any = {"args": good_args}
        message = f"{ctx.target.name}: tune start-up flags"

        def edit(container: Any) -> None:
            if index is not None:
                container["args"][index] = bad_value[index]  # in place: the list keeps its YAML style
            elif "args" in container:
                container["args"].append(bad_value[-1])
            else:
                container["args"] = bad_value
    else:
        binary = "/usr/local/bin/start-server"
        field = container_path(c["name"], "command")
        bad_value = [binary]
        log = f'exec: "{binary}": executable file not found'
        exit_code = 127
        good_command = c.get("command")
        fixes = (
            (Check(ctx.target.id, field, "absent"),),
            (Check(ctx.target.id, field, "ne", bad_value), Check(ctx.target.id, field, "eq", good_command)),
        )
        fix = {"command": good_command}
        message = f"{ctx.target.name}: use the start-server wrapper"

        def edit(container: Any) -> None:
            container["command"] = bad_value

    return container_plan(
        ctx,
        FaultCategory.BAD_COMMAND,
        field,
        bad_value=bad_value,
        good_value=good_args if spec.flags else c.get("command"),
        explanation=f"The container's command line is wrong ({bad_value}); the program exits with code "
        f"{exit_code} right after start and crash-loops.",
        fixes=fixes,
        fix=fix,
        symptoms=Symptoms.crash_loop(ctx.target.id, "Error", exit_code, log_pattern=log),
        edit=edit,
        message=message,
    )


FAULT = FaultType(
    "bad_command", FaultCategory.BAD_COMMAND, "misspelt flag / missing executable", "git", build
)
