"""`paramedic`: the command line and composition root.

Heavy imports live inside the commands so `paramedic --help` stays instant.
"""

from __future__ import annotations

import gc
from typing import Annotated

import typer

from paramedic.cli.approve import register_approval
from paramedic.cli.common import ConfigOption, settings_or_exit
from paramedic.cli.eval import register_eval
from paramedic.cli.memory import memory_app
from paramedic.cli.pr import pr_app
from paramedic.cli.sandbox import sandbox_app
from paramedic.cli.scan import register_scan

app = typer.Typer(
    name="paramedic",
    help="Paramedic: a self-healing AIOps agent for Kubernetes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command()
def demo(
    config: ConfigOption = None,
    keep_running: Annotated[
        bool, typer.Option("--keep-running", help="Leave the sandbox (and server) up afterwards.")
    ] = False,
) -> None:
    """Start the sandbox, inject faults one after another and watch Paramedic heal them."""
    from paramedic.cli.demo import demo_command

    raise typer.Exit(code=demo_command(settings_or_exit(config), keep_running=keep_running))


@app.command()
def serve(
    config: ConfigOption = None,
    sandbox: Annotated[bool, typer.Option("--sandbox", help="Start the embedded sandbox cluster.")] = False,
) -> None:
    """Run the watcher and the HTTP API (SSE, chat, dashboard)."""
    from paramedic.cli.startup import collector_paused

    with collector_paused():
        from paramedic.cli.serve import serve_command

    raise typer.Exit(code=serve_command(settings_or_exit(config), sandbox=sandbox))


@app.command()
def run(
    namespace: Annotated[str, typer.Option("--namespace", "-n", help="Namespace of the workload.")],
    workload: Annotated[str, typer.Option("--workload", "-w", help="kind/name, e.g. deploy/checkout.")],
    config: ConfigOption = None,
) -> None:
    """Run one investigation against the cluster the kubeconfig points at (report mode by default)."""
    from paramedic.cli.run import run_command

    raise typer.Exit(code=run_command(settings_or_exit(config), namespace=namespace, workload=workload))


app.add_typer(sandbox_app, name="sandbox")
app.add_typer(pr_app, name="pr")
app.add_typer(memory_app, name="memory")
register_eval(app)
register_approval(app)
register_scan(app)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    finally:
        # Nothing is left to free at exit: spare the interpreter's last full collection over the
        # hundreds of thousands of objects the imports made (1.3 CPU-s after `serve`).
        gc.freeze()


if __name__ == "__main__":  # pragma: no cover
    main()
