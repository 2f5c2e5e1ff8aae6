"""`paramedic approve RUN` / `paramedic reject RUN`: answer a run that waits for a human.

By default the answer goes to the running service's API (`POST /api/v1/runs/{id}/approve`, with
the configured token), which resumes the run from its checkpoint. With `--local` there is no
service: the run is resumed in this process from the checkpoint under the data directory (what
`paramedic run` in approve mode leaves behind), and its trace is printed as it goes on.

Exit codes: 0 answered (and, with --local, the run went on to an end); 1 refused (the run is not
waiting, unknown, or the answer was not accepted); 2 the service cannot be reached.
"""

from __future__ import annotations

from typing import Annotated

import typer

from agent.config import Settings
from paramedic.cli.common import ConfigOption, settings_or_exit

RunArg = Annotated[str, typer.Argument(help="The run id (see GET /api/v1/runs or the dashboard).")]
ByOption = Annotated[str, typer.Option("--by", help="Who answers (recorded in the audit log).")]
CommentOption = Annotated[str, typer.Option("--comment", help="Why.")]
LocalOption = Annotated[bool, typer.Option("--local", help="Resume here from the local checkpoint.")]


def _via_api(settings: Settings, run_id: str, verb: str, by: str, comment: str) -> int:
    import httpx

    url = f"http://{settings.server.host}:{settings.server.port}/api/v1/runs/{run_id}/{verb}"
    token = settings.api_token_value()  # the configured token, or the one `serve` generated
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = httpx.post(url, json={"by": by, "comment": comment}, headers=headers, timeout=30)
    except httpx.HTTPError as exc:
        typer.echo(f"cannot reach paramedic serve at {url}: {exc} (use --local without a service)", err=True)
        return 2
    if response.status_code >= 300:
        typer.echo(f"{verb} refused ({response.status_code}): {response.text}", err=True)
        return 1
    typer.echo(f"run {run_id}: {response.json().get('status', 'answered')}")
    return 0


def _locally(settings: Settings, run_id: str, approved: bool, by: str, comment: str) -> int:
    from rich.console import Console

    from agent.cluster import kube_client
    from paramedic.cli.demo_view import render_event
    from server.healing import HealingStack
    from server.run_service import RunNotWaiting
    from server.runstore import open_run_store
    from server.runstore.errors import RunStoreError

    console = Console(highlight=False)
    kube = kube_client(settings.cluster)
    store = open_run_store(settings.resolved_storage_url())
    stack = HealingStack(
        settings, store, kube=kube, watch=False, workers=1, on_event=lambda e: render_event(console, e)
    )
    stack.start(recover=False)
    try:
        stack.runs.answer(run_id, {"approved": approved, "by": by, "comment": comment})
        stack.runs.wait_idle()
        record = store.get_run(run_id)
    except (RunNotWaiting, RunStoreError) as exc:
        typer.echo(f"cannot answer run {run_id}: {exc}", err=True)
        return 1
    finally:
        stack.stop()
        store.close()
        kube.close()
    typer.echo(f"run {run_id}: {record.status.value}")
    return 0


def _answer(settings: Settings, run_id: str, approved: bool, by: str, comment: str, local: bool) -> int:
    if local:
        return _locally(settings, run_id, approved, by, comment)
    return _via_api(settings, run_id, "approve" if approved else "reject", by, comment)


def register_approval(app: typer.Typer) -> None:
    """Add `approve` and `reject` to `app`."""

    @app.command()
    def approve(run_id: RunArg, by: ByOption, comment: CommentOption = "", local: LocalOption = False,
                config: ConfigOption = None) -> None:  # fmt: skip
        """Approve the action a run waits on."""
        raise typer.Exit(code=_answer(settings_or_exit(config), run_id, True, by, comment, local))

    @app.command()
    def reject(run_id: RunArg, by: ByOption, comment: CommentOption = "", local: LocalOption = False,
               config: ConfigOption = None) -> None:  # fmt: skip
        """Reject the action a run waits on (the run reports and changes nothing)."""
        raise typer.Exit(code=_answer(settings_or_exit(config), run_id, False, by, comment, local))
