"""Fixtures of the dashboard tests: a real SQLite run store seeded with realistic runs, a scripted
launcher that writes a run's trace over time (as the graph would), the app, a TestClient, and a
live uvicorn server for the browser test.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from agent import trace
from agent.config import ServerSettings, Settings
from agent.domain import Incident, WorkloadRef
from agent.trace import TraceEvent
from server.app import create_app
from server.context import ServerContext
from server.runstore import ConflictError, NewRun, RunRecord, RunStatus, RunStore, open_run_store
from tests.loopback import serve_app_on_loopback

TOKEN = "dashboard-test-token"
CHECKOUT = WorkloadRef(namespace="shop", name="checkout")
DIFF = """--- a/apps/checkout/deployment.yaml
+++ b/apps/checkout/deployment.yaml
@@ -20,7 +20,7 @@
         resources:
           limits:
-            memory: 64Mi
+            memory: 256Mi
"""
DIAGNOSIS = {
    "category": "oom",
    "explanation": "The app container is OOMKilled at its 64Mi limit.",
    "faulty_resource": "Deployment shop/checkout",
    "faulty_field": "spec.template.spec.containers[app].resources.limits.memory",
    "cited_evidence": ["status:checkout-1:app"],
    "confidence": 0.92,
}

Step = Callable[[str], TraceEvent]


def analyst_steps(log_line: str = "java.lang.OutOfMemoryError: Java heap space") -> list[Step]:
    """The analyst's part of a trace: tool reads, a prompt, the model's answer."""
    return [
        lambda r: trace.node_start(r, "analyst"),
        lambda r: trace.note(
            r,
            "analyst",
            "1 evidence item",
            {
                "evidence": {
                    "items": [
                        {
                            "id": "status:checkout-1:app",
                            "kind": "status",
                            "source": "pod checkout-1",
                            "text": "OOMKilled, exit 137",
                        },
                        {
                            "id": "log:checkout-1:app",
                            "kind": "log",
                            "source": "pod checkout-1",
                            "text": log_line,
                        },
                    ]
                }
            },
        ),
        lambda r: trace.prompt(
            r,
            "analyst",
            [{"role": "system", "content": "You are an SRE."}, {"role": "user", "content": log_line}],
            model="rules",
        ),
        lambda r: trace.model_output(
            r, "analyst", "category: oom (rule oom.limit matched)", model="rules", parsed=DIAGNOSIS
        ),
        lambda r: trace.node_end(r, "analyst", summary="oom at 92%", duration_ms=41.0),
    ]


def decision_steps() -> list[Step]:
    """The decision node choosing a fix that needs a human."""
    return [
        lambda r: trace.node_start(r, "decision"),
        lambda r: trace.decision(
            r,
            "decision",
            route="approval",
            rationale="mode approve: a human decides",
            inputs={"rules_matched": ["oom.limit"]},
        ),
        lambda r: trace.node_end(r, "decision", summary="approval", duration_ms=2.0),
    ]


def approval_request() -> list[Step]:
    """The approval node asking a human."""
    return [
        lambda r: trace.node_start(r, "approval"),
        lambda r: trace.approval(
            r, "approval", status="requested", details={"action": "patch_resources", "diff": DIFF}
        ),
    ]


def remediation_steps() -> list[Step]:
    """A GitOps pull request and a healthy verification."""
    return [
        lambda r: trace.node_start(r, "remediation"),
        lambda r: trace.action(
            r,
            "remediation",
            action_type="gitops_pr",
            who="paramedic",
            what="raise the memory limit of shop/checkout to 256Mi",
            why="OOMKilled at 64Mi",
            diff=DIFF,
            result="merged",
            details={"pr_url": "https://git.example/acme/gitops/pull/7"},
        ),
        lambda r: trace.node_end(r, "remediation", summary="gitops_pr: merged", duration_ms=120.0),
        lambda r: trace.node_start(r, "verification"),
        lambda r: trace.verification(r, "verification", healthy=True, detail="3/3 ready", attempt=1),
        lambda r: trace.node_end(r, "verification", summary="healed: 3/3 ready", duration_ms=900.0),
    ]


def new_run(store: RunStore, target: WorkloadRef = CHECKOUT, *, mode: str = "autonomous") -> RunRecord:
    """A queued run of its own fingerprint (so several can be active at once)."""
    return store.create_run(
        NewRun(fingerprint=f"{target}:{time.monotonic_ns()}", target=target, mode=mode, provider="rules")
    )


def write(store: RunStore, run_id: str, steps: Sequence[Step]) -> None:
    """Append the steps' events to the run, in order."""
    for make in steps:
        store.append_event(run_id, make(run_id))


def seed_healed(store: RunStore, target: WorkloadRef = CHECKOUT, log_line: str | None = None) -> RunRecord:
    """A finished run: diagnosed, fixed by a merged PR, verified healthy."""
    run = new_run(store, target)
    store.update_run(run.id, status=RunStatus.RUNNING)
    write(
        store,
        run.id,
        [*analyst_steps(*([log_line] if log_line else [])), *decision_steps(), *remediation_steps()],
    )
    return store.update_run(
        run.id,
        status=RunStatus.HEALED,
        diagnosis=DIAGNOSIS,
        verification={"healthy": True, "healing_score": 1.0},
    )


