"""The dashboard's view helpers on crafted runs and traces: grouping, badges, scores, evidence, actions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from agent import trace
from agent.domain import WorkloadRef
from agent.trace import TraceEvent
from server.dashboard import views
from server.dashboard.pull_views import PullLink, pull_of
from server.runstore import RunRecord, RunStatus

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _run(status: RunStatus = RunStatus.RUNNING, **fields: Any) -> RunRecord:
    return RunRecord(
        id="r1",
        incident_id=None,
        fingerprint="fp",
        target=WorkloadRef(namespace="shop", name="web"),
        mode="approve",
        provider="rules",
        status=status,
        created_at=NOW,
        updated_at=NOW,
        **fields,
    )


def _seq(events: list[TraceEvent]) -> list[TraceEvent]:
    """Events numbered as the store would number them."""
    return [e.model_copy(update={"seq": n, "id": 100 + n}) for n, e in enumerate(events, start=1)]


def test_timeline_groups_events_by_node_in_order() -> None:
    events = _seq(
        [
            trace.node_start("r1", "analyst"),
            trace.prompt("r1", "analyst", [{"role": "user", "content": "why?"}]),
            trace.node_end("r1", "analyst", summary="oom", duration_ms=1500.0),
            trace.node_start("r1", "decision"),
        ]
    )
    steps = views.timeline(events)
    assert [(s.node, s.state, s.summary) for s in steps] == [
        ("analyst", "done", "oom"),
        ("decision", "running", "decision started"),
    ]
    assert steps[0].duration_ms == 1500.0 and [e.seq for e in steps[0].events] == [1, 2, 3]
    assert steps[0].events[1].sections[0] == views.Section("message 1 · user", "why?")
    assert [s.anchor for s in steps] == ["step-1", "step-2"]


def test_a_node_run_twice_is_two_steps_and_an_error_marks_its_step() -> None:
    events = _seq(
        [
            trace.node_start("r1", "verification"),
            trace.error("r1", "verification", message="probe timed out"),
            trace.node_end("r1", "verification", summary="unhealthy"),
            trace.node_start("r1", "verification"),
            trace.node_end("r1", "verification", summary="healed"),
        ]
    )
    steps = views.timeline(events)
    assert [(s.node, s.state) for s in steps] == [("verification", "error"), ("verification", "done")]


def test_events_of_no_announced_node_are_never_hidden() -> None:
    events = _seq([trace.note("r1", None, "queued behind another run"), trace.note("r1", "watcher", "seen")])
    steps = views.timeline(events)
    assert [(s.node, s.state, s.summary) for s in steps] == [
        ("run", "done", "queued behind another run"),
        ("watcher", "done", "seen"),
    ]


def test_sections_drop_empty_fields_and_indent_json() -> None:
    event = _seq([trace.model_output("r1", "analyst", "answer", parsed={"b": 1, "a": [1]})])[0]
    sections = {s.title: s.text for s in views.event_view(event).sections}
    assert sections["text"] == "answer"
    assert sections["parsed"] == '{\n  "a": [\n    1\n  ],\n  "b": 1\n}'
    assert "model" not in sections and "usage" not in sections


@pytest.mark.parametrize(
    ("status", "phase", "tone"),
    [
        (RunStatus.QUEUED, "Degraded", "warn"),
        (RunStatus.RUNNING, "Healing", "info"),
        (RunStatus.WAITING_APPROVAL, "Healing", "info"),
        (RunStatus.HEALED, "Healthy", "ok"),
        (RunStatus.ESCALATED, "Escalated", "bad"),
        (RunStatus.FAILED, "Escalated", "bad"),
        (RunStatus.REPORTED, "Degraded", "warn"),
        (RunStatus.REJECTED, "Degraded", "warn"),
    ],
)
def test_every_status_has_a_phase(status: RunStatus, phase: str, tone: str) -> None:
    assert views.phase_badge(status) == views.Badge(phase, tone)
    assert views.status_badge(status).label == status.value.replace("_", " ")


@pytest.mark.parametrize(
    ("verification", "score"),
    [
        (None, None),
        ({"healthy": True}, None),
        ({"healing_score": 0.75}, 0.75),
        ({"score": 1}, 1.0),
        ({"healing_score": 3.0}, None),  # out of range: not a score
        ({"healing_score": True}, None),  # a bool is not a number here
    ],
)
def test_healing_score_only_when_recorded(verification: Any, score: float | None) -> None:
    assert views.healing_score(_run(verification=verification)) == score


def test_run_row_reads_the_diagnosis_defensively() -> None:
    row = views.run_row(_run(diagnosis={"category": "oom", "confidence": "high"}))
    assert row.category == "oom" and row.confidence is None and row.target == "shop/Deployment/web"
    assert views.run_row(_run(diagnosis=["not", "an", "object"])).category is None


def test_actions_carry_diff_and_links() -> None:
    events = _seq(
        [
            trace.action(
                "r1",
                "remediation",
                action_type="gitops_pr",
                who="paramedic",
                what="bump",
                why="oom",
                diff="-a\n+b",
                result="opened",
                details={
                    "pr_url": "https://git.example/pr/1",
                    "note": "https://not-a-link-key",
                    "branch": "x",
                },
            ),
            trace.note("r1", "remediation", "not an action"),
        ]
    )
    [action] = views.actions(events)
    assert (action.seq, action.action, action.diff, action.links) == (1, "gitops_pr", "-a\n+b", [])
    assert action.pull is not None and action.pull.href == "https://git.example/pr/1"


def test_a_local_pull_request_links_the_dashboard_page_not_its_file() -> None:
    events = _seq(
        [
            trace.action(
                "r1", "remediation", action_type="gitops_pr", who="paramedic", what="pr", why="oom",
                diff="", result="ok", details={"pr_url": "file:///tmp/sb/gitops/.git/paramedic/pulls/3.json"},
            ),
            trace.action(
                "r1", "merge_gate", action_type="merge", who="alice", what="merged", why="", diff="",
                result="ok", details={"pr_url": "file:///x", "pr_number": 4},
            ),
        ]
    )  # fmt: skip
    first, second = views.actions(events)
    assert first.pull == PullLink(3, "pull request #3", "/ui/pulls/3")
    assert second.pull == PullLink(4, "pull request #4", "/ui/pulls/4")
    assert pull_of({"pr_url": "https://github.com/acme/gitops/pull/9", "pr_number": 9}, "github") == PullLink(
        9, "pull request #9", "https://github.com/acme/gitops/pull/9"
    )
    assert pull_of({"branch": "x"}) is None


def test_evidence_from_the_diagnosis_and_the_trace() -> None:
    diagnosis = {
        "category": "oom",
        "explanation": "limit too low",
        "cited_evidence": ["log:1"],
        "confidence": 0.5,
        "evidence": [{"id": "status:1", "kind": "status", "source": "pod", "text": "OOMKilled"}],
    }
    events = _seq(
        [
            trace.note(
                "r1", "analyst", "gathered", {"evidence": {"items": [{"id": "log:1", "kind": "log"}]}}
            ),
            trace.note("r1", "analyst", "1 gap", {"gaps": ["metrics: Prometheus unreachable"]}),
        ]
    )
    view = views.evidence(_run(diagnosis=diagnosis), events)
    assert [item["id"] for item in view.items] == ["status:1", "log:1"]
    assert view.items[1] == {"id": "log:1", "kind": "log", "source": "", "text": ""}
    assert view.cited == ["log:1"] and view.gaps == ["metrics: Prometheus unreachable"]
    assert (view.category, view.explanation, view.confidence) == ("oom", "limit too low", 0.5)
    empty = views.evidence(_run(), [])
    assert empty.explanation is None and empty.items == [] and empty.cited == []


def test_approval_shows_the_latest_request_and_the_answers() -> None:
    events = _seq(
        [
            trace.approval("r1", "approval", status="requested", details={"action": "scale", "old": ""}),
            trace.approval("r1", "approval", status="expired"),
            trace.approval("r1", "approval", status="requested", details={"action": "patch"}),
        ]
    )
    view = views.approval(_run(RunStatus.WAITING_APPROVAL), events)
    assert view.waiting and view.request == [views.Section("action", "patch")]
    assert [a.summary for a in view.answers] == ["approval expired"]
    assert not views.approval(_run(RunStatus.HEALED), events).waiting
