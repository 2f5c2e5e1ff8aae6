"""Fixtures for the Alertmanager intake: a real SQLite run store, a fake launcher over it, the app."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from agent.config import Settings
from agent.domain import Incident
from server.app import create_app
from server.context import ServerContext
from server.runstore import RunStore
from tests.server.runstore.records import open_incident_run

TOKEN = "alert-intake-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class FakeLauncher:
    """The `RunLauncher` contract over a real store, like `server.run_service.RunService` without running.

    `submit` records the incident (a repeat folds into the open incident as one more sighting) and
    opens, or folds into, the fingerprint's run linked to the stored incident; it keeps each
    incident it was given (with the stored id) and the run id per fingerprint.
    """

    def __init__(self, store: RunStore) -> None:
        self.store = store
        self.incidents: list[Incident] = []
        self.runs: dict[str, str] = {}  # fingerprint -> run id
        self.fail_for: set[str] = set()  # workload names whose submission raises
        self.submitted = threading.Event()
        self._lock = threading.Lock()

    def submit(self, incident: Incident) -> tuple[str, bool]:
        if incident.target.name in self.fail_for:
            raise RuntimeError("launcher queue is full")
        with self._lock:
            incident_id, run_id, new = open_incident_run(self.store, incident, "report")
            self.incidents.append(incident.model_copy(update={"id": incident_id}))
            self.runs[incident.fingerprint] = run_id
        self.submitted.set()
        return run_id, new

    def answer(self, run_id: str, answer: Mapping[str, Any]) -> str:  # pragma: no cover - not used here
        raise NotImplementedError


@pytest.fixture
def launcher(store: RunStore) -> FakeLauncher:
    return FakeLauncher(store)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, server={"token": TOKEN})


@pytest.fixture
def context(store: RunStore, settings: Settings, launcher: FakeLauncher) -> ServerContext:
    return ServerContext(store=store, settings=settings, runs=launcher)


@pytest.fixture
def client(context: ServerContext) -> TestClient:
    return TestClient(create_app(context))


def alert(labels: dict[str, str], *, status: str = "firing", **fields: Any) -> dict[str, Any]:
    """One alert as Alertmanager sends it."""
    return {
        "status": status,
        "labels": labels,
        "annotations": fields.pop("annotations", {}),
        "startsAt": "2026-12-02T10:00:00.123456789Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=up",
        "fingerprint": fields.pop("fingerprint", "1a30ba71cca2921f"),
        **fields,
    }


def notification(*alerts: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A version-4 webhook body around `alerts`."""
    return {
        "version": "4",
        "groupKey": '{}:{alertname="KubePodCrashLooping"}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "paramedic",
        "groupLabels": {"alertname": "KubePodCrashLooping"},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": list(alerts),
        **fields,
    }
