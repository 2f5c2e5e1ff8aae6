"""`paramedic pr list|show|merge|close`: the pull requests Paramedic opened, for people at a terminal.

Every command talks to the running service's API (`/api/v1/pulls`, with the configured token, or
the one `serve` generated): the service owns the pull request desk, so a merge or close here is
guarded by the remediation policy, audited naming `--by`, and nudges the run that waits on it at
once, exactly as the dashboard's buttons do. Only local pull requests are merged or closed here; a
GitHub pull request is merged on GitHub (its link), and the waiting run sees it there.

Exit codes: 0 done; 1 refused (unknown number, not open, not a Paramedic pull request, policy);
2 the service cannot be reached.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from agent.config import Settings
from paramedic.cli.common import ConfigOption, settings_or_exit

pr_app = typer.Typer(help="Read, merge and close the pull requests Paramedic opened.", no_args_is_help=True)

NumberArg = Annotated[int, typer.Argument(min=1, help="The pull request's number (see `paramedic pr list`).")]
ByOption = Annotated[str, typer.Option("--by", help="Who you are (recorded in the audit log).")]
CommentOption = Annotated[str, typer.Option("--comment", help="Why (kept in the audit).")]
StateOption = Annotated[str, typer.Option("--state", help="open or all.")]


class _Unreachable(RuntimeError):
    pass


def _call(settings: Settings, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
    import httpx

    url = f"http://{settings.server.host}:{settings.server.port}/api/v1/pulls{path}"
    token = settings.api_token_value()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = httpx.request(method, url, headers=headers, timeout=30, **kwargs)
    except httpx.HTTPError as exc:
        raise _Unreachable(f"cannot reach paramedic serve at {url}: {exc}") from exc
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    return response.status_code, body


def _refusal(status: int, body: Any) -> str:
    detail = body.get("detail", body) if isinstance(body, dict) else body
    return f"refused ({status}): {detail}"


def _line(pull: dict[str, Any]) -> str:
    who = pull.get("merged_by") or pull.get("closed_by")
    by = f" by {who}" if who else ""
    run = f"  run {str(pull['run_id'])[:12]}" if pull.get("run_id") else ""
    state = f"{pull['state']}{by}"
    return f"#{pull['number']:<4} {state:<7}  {pull['title']}{run}  {pull['link']}"


def _run(settings: Settings, method: str, path: str, show: Any, **kwargs: Any) -> int:
    try:
        status, body = _call(settings, method, path, **kwargs)
    except _Unreachable as exc:
        typer.echo(str(exc), err=True)
        return 2
    if status >= 300:
        typer.echo(_refusal(status, body), err=True)
        return 1
    show(body)
    return 0


def _print_list(body: dict[str, Any]) -> None:
    items = body.get("items", [])
    if not items:
        typer.echo("no pull requests")
    for pull in items:
        typer.echo(_line(pull))


def _print_detail(pull: dict[str, Any]) -> None:
    typer.echo(_line(pull))
    if pull.get("target"):
        typer.echo(f"changes {pull['target']}  ({pull['head']} -> {pull['base']})")
    typer.echo("")
    typer.echo(pull.get("body", "").rstrip())
    typer.echo("")
    typer.echo(pull.get("diff", "").rstrip())


def _print_answer(pull: dict[str, Any]) -> None:
    typer.echo(_line(pull))
    if pull.get("run_id"):
        typer.echo(f"the run {pull['run_id']} goes on (paramedic serve follows it)")


@pr_app.command("list")
def list_(state: StateOption = "all", config: ConfigOption = None) -> None:
    """List pull requests, newest first, with the run that opened each."""
    if state not in ("open", "all"):
        typer.echo("--state is open or all", err=True)
        raise typer.Exit(code=2)
    settings = settings_or_exit(config)
    raise typer.Exit(code=_run(settings, "GET", "", _print_list, params={"state": state}))


@pr_app.command()
def show(number: NumberArg, config: ConfigOption = None) -> None:
    """Show one pull request: title, state, body and diff."""
    raise typer.Exit(code=_run(settings_or_exit(config), "GET", f"/{number}", _print_detail))


@pr_app.command()
def merge(number: NumberArg, by: ByOption, comment: CommentOption = "", config: ConfigOption = None) -> None:
    """Merge a local pull request as a human; the run waiting on it goes on to verification."""
    settings = settings_or_exit(config)
    body = {"by": by, "comment": comment}
    raise typer.Exit(code=_run(settings, "POST", f"/{number}/merge", _print_answer, json=body))


@pr_app.command()
def close(number: NumberArg, by: ByOption, comment: CommentOption = "", config: ConfigOption = None) -> None:
    """Close a local pull request unmerged; the run waiting on it ends rejected."""
    settings = settings_or_exit(config)
    body = {"by": by, "comment": comment}
    raise typer.Exit(code=_run(settings, "POST", f"/{number}/close", _print_answer, json=body))
