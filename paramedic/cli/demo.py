"""`paramedic demo`: the sandbox, a series of faults, and Paramedic healing each one live.

The sandbox runs in the background (simulated time at 30x), its GitOps repository is the local Git
source with auto-merge, and the real watcher feeds the real healing graph in autonomous mode, as
`paramedic serve` would. Faults are injected one after another; each is scored against the
sandbox's ground truth (was the root-cause category right, and is the workload healthy again),
and the exit code is 0 only when every one was.
"""

from __future__ import annotations

import contextlib
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from agent.config import Mode, Settings
from agent.trace import TraceEvent
from graph.breaker import InMemoryBreakerStore
from graph.context import VerifyConfig
from graph.runner import RunResult
from paramedic.cli.demo_view import DemoRow, render_event, summary_table
from paramedic.sandbox_wiring import sandbox_settings, sim_clock
from sandbox.cluster import Sandbox
from server.assembly import build_service
from server.runstore import open_run_store
from server.runstore.models import RunRecord
from tools.kubernetes import KubeClient

# Different workloads and symptoms in turn, so no fault waits out the previous one's cooldown.
FAULTS: tuple[tuple[str, str], ...] = (
    ("bad_image", "shop/deploy/web-api"),
    ("oom", "shop/deploy/joke-service"),
    ("missing_env", "shop/deploy/worker"),
    ("liveness_probe", "shop/deploy/web-api"),
    ("unschedulable", "shop/deploy/joke-service"),
    ("bad_command", "shop/deploy/worker"),
    ("missing_config_key", "shop/deploy/web-api"),
)
RUN_TIMEOUT_WALL = 60.0  # a run that takes longer than this (wall seconds) counts as not healed
SEED = 7


@dataclass
class _Finished:
    """Runs that ended, as the run service reports them (from its worker threads)."""

    records: list[RunRecord] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def count(self) -> int:
        """How many runs have ended so far."""
        with self.changed:
            return len(self.records)

    def add(self, record: RunRecord, _: RunResult | None) -> None:
        with self.changed:
            self.records.append(record)
            self.changed.notify_all()

    def wait_for(self, name: str, after: int, timeout: float) -> RunRecord | None:
        """The first run on workload `name` that finished after the first `after` runs."""

        def found() -> RunRecord | None:
            return next(
                (r for r in self.records[after:] if r.target.name == name and not r.status.active), None
            )

        with self.changed:
            self.changed.wait_for(lambda: found() is not None, timeout=timeout)
            return found()


def _pr_label(url: str) -> str:
    """`#N` for a local pull request record (`.../pulls/N.json`), else the URL itself."""
    last = url.rsplit("/", 1)[-1].removesuffix(".json")
    return f"#{last}" if last.isdigit() else url


def _row(fault: str, target: str, expected: str, record: RunRecord | None, recovered: bool,
         sim: float | None, wall: float | None) -> DemoRow:  # fmt: skip
    diagnosis = record.diagnosis if record and isinstance(record.diagnosis, dict) else {}
    remediation = fix if isinstance(fix := diagnosis.get("remediation"), dict) else {}
    confidence = diagnosis.get("confidence")
    prs = [
        a.get("pr_url") for a in (record.actions if record else []) if isinstance(a, dict) and a.get("pr_url")
    ]
    return DemoRow(
        fault=fault,
        target=target.split("/", 2)[-1],
        expected=expected,
        diagnosis=str(diagnosis.get("category") or "none"),
        confidence=float(confidence) if isinstance(confidence, int | float) else None,
        action=str(remediation.get("action") or ""),
        pr=_pr_label(str(prs[-1])) if prs else "",
        attempts=sum(
            1
            for a in (record.actions if record else [])
            if isinstance(a, dict) and a.get("phase") == "remediation"
        ),
        outcome=record.status.value if record else "no run",
        recovered=recovered,
        sim_seconds=sim,
        wall_seconds=wall,
    )


