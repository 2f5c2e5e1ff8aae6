"""What `paramedic serve` settles before it listens: a generated token, its file, the bind."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from agent.config import Settings
from server.auth import ApiToken, ApiTokenError, BindRefused, check_bind, prepare_api_token


def test_no_token_configured_generates_a_private_one_and_says_where(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    served, notice = prepare_api_token(settings)
    path = (tmp_path / "data" / "api-token").resolve()
    assert served.server.token_file == path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    token = path.read_text().strip()
    assert len(token) >= 40
    assert str(path) in notice and "generated" in notice and "/ui/login" in notice
    assert token not in notice, "the token itself is never printed"
    assert settings.api_token_value() == token, "the CLI (paramedic approve) finds it"
    again, notice = prepare_api_token(settings)
    assert again.server.token_file == path and path.read_text().strip() == token and "kept" in notice


def test_a_generated_token_file_others_can_read_is_refused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    prepare_api_token(settings)
    os.chmod(tmp_path / "api-token", 0o644)
    with pytest.raises(ApiTokenError, match="readable by others"):
        prepare_api_token(settings)


def test_a_public_bind_is_refused_before_anything_is_generated(tmp_path: Path) -> None:
    with pytest.raises(BindRefused, match="without a token"):
        prepare_api_token(Settings(data_dir=tmp_path, server={"host": "0.0.0.0"}))
    assert not (tmp_path / "api-token").exists()


def test_a_configured_token_is_used_as_it_is(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, server={"token": "inline-token"})
    served, notice = prepare_api_token(settings)
    assert served is settings and "server.token" in notice and "inline-token" not in notice
    assert not (tmp_path / "api-token").exists()


def test_an_empty_token_file_refuses_a_public_bind_and_warns_on_loopback(tmp_path: Path) -> None:
    empty = tmp_path / "token"
    empty.write_text("")
    with pytest.raises(BindRefused, match="without a token"):
        prepare_api_token(Settings(data_dir=tmp_path, server={"token_file": str(empty), "host": "0.0.0.0"}))
    _, notice = prepare_api_token(Settings(data_dir=tmp_path, server={"token_file": str(empty)}))
    assert "is empty" in notice and "503" in notice


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.0.0.53"])
def test_loopback_binds_need_no_token(host: str) -> None:
    check_bind(host, None)


@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "::", "paramedic.internal"])
def test_other_binds_are_refused_without_a_token(host: str) -> None:
    with pytest.raises(BindRefused, match="without a token"):
        check_bind(host, None)
    check_bind(host, "s3cret")


def test_the_token_source_reads_a_file_once_per_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "token"
    path.write_text("one\n")
    source = ApiToken(None, path)
    reads: list[Path] = []
    original = Path.read_text

    def counting(self: Path, *args: object, **kwargs: object) -> str:
        reads.append(self)
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "read_text", counting)
    assert source.current().value == "one" and source.current().value == "one"
    assert len(reads) == 1, "an unchanged file is not read again"
    path.write_text("two-two\n")
    assert source.current().value == "two-two" and len(reads) == 2
    assert ApiToken(None, None).configured is False and ApiToken("x", None).current().value == "x"
