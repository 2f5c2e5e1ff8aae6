"""An app over a real store and a fake launcher, with the server settings a test asks for."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from agent.config import Settings
from server.app import create_app
from server.context import ServerContext
from server.runstore import RunStore
from tests.server.api.conftest import FakeLauncher

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TRIGGER = {"namespace": "shop", "name": "web-api"}
LOCAL = "http://127.0.0.1:8080"  # what a browser or curl on the same machine names

MakeClient = Callable[..., TestClient]


def build_app(tmp_path: Path, store: RunStore, **server: Any) -> FastAPI:
    """The API with `server` as its server settings."""
    settings = Settings(data_dir=tmp_path, server=server)
    return create_app(ServerContext(store=store, settings=settings, runs=FakeLauncher(store)))


@pytest.fixture
def make_client(tmp_path: Path, store: RunStore) -> MakeClient:
    """`make_client(base_url=..., **server_settings)`: a TestClient of a fresh app."""

    def make(base_url: str = LOCAL, **server: Any) -> TestClient:
        return TestClient(build_app(tmp_path, store, **server), base_url=base_url)

    return make


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    """A token file holding TOKEN."""
    path = tmp_path / "api-token"
    path.write_text(TOKEN + "\n")
    return path
