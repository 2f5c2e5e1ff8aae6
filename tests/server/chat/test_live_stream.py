"""The chat stream over a real uvicorn server and a real HTTP client, not an in-process transport."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from server.app import create_app
from server.chat.rules_answerer import RulesAnswerer
from server.chat.service import EXTRAS_KEY
from server.context import ServerContext
from tests.loopback import serve_app_on_loopback

from .conftest import AUTH, NOW, Seeded

pytestmark = pytest.mark.integration


@pytest.fixture
def base_url(context: ServerContext) -> Iterator[str]:
    with serve_app_on_loopback(create_app(context)) as url:
        yield url


def test_the_answer_arrives_as_ordered_events_over_real_http(
    base_url: str, seeded: Seeded, store, context: ServerContext
) -> None:
    question = "what did you change in payments yesterday?"
    context.extras[EXTRAS_KEY] = RulesAnswerer(store, now=lambda: NOW)  # "yesterday" of the seeded data
    events: list[tuple[str, str]] = []
    with (
        httpx.Client(timeout=10) as client,
        client.stream(
            "POST", f"{base_url}/api/v1/chat", json={"question": question}, headers=AUTH
        ) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        name = "message"
        for line in response.iter_lines():
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                events.append((name, line[5:].strip()))
    names = [n for n, _ in events]
    assert names[-2:] == ["citations", "end"] and set(names[:-2]) == {"token"}
    text = "".join(json.loads(d)["text"] for n, d in events if n == "token")
    expected = RulesAnswerer(store, now=lambda: NOW).answer(question)
    assert text == expected.text and "restart deployment ledger" in text
    assert {c["id"] for c in json.loads(events[-2][1])} == {c.id for c in expected.citations}
