"""POST /api/v1/chat: the bearer token, the SSE stream (tokens, citations, end), bad bodies."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from server.chat.models import Answer
from server.chat.service import EXTRAS_KEY

from .conftest import AUTH, Seeded

URL = "/api/v1/chat"


def sse(text: str) -> list[tuple[str, str]]:
    """(event, data) pairs of an SSE body; multi-line data joined with newlines, as browsers do."""
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        name, data = "message", []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].removeprefix(" "))
        if data:
            events.append((name, "\n".join(data)))
    return events


def ask(client: TestClient, **body) -> list[tuple[str, str]]:
    response = client.post(URL, json=body, headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    return sse(response.text)


def test_the_answer_streams_as_tokens_then_citations_then_end(client: TestClient, seeded: Seeded) -> None:
    events = ask(client, question="why did checkout crash?")
    names = [name for name, _ in events]
    assert names[-2:] == ["citations", "end"] and set(names[:-2]) == {"token"} and len(names) > 10
    text = "".join(json.loads(data)["text"] for name, data in events if name == "token")
    assert "Diagnosis: oom with confidence 0.92." in text and "\nOutcome: healed." in text
    citations = json.loads(events[-2][1])
    assert {
        "kind": "run",
        "id": seeded.checkout_run,
        "run_id": None,
        "label": "shop/deployment/checkout",
    } in citations
    assert json.loads(events[-1][1]) == {"provider": "rules", "known": True}


def test_unknown_questions_end_with_known_false(client: TestClient, seeded: Seeded) -> None:
    events = ask(client, question="what's the weather?")
    assert json.loads(events[-2][1]) == []
    assert json.loads(events[-1][1]) == {"provider": "rules", "known": False}


def test_the_run_id_field_is_honoured(client: TestClient, seeded: Seeded) -> None:
    events = ask(client, question="show the evidence", run_id=seeded.checkout_run)
    text = "".join(json.loads(d)["text"] for n, d in events if n == "token")
    assert text.startswith(f"The diagnosis of run {seeded.checkout_run} (oom) cites 3 item(s):")


def test_chat_needs_the_bearer_token(client: TestClient, seeded: Seeded) -> None:
    assert client.post(URL, json={"question": "why did checkout crash?"}).status_code == 401
    bad = client.post(URL, json={"question": "hi"}, headers={"Authorization": "Bearer wrong"})
    assert bad.status_code == 401


def test_bad_bodies_get_422(client: TestClient) -> None:
    for body in ({}, {"question": ""}, {"question": "x" * 4001}, {"question": "hi", "mode": "autonomous"},
                 {"question": 7}, {"question": "hi", "run_id": ""}):  # fmt: skip
        response = client.post(URL, json=body, headers=AUTH)
        assert response.status_code == 422, body
    assert (
        client.post(URL, content=b"{nope", headers={**AUTH, "Content-Type": "application/json"}).status_code
        == 422
    )


def test_a_failing_answerer_ends_the_stream_with_an_error_event(client: TestClient, context) -> None:
    class Broken:
        provider = "rules"

        def answer(self, question: str, **_: object) -> Answer:
            raise RuntimeError("store went away")

    context.extras[EXTRAS_KEY] = Broken()
    events = ask(client, question="why did checkout crash?")
    assert [n for n, _ in events] == ["error", "end"]
    assert "store went away" in json.loads(events[0][1])["message"]


def test_the_schema_documents_chat(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"][URL]["post"]
    assert "text/event-stream" in operation["responses"]["200"]["content"]
    assert {"200", "401", "422"} <= set(operation["responses"])
    assert operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("ChatRequest")
