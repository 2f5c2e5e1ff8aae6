"""Bearer tokens on mutating endpoints, optional on reads, and no open bind without one."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from agent.config import Settings
from server.auth import BindRefused, check_bind, require_read_token, require_token
from server.context import ServerContext


def _client(tmp_path, **server) -> TestClient:
    app = FastAPI()
    settings = Settings(data_dir=tmp_path, server=server)
    app.state.context = ServerContext(store=None, settings=settings)  # type: ignore[arg-type]

    @app.post("/write")
    def write(_: Annotated[None, Depends(require_token)]) -> dict:
        return {"ok": True}

    @app.get("/read")
    def read(_: Annotated[None, Depends(require_read_token)]) -> dict:
        return {"ok": True}

    return TestClient(app)


def test_mutations_need_the_token_from_its_file(tmp_path) -> None:
    token = tmp_path / "token"
    token.write_text("s3cret\n")
    client = _client(tmp_path, token_file=str(token))
    assert client.post("/write").status_code == 401
    wrong = client.post("/write", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    assert client.post("/write", headers={"Authorization": "Bearer s3cret"}).json() == {"ok": True}
    assert client.get("/read").status_code == 200, "reads are open unless protect_reads is set"


def test_reads_can_be_protected_too(tmp_path) -> None:
    client = _client(tmp_path, token="s3cret", protect_reads=True)
    assert client.get("/read").status_code == 401
    assert client.get("/read", headers={"Authorization": "Bearer s3cret"}).status_code == 200


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.0.0.53"])
def test_loopback_binds_need_no_token(host: str) -> None:
    check_bind(host, None)


@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "::", "paramedic.internal"])
def test_other_binds_are_refused_without_a_token(host: str) -> None:
    with pytest.raises(BindRefused, match="without a token"):
        check_bind(host, None)
    check_bind(host, "s3cret")
