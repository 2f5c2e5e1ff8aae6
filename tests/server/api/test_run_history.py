"""A run's similar incidents and timeline, over the API and on its dashboard page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agent import trace
from agent.trace import TraceEvent, TraceEventType
from graph.evidence_timeline import TIMELINE_NOTE
from graph.memory.recall import SIMILAR_NOTE
from server.runstore import RunStatus
from tests.server.api.conftest import Api

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PAST = {
    "run_id": "past-1",
    "target": "shop/deployment/web-api",
    "recorded_at": "2026-02-20T10:00:00+00:00",
    "score": 0.92,
    "outcome": "healed",
    "category": "oom",
    "fix_kind": "gitops_pr:resources.limits.memory",
    "summary": "healed by changing the memory limit by pull request",
}
HEADLINE = "1 similar incident, 92%: healed by changing the memory limit by pull request"


def _event(
    run_id: str, at: datetime, type_: TraceEventType, summary: str, node: str | None = "analyst", **payload
):
    return TraceEvent(run_id=run_id, ts=at, type=type_, node=node, summary=summary, payload=payload)


def _story(api: Api) -> None:
    api.new_run("r1", status=RunStatus.HEALED)
    entries = [
        {
            "at": "2026-03-01T11:50:00Z",
            "source": "commit",
            "title": "abc123 raise heap (dev)",
            "evidence": "commit:abc",
        },
        {
            "at": "2026-03-01T11:58:00Z",
            "source": "event",
            "title": "Warning BackOff x12",
            "evidence": "event:1",
        },
        {"at": "", "source": "rollout", "title": "revision 4 (running now)", "evidence": "rollout:4"},
        {"at": "whenever", "source": "bogus", "title": "dropped"},
    ]
    for event in (
        _event("r1", T0, TraceEventType.NODE_START, "analyst started"),
        _event(
            "r1", T0, TraceEventType.NOTE, "evidence timeline: 3 entries", kind=TIMELINE_NOTE, entries=entries
        ),
        _event("r1", T0, TraceEventType.NOTE, HEADLINE, kind=SIMILAR_NOTE, similar=[PAST]),
        _event("r1", T0 + timedelta(seconds=1), TraceEventType.NODE_END, "diagnosis: oom at 0.92"),
        trace.decision("r1", "decision", route="act", rationale="act: confidence 0.92"),
    ):
        api.store.append_event("r1", event)


def test_similar_incidents_of_a_run(api: Api) -> None:
    _story(api)
    body = api.client.get("/api/v1/runs/r1/similar").json()
    assert body["recalled"] is True and body["headline"] == HEADLINE
    assert body["items"][0]["run_id"] == "past-1" and body["items"][0]["score"] == 0.92
    api.new_run("r2")
    assert api.client.get("/api/v1/runs/r2/similar").json() == {
        "recalled": False,
        "headline": "",
        "items": [],
    }
    assert api.client.get("/api/v1/runs/nope/similar").status_code == 404


def test_timeline_merges_the_clusters_history_with_paramedics_steps_in_order(api: Api) -> None:
    _story(api)
    entries = api.client.get("/api/v1/runs/r1/timeline").json()["entries"]
    assert [e["source"] for e in entries] == ["rollout", "commit", "event", "paramedic", "paramedic"]
    assert entries[1]["title"].startswith("abc123") and entries[3]["title"] == "diagnosis: oom at 0.92"
    assert entries[4]["node"] == "decision"
    assert api.client.get("/api/v1/runs/nope/timeline").status_code == 404


def test_the_run_page_shows_the_headline_and_the_timeline(api: Api) -> None:
    _story(api)
    page = api.client.get("/ui/runs/r1").text
    assert HEADLINE in page and 'href="/ui/runs/past-1"' in page
    assert "abc123 raise heap" in page and 'id="history"' in page
