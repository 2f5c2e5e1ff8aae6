"""`paramedic serve`: the watcher, the healing runs and the HTTP API (SSE, chat, dashboard).

With `--sandbox` it first starts the embedded sandbox (background, simulated time at 30x), aims
the settings at it (its kubeconfig, its GitOps repository as the local Git source; the mode stays
what the settings say) and exposes the sandbox's fault control endpoint, recorded in the
sandbox state file, so `paramedic sandbox fault inject ...` works against it. The configured storage
URL is honoured (runs, checkpoints and breakers go where `storage_url` says, PostgreSQL included);
without one they go to SQLite under the data directory, as without `--sandbox`.

With no API token configured it generates one under the data directory at first start and says
where it is (server/auth/startup.py); it refuses (exit 2) to listen on a non-loopback address
without a usable token.
"""

from __future__ import annotations

import contextlib
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import typer
import uvicorn

from agent.cluster import kube_client
from agent.config import Settings
from paramedic.cli.startup import collector_paused
from server.assembly import build_service
from server.auth import ApiTokenError, BindRefused, prepare_api_token
from server.runstore import open_run_store


def serve_command(settings: Settings, *, sandbox: bool) -> int:
    """Run the service until interrupted (SIGINT/SIGTERM); the exit code."""
    with contextlib.ExitStack() as resources:
        with collector_paused():  # the start-up builds what lives as long as the process
            options: dict[str, object] = {}
            if sandbox:
                settings, options = _start_sandbox(settings, resources)
            try:  # after the sandbox: it may move the data directory the token is generated in
                settings, token_notice = prepare_api_token(settings)
            except (BindRefused, ApiTokenError) as exc:
                typer.echo(f"paramedic serve: {exc}", err=True)
                return 2
            typer.echo(f"paramedic: {token_notice}")
            kube = kube_client(settings.cluster)
            resources.callback(kube.close)
            store = open_run_store(settings.resolved_storage_url())
            resources.callback(store.close)
            typer.echo(f"paramedic: runs stored in {_where(settings)}")
            app, stack = build_service(settings, store, kube, **options)
            stack.start()
            resources.callback(stack.stop)
        host, port = settings.server.host, settings.server.port
        typer.echo(
            f"paramedic: {settings.mode.value} mode; API http://{host}:{port}/api/v1, dashboard http://{host}:{port}/"
        )
        with _stop_on_signals():
            uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning")).run()
    return 0


def _where(settings: Settings) -> str:
    """The run store's location for humans: a SQLite path, or a PostgreSQL URL without its password."""
    url = settings.resolved_storage_url()
    if url.startswith("sqlite:///"):
        return url[len("sqlite:///") :]
    scheme, _, rest = url.partition("://")
    userinfo, at, host = rest.rpartition("@")
    return f"{scheme}://{userinfo.split(':', 1)[0]}{at}{host}" if at else url


class _Stop(Exception):
    """SIGINT/SIGTERM arrived: unwind, so the stack, store and sandbox are shut down in order."""


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[None]:
    # uvicorn shuts down gracefully on a signal and then re-raises it to the handler that was
    # installed before it; with the default handler the process would die before cleaning up.
    def stop(*_: object) -> None:
        raise _Stop

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    except _Stop:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _start_sandbox(settings: Settings, resources: contextlib.ExitStack) -> tuple[Settings, dict[str, object]]:
    from paramedic.sandbox_wiring import default_state_path, sandbox_settings, sim_clock, write_state
    from sandbox.cluster import Sandbox
    from sandbox.faults.control import ControlServer

    workdir = Path(tempfile.mkdtemp(prefix="paramedic-serve-"))
    sb = resources.enter_context(Sandbox(workdir=workdir / "sandbox"))
    sb.wait_healthy(timeout=60)
    info: dict[str, object] = {}
    control = ControlServer(sb, lambda: info).start()
    resources.callback(control.stop)
    state_path = default_state_path()
    info.update(write_state(state_path, sb, control.url))
    resources.callback(lambda: state_path.unlink(missing_ok=True))
    typer.echo(f"sandbox: kubeconfig {sb.kubeconfig_path}; fault control {control.url} (state {state_path})")
    data_dir = settings.data_dir if settings.data_dir.is_absolute() else workdir / "data"
    aimed = sandbox_settings(settings, sb, data_dir, storage_url=settings.storage_url)
    # Simulated time runs 30x: look at waiting pull requests every 2 s (a minute of the sandbox's time).
    return aimed, {"clock": sim_clock(sb), "sleep": sb.advance, "merge_poll_seconds": 2.0}