def _heal_one(
    console: Console, sb: Sandbox, finished: _Finished, fault: str, target: str, run_timeout: float
) -> DemoRow:
    console.rule(f"[bold]{fault}[/] -> {target}")
    before = finished.count()
    wall0, sim0 = time.monotonic(), sb.clock.time()
    injected = sb.inject(fault, target)
    what = injected.commit_message or injected.truth.explanation
    console.print(
        f"  injected {injected.id} ({injected.mechanism}): {what}",
        markup=False,
    )
    name = target.rsplit("/", 1)[-1]
    record = finished.wait_for(name, before, run_timeout)
    recovered = False
    if record is not None and record.status.value == "healed":
        try:
            sb.wait_healthy(timeout=30)
            recovered = True
        except TimeoutError as exc:
            console.print(f"  the sandbox did not settle: {exc}", style="red", markup=False)
    sim = sb.clock.time() - sim0 if recovered else None
    wall = time.monotonic() - wall0 if recovered else None
    return _row(fault, target, injected.truth.category.value, record, recovered, sim, wall)


def demo_command(
    settings: Settings,
    *,
    keep_running: bool,
    faults: Sequence[tuple[str, str]] = FAULTS,
    run_timeout: float = RUN_TIMEOUT_WALL,
) -> int:
    """Run the demo over `faults` (type, `NS/deploy/NAME`); exit code 0 only when every one was
    diagnosed as its injected category and healed."""
    console = Console(highlight=False, width=None if Console().is_terminal else 132)
    workdir = Path(tempfile.mkdtemp(prefix="paramedic-demo-"))
    started = time.monotonic()
    finished = _Finished()
    rows: list[DemoRow] = []
    with Sandbox(workdir=workdir / "sandbox", seed=SEED) as sb:
        sb.wait_healthy(timeout=60)
        console.print(
            f"sandbox up: API {sb.url}, kubeconfig {sb.kubeconfig_path}, GitOps repo {sb.repo_path}",
            markup=False,
        )
        run_settings = sandbox_settings(settings, sb, workdir / "data", mode=Mode.AUTONOMOUS, auto_merge=True)
        store = open_run_store(run_settings.resolved_storage_url())
        kube = KubeClient.from_config(str(sb.kubeconfig_path))

        def show(event: TraceEvent) -> None:
            render_event(console, event)

        # The same assembly as `paramedic serve`, so --keep-running can put the API and dashboard up.
        app, stack = build_service(
            run_settings,
            store,
            kube,
            clock=sim_clock(sb),
            sleep=sb.advance,
            verify=VerifyConfig(timeout_seconds=600, poll_seconds=10, settle_seconds=20, stable_seconds=60),
            breaker_store=InMemoryBreakerStore(),
            on_event=show,
            on_finished=finished.add,
        )
        try:
            with stack:
                for fault, target in faults:
                    rows.append(_heal_one(console, sb, finished, fault, target, run_timeout))
                console.print(summary_table(rows))
                ok = all(r.correct for r in rows)
                console.print(
                    f"{sum(r.correct for r in rows)}/{len(rows)} faults diagnosed and healed"
                    f" in {time.monotonic() - started:.0f}s wall"
                    f"; run store: {run_settings.resolved_storage_url()}",
                    markup=False,
                )
                if keep_running:
                    _serve_until_interrupted(console, sb, app, run_settings)
        finally:
            kube.close()
            store.close()
    return 0 if ok else 1


def _serve_until_interrupted(console: Console, sb: Sandbox, app: Any, settings: Settings) -> None:
    """Keep the sandbox, the watcher and the API (dashboard included) up until Ctrl-C."""
    import uvicorn

    host, port = settings.server.host, settings.server.port
    console.print(
        f"still running: dashboard http://{host}:{port}/ui/runs, API http://{host}:{port}/api/v1/runs;"
        f" kubectl --kubeconfig {sb.kubeconfig_path} get pods -A; Ctrl-C stops",
        markup=False,
    )
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises Ctrl-C after its shutdown
        uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning")).run()
    console.print("stopping")
