"""Fixtures for the agent tests: local fake LLM servers (OpenAI-compatible and Ollama)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.agent.fake_llm import FakeLLMServer, Turn


@pytest.fixture
def fake_llm() -> Iterator[Callable[[str, list[Turn]], FakeLLMServer]]:
    """Start fake LLM servers on demand: `fake_llm("openai" | "ollama", turns)`; stopped after the test."""
    started: list[FakeLLMServer] = []

    def start(flavour: str, turns: list[Turn]) -> FakeLLMServer:
        server = FakeLLMServer(flavour, turns)  # type: ignore[arg-type]
        started.append(server.__enter__())
        return server

    yield start
    for server in started:
        server.stop()
