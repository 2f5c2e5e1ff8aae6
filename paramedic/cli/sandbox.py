"""`paramedic sandbox ...`: run the embedded cluster and inject faults into it.

`sandbox up` starts the cluster, writes a kubeconfig and a state file (where the API server, the
GitOps repository and the fault control endpoint are), prints them and runs until Ctrl-C or
SIGTERM. `sandbox fault inject|clear|list` and `sandbox faults` find that running sandbox
through the state file and talk to its control endpoint.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from pathlib import Path
from typing import Annotated, Any

import typer

from paramedic.sandbox_wiring import default_state_path, read_state

sandbox_app = typer.Typer(help="The embedded sandbox cluster.", no_args_is_help=True)
fault_app = typer.Typer(help="Inject and clear faults in a running sandbox.", no_args_is_help=True)
sandbox_app.add_typer(fault_app, name="fault")


StateOption = Annotated[
    Path | None,
    typer.Option(
        "--state",
        help="State file of the running sandbox (default: $PARAMEDIC_SANDBOX_STATE or "
        "a per-user file in the temp dir).",
    ),
]


@sandbox_app.command("up")
def up(
    workdir: Annotated[
        Path | None, typer.Option("--workdir", help="Keep the GitOps repository and kubeconfig here.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed (names, noise, jitter).")] = 0,
    time_factor: Annotated[
        float, typer.Option("--time-factor", help="Simulated seconds per wall second.")
    ] = 30.0,
    port: Annotated[int, typer.Option(help="API server port on 127.0.0.1 (0: a free one).")] = 0,
    state: StateOption = None,
) -> None:
    """Start the sandbox, write a kubeconfig and print its path; Ctrl-C stops it."""
    from paramedic.sandbox_wiring import write_state
    from sandbox.cluster import Sandbox
    from sandbox.faults.control import ControlServer

    state_path = state or default_state_path()
    if time_factor <= 0:
        typer.echo("--time-factor must be positive", err=True)
        raise typer.Exit(code=2)
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    sandbox = Sandbox(workdir, seed=seed, time_factor=time_factor, port=port)
    control: ControlServer | None = None
    try:
        sandbox.start()
        info: dict[str, Any] = {}
        control = ControlServer(sandbox, lambda: info).start()
        info.update(write_state(state_path, sandbox, control.url))
        typer.echo(f"kubeconfig: {sandbox.kubeconfig_path}")
        typer.echo(f"API server: {sandbox.url}")
        typer.echo(f"GitOps repository: {sandbox.repo_path} (branch main)")
        typer.echo(f"metrics: {sandbox.metrics_url}")
        typer.echo(f"fault control: {control.url} (state file {state_path})")
        typer.echo(f"Try: kubectl --kubeconfig {sandbox.kubeconfig_path} get pods -A")
        typer.echo("Press Ctrl-C to stop.", err=True)
        while not stop.wait(0.2):
            pass
        typer.echo("stopping the sandbox...", err=True)
    finally:
        if control is not None:
            control.stop()
        sandbox.stop()
        if state_path.exists() and _state_pid(state_path) == os.getpid():
            state_path.unlink()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _state_pid(path: Path) -> int | None:
    pid = (read_state(path) or {}).get("pid")
    return pid if isinstance(pid, int) else None


def _control(state: Path | None) -> str:
    path = state or default_state_path()
    info = read_state(path) or {}
    if "control_url" not in info:
        typer.echo(
            f"no running sandbox found (state file {path}); start one with `paramedic sandbox up`", err=True
        )
        raise typer.Exit(code=1)
    return str(info["control_url"])


def _call(state: Path | None, method: str, route: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    import httpx

    url = _control(state) + route
    try:
        response = httpx.request(method, url, json=body, timeout=60.0)
    except httpx.HTTPError as exc:
        typer.echo(f"cannot reach the sandbox at {url}: {exc}", err=True)
        raise typer.Exit(code=1) from None
    payload = response.json()
    if response.status_code >= 400:
        typer.echo(f"error: {payload.get('error', response.text)}", err=True)
        raise typer.Exit(code=1)
    return payload


TargetOption = Annotated[str, typer.Option("--target", "-t", help="The workload: NS/deploy/NAME.")]


@fault_app.command("inject")
def inject(
    fault_type: Annotated[
        str, typer.Argument(metavar="TYPE", help="A fault type (see `paramedic sandbox faults`).")
    ],
    target: TargetOption,
    via: Annotated[
        str, typer.Option(help="git: commit to main (default); cluster: edit live objects.")
    ] = "git",
    state: StateOption = None,
) -> None:
    """Inject a fault; prints the injected fault with its ground truth as JSON."""
    fault = _call(state, "POST", "/faults", {"type": fault_type, "target": target, "via": via})
    typer.echo(json.dumps(fault, indent=2))


@fault_app.command("clear")
def clear(
    fault_type: Annotated[
        str | None, typer.Argument(metavar="[TYPE]", help="The fault type to clear.")
    ] = None,
    target: Annotated[
        str | None, typer.Option("--target", "-t", help="The workload: NS/deploy/NAME.")
    ] = None,
    fault_id: Annotated[str | None, typer.Option("--id", help="Clear this fault id instead.")] = None,
    state: StateOption = None,
) -> None:
    """Clear an injected fault (by TYPE and --target, or by --id)."""
    if fault_id:
        body: dict[str, Any] = {"id": fault_id}
    elif fault_type and target:
        body = {"type": fault_type, "target": target}
    else:
        typer.echo("give TYPE and --target, or --id", err=True)
        raise typer.Exit(code=2)
    result = _call(state, "POST", "/faults/clear", body)
    commit = f" (commit {result['commit'][:12]})" if result.get("commit") else ""
    typer.echo(f"cleared {result['cleared']}{commit}")


@fault_app.command("list")
def list_faults(state: StateOption = None) -> None:
    """The active faults, as JSON."""
    typer.echo(json.dumps(_call(state, "GET", "/faults")["faults"], indent=2))


@sandbox_app.command("faults")
def catalogue() -> None:
    """The fault catalogue: every injectable fault type and its root-cause category."""
    from sandbox.faults import FAULT_TYPES

    width = max(len(name) for name in FAULT_TYPES)
    for f in FAULT_TYPES.values():
        typer.echo(f"{f.name:<{width}}  {f.category.value:<{width}}  {f.mechanism:<7}  {f.summary}")
