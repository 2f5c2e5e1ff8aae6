"""Settings: defaults, env and YAML sources, validation messages that name the field, secrets."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from agent.config import Mode, SettingsError, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("PARAMEDIC_"):
            monkeypatch.delenv(key)


def test_defaults_are_safe() -> None:
    settings = load_settings()
    assert settings.mode is Mode.REPORT
    assert settings.llm.provider == "rules"
    assert settings.thresholds.act == 0.8
    assert settings.thresholds.ask == 0.5
    assert settings.resolved_storage_url().startswith("sqlite:///")
    assert "kube-system" in settings.scope.exclude_namespaces


def test_env_overrides_nested_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARAMEDIC_MODE", "autonomous")
    monkeypatch.setenv("PARAMEDIC_LLM__PROVIDER", "openai")
    monkeypatch.setenv("PARAMEDIC_THRESHOLDS__ACT", "0.9")
    settings = load_settings()
    assert settings.mode is Mode.AUTONOMOUS
    assert settings.llm.provider == "openai"
    assert settings.thresholds.act == 0.9


def test_yaml_file_then_env_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "paramedic.yaml"
    config.write_text(
        "mode: approve\nllm:\n  provider: ollama\n  model: llama3.1\nscope:\n  namespaces: [shop]\n"
    )
    settings = load_settings(config)
    assert settings.mode is Mode.APPROVE
    assert settings.llm.model == "llama3.1"
    assert settings.scope.namespaces == ["shop"]
    monkeypatch.setenv("PARAMEDIC_MODE", "report")
    assert load_settings(config).mode is Mode.REPORT


@pytest.mark.parametrize(
    ("env", "field"),
    [
        ({"PARAMEDIC_MODE": "yolo"}, "mode"),
        ({"PARAMEDIC_LLM__PROVIDER": "gpt-hope"}, "llm.provider"),
        ({"PARAMEDIC_THRESHOLDS__ACT": "1.5"}, "thresholds.act"),
        ({"PARAMEDIC_THRESHOLDS__ACT": "0.3", "PARAMEDIC_THRESHOLDS__ASK": "0.6"}, "thresholds"),
        ({"PARAMEDIC_STORAGE_URL": "mysql://x"}, "storage_url"),
        ({"PARAMEDIC_PROMETHEUS_URL": "prom:9090"}, "prometheus_url"),
        ({"PARAMEDIC_GIT__GITHUB_REPO": "no-slash"}, "git.github_repo"),
        ({"PARAMEDIC_BREAKER__MAX_ATTEMPTS": "0"}, "breaker.max_attempts"),
    ],
)
def test_invalid_settings_name_the_field(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], field: str
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert f"'{field}'" in str(info.value)


def test_unknown_yaml_key_is_rejected(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("mode: report\nmdoe: autonomous\n")
    with pytest.raises(SettingsError, match="'mdoe'"):
        load_settings(config)


@pytest.mark.parametrize("content", ["mode: [unclosed\n", "- just\n- a list\n"])
def test_garbage_yaml_gets_a_clear_error(tmp_path: Path, content: str) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(content)
    with pytest.raises(SettingsError, match=r"bad\.yaml"):
        load_settings(config)


def test_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"nope\.yaml"):
        load_settings(tmp_path / "nope.yaml")


def test_secrets_come_from_files_and_never_show_in_repr(tmp_path: Path, caplog) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("sk-very-secret-value\n")
    token_file = tmp_path / "token"
    token_file.write_text("ghp_abcdefghijklmnopqrstuvwxyz0123456789")
    settings = load_settings(llm={"api_key_file": key_file}, git={"token_file": token_file})
    assert settings.llm.api_key_value() == "sk-very-secret-value"
    assert settings.git.token_value() == "ghp_abcdefghijklmnopqrstuvwxyz0123456789"

    inline = load_settings(llm={"api_key": "sk-inline-secret"})
    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info("settings: %s", inline)
    assert "sk-inline-secret" not in repr(inline)
    assert "sk-inline-secret" not in inline.model_dump_json()
    assert "sk-inline-secret" not in caplog.text
    assert inline.llm.api_key_value() == "sk-inline-secret"


def test_unreadable_secret_file_names_the_field(tmp_path: Path) -> None:
    settings = load_settings(git={"token_file": tmp_path / "missing"})
    with pytest.raises(SettingsError, match=r"git\.token_file"):
        settings.git.token_value()
