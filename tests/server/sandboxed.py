"""`paramedic serve --sandbox` in a test: a background sandbox (simulated time at 60x), the healing
stack and the API app over it, as `paramedic/cli/serve.py` assembles them, in autonomous mode with
the sandbox's local GitOps repository and no auto-merge (so a fix is a pull request for a human).

`served(workdir)` yields a `Served`: the sandbox, the store, the stack and the app, with helpers to
inject a fault and wait (in wall seconds) for a run to reach a status. Restarting the service over
the same data directory (`served(workdir, sandbox=...)`) is a process restart: the same run store
and checkpoints, a new stack.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from agent.config import Mode, Settings
from paramedic.sandbox_wiring import sandbox_settings, sim_clock
from sandbox.cluster import Sandbox
from sandbox.faults.injector import InjectedFault
from server.assembly import build_service
from server.healing import HealingStack
from server.pull_requests import PullRequestDesk
from server.routes.pulls import DESK_KEY
from server.runstore import RunRecord, RunStatus, RunStore, open_run_store
from tests.polling import eventually
from tools.kubernetes import KubeClient

TOKEN = "merge-wait-token"
FACTOR = 60.0  # simulated seconds per wall second


@dataclass
class Served:
    """One sandbox and the service over it."""

    sb: Sandbox
    settings: Settings
    store: RunStore
    stack: HealingStack
    app: FastAPI

    @property
    def desk(self) -> PullRequestDesk:
        desk = self.app.state.context.extras[DESK_KEY]
        assert isinstance(desk, PullRequestDesk)
        return desk

    def inject(self, fault_type: str = "oom", name: str = "web-api") -> InjectedFault:
        return self.sb.inject(fault_type, f"shop/deploy/{name}")

    def wait_for(self, what: str, found: Callable[[], Any], timeout: float = 90.0) -> Any:
        value = eventually(found, timeout, interval=0.2)
        if not value:
            raise AssertionError(f"no {what} within {timeout:.0f} s: runs {self.runs()}")
        return value

    def runs(self) -> list[RunRecord]:
        return self.store.list_runs(limit=200).items

    def wait_status(self, status: RunStatus, timeout: float = 90.0) -> RunRecord:
        def reached() -> RunRecord | None:
            return next((r for r in self.runs() if r.status is status), None)

        return self.wait_for(f"run {status.value}", reached, timeout)  # type: ignore[no-any-return]

    def sim_wait(self, seconds: float) -> None:
        """Let `seconds` of simulated time pass."""
        self.sb.wait_for(lambda: False, seconds)


def settings_for(sb: Sandbox, data_dir: Path, **changes: Any) -> Settings:
    git = {k: v for k, v in changes.items() if k.startswith("merge_")}  # kept by sandbox_settings
    base = Settings(mode=Mode.AUTONOMOUS, data_dir=data_dir, server={"token": TOKEN}, git=git)
    return sandbox_settings(base, sb, data_dir, auto_merge=False)


@contextmanager
def service(sb: Sandbox, data_dir: Path, *, poll: float = 0.3, **changes: Any) -> Iterator[Served]:
    """The service over a running sandbox (a fresh process's view of `data_dir`), looking at waiting
    pull requests every `poll` wall seconds."""
    settings = settings_for(sb, data_dir, **changes)
    store = open_run_store(settings.resolved_storage_url())
    kube = KubeClient.from_config(str(sb.kubeconfig_path))
    app, stack = build_service(
        settings, store, kube, clock=sim_clock(sb), sleep=sb.advance, merge_poll_seconds=poll
    )
    stack.start()
    try:
        yield Served(sb, settings, store, stack, app)
    finally:
        stack.stop()
        store.close()
        kube.close()


@contextmanager
def served(workdir: Path, **changes: Any) -> Iterator[Served]:
    """A fresh background sandbox and the service over it; `changes` set `git.merge_*` settings."""
    with Sandbox(workdir=workdir / "sandbox", seed=7, time_factor=FACTOR) as sb:
        sb.wait_healthy(timeout=60)
        with service(sb, workdir / "data", **changes) as running:
            yield running