def seed_waiting(store: RunStore, target: WorkloadRef = CHECKOUT) -> RunRecord:
    """A run in approve mode, stopped at the approval interrupt."""
    run = new_run(store, target, mode="approve")
    store.update_run(run.id, status=RunStatus.RUNNING)
    write(store, run.id, [*analyst_steps(), *decision_steps(), *approval_request()])
    return store.update_run(run.id, status=RunStatus.WAITING_APPROVAL, diagnosis=DIAGNOSIS)


class ScriptedLauncher:
    """The `RunLauncher` contract over a real store, playing scripted traces over time like the graph.

    `answer` resumes a waiting run in a background thread (the real launcher's resume also
    returns before the graph finishes): approval, remediation, verification, then HEALED.
    """

    def __init__(self, store: RunStore, pace: float = 0.0) -> None:
        self.store = store
        self.pace = pace
        self.answers: list[tuple[str, dict[str, Any]]] = []
        self.threads: list[threading.Thread] = []

    def submit(self, incident: Incident) -> tuple[str, bool]:
        run = new_run(self.store, incident.target)
        return run.id, True

    def play(self, run_id: str, steps: Sequence[Step], final: RunStatus, **update: Any) -> threading.Thread:
        """Write `steps` one every `pace` seconds, then set the run's status to `final`."""

        def run() -> None:
            self.store.update_run(run_id, status=RunStatus.RUNNING)
            for make in steps:
                time.sleep(self.pace)
                self.store.append_event(run_id, make(run_id))
            self.store.update_run(run_id, status=final, **update)

        thread = threading.Thread(target=run, name=f"play-{run_id}", daemon=True)
        self.threads.append(thread)
        thread.start()
        return thread

    def answer(self, run_id: str, answer: Mapping[str, Any]) -> str:
        run = self.store.get_run(run_id)
        if run.status is not RunStatus.WAITING_APPROVAL:
            raise ConflictError(f"run {run_id!r} is not waiting for approval")
        self.answers.append((run_id, dict(answer)))
        status = "approved" if answer["approved"] else "rejected"
        details = {"by": answer["by"], "comment": answer.get("comment", "")}
        self.store.append_event(run_id, trace.approval(run_id, "approval", status=status, details=details))
        self.store.append_event(run_id, trace.node_end(run_id, "approval", summary=status, duration_ms=5.0))
        if not answer["approved"]:
            return self.store.update_run(run_id, status=RunStatus.REJECTED).status.value
        self.store.update_run(run_id, status=RunStatus.RUNNING)
        self.play(run_id, remediation_steps(), RunStatus.HEALED, verification={"healthy": True})
        return RunStatus.RUNNING.value

    def join(self, timeout: float = 10.0) -> None:
        """Wait for every scripted run to finish writing."""
        for thread in self.threads:
            thread.join(timeout)


@dataclass
class Dashboard:
    """Everything a dashboard test touches."""

    store: RunStore
    launcher: ScriptedLauncher
    context: ServerContext
    app: FastAPI
    client: TestClient
    extra: dict[str, Any] = field(default_factory=dict)


def build(
    tmp_path: Path, *, token: str | None = TOKEN, launcher: bool = True, pace: float = 0.0
) -> Dashboard:
    """A dashboard over a fresh SQLite store in `tmp_path`."""
    store = open_run_store(f"sqlite:///{tmp_path / 'runs.db'}", poll_interval=0.05)
    scripted = ScriptedLauncher(store, pace=pace)
    # The test client names the host "testserver": allowed, for the tokenless case.
    settings = Settings(data_dir=tmp_path, server=ServerSettings(token=token, allowed_hosts=["testserver"]))
    # Short SSE ping/poll so streams notice final statuses and closed clients quickly in tests.
    context = ServerContext(
        store=store,
        settings=settings,
        runs=scripted if launcher else None,
        extras={"sse_ping": 1.0, "sse_poll": 0.1},
    )
    app = create_app(context)
    client = TestClient(app)
    if token:  # signed in, as an operator's browser would be (the session cookie)
        assert client.post("/ui/login", data={"token": token}, follow_redirects=False).status_code == 303
    return Dashboard(store, scripted, context, app, client)


@pytest.fixture
def dash(tmp_path: Path) -> Iterator[Dashboard]:
    """The dashboard with a bearer token configured and a scripted launcher."""
    built = build(tmp_path)
    yield built
    built.launcher.join()
    built.client.close()
    built.store.close()


@dataclass
class LiveServer:
    """A uvicorn server on a loopback port, in a thread."""

    base_url: str
    dashboard: Dashboard


@pytest.fixture
def live_dashboard(tmp_path: Path) -> Iterator[LiveServer]:
    """The dashboard served by a real uvicorn on 127.0.0.1 (a browser needs a real socket)."""
    built = build(tmp_path, pace=0.3)
    try:
        with serve_app_on_loopback(built.app, grace=1) as url:
            yield LiveServer(url, built)
    finally:
        built.launcher.join()
        built.store.close()
