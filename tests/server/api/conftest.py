"""Shared fixtures of the API tests: a real SQLite run store, a fake launcher writing to it, the app,
a TestClient, and a live uvicorn server (SSE must be tested over a real socket, not a buffering transport).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from agent.config import Settings
from agent.domain import Incident, WorkloadRef
from agent.trace import TraceEvent, TraceEventType
from server.app import create_app
from server.context import ServerContext
from server.run_service import RunNotWaiting
from server.runstore import NewRun, RunRecord, RunStatus, RunStore, open_run_store
from tests.loopback import serve_app_on_loopback
from tests.server.runstore.records import open_incident_run

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
WEB = WorkloadRef(namespace="shop", name="web-api")


class FakeLauncher:
    """The `RunLauncher` contract over a real store: submit folds by fingerprint, answer resumes once."""

    def __init__(self, store: RunStore) -> None:
        self.store = store
        self.submitted: list[Incident] = []
        self.answers: list[tuple[str, dict[str, Any]]] = []

    def submit(self, incident: Incident) -> tuple[str, bool]:
        _, run_id, new = open_incident_run(self.store, incident, "approve")
        self.submitted.append(incident)
        return run_id, new

    def answer(self, run_id: str, answer: Mapping[str, Any]) -> str:
        run = self.store.get_run(run_id)
        if run.status is not RunStatus.WAITING_APPROVAL:
            raise RunNotWaiting(f"run {run_id!r} is not waiting")  # as server.run_service.RunService does
        self.answers.append((run_id, dict(answer)))
        self.store.append_event(
            run_id, TraceEvent(run_id=run_id, type=TraceEventType.APPROVAL, payload=dict(answer))
        )
        after = RunStatus.RUNNING if answer["approved"] else RunStatus.REJECTED
        return self.store.update_run(run_id, status=after).status.value


@dataclass
class Api:
    """Everything a route test touches."""

    store: RunStore
    launcher: FakeLauncher
    context: ServerContext
    app: FastAPI
    client: TestClient
    runs: list[str] = field(default_factory=list)

    def new_run(
        self, run_id: str, *, status: RunStatus = RunStatus.RUNNING, target: WorkloadRef = WEB, **kw: Any
    ) -> RunRecord:
        """A stored run (its own fingerprint, so several can be active)."""
        return self.store.create_run(
            NewRun(
                id=run_id,
                fingerprint=f"fp-{run_id}",
                target=target,
                mode="approve",
                provider="rules",
                status=status,
                **kw,
            )
        )

    def emit(self, run_id: str, n: int = 1, kind: TraceEventType = TraceEventType.NOTE) -> list[TraceEvent]:
        """Append `n` trace events to a run."""
        return [
            self.store.append_event(run_id, TraceEvent(run_id=run_id, type=kind, summary=f"step {i}"))
            for i in range(n)
        ]


def make_api(tmp_path: Path, *, launcher: bool = True, **server: Any) -> Iterator[Api]:
    """An `Api` over a fresh SQLite store; `server` goes to `Settings.server` (token, protect_reads)."""
    store = open_run_store(f"sqlite:///{tmp_path / 'runs.db'}", poll_interval=0.05)
    fake = FakeLauncher(store)
    # Without a token the API serves only requests naming a loopback host or an allowed one; the
    # test client (and schemathesis) name "testserver".
    settings = Settings(data_dir=tmp_path, server={"allowed_hosts": ["testserver"], **server})
    context = ServerContext(
        store=store,
        settings=settings,
        runs=fake if launcher else None,
        extras={"sse_ping": 0.5, "sse_poll": 0.1},
    )
    app = create_app(context)
    with TestClient(app) as client:
        yield Api(store, fake, context, app, client)
    store.close()


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    yield from make_api(tmp_path)


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[Api]:
    yield from make_api(tmp_path, token=TOKEN)


@dataclass
class Live:
    """A uvicorn server on a loopback port, serving an `Api`'s app."""

    api: Api
    base_url: str


@pytest.fixture
def live(api: Api) -> Iterator[Live]:
    with serve_app_on_loopback(api.app) as url:
        yield Live(api, url)
