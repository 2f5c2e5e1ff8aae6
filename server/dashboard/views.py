"""What the dashboard's templates show, computed from stored runs and trace events.

Templates stay logic-free: every grouping (events into node steps), every lookup in untyped
JSON (diagnosis, decision, action payloads) and every badge choice happens here, where it is
typed and unit-tested. Nothing here escapes text: the templates autoescape everything, and
these helpers only ever hand them plain strings.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agent.trace import TraceEvent, TraceEventType
from server.dashboard.pull_views import PullLink, pull_of
from server.runstore import RunRecord, RunStatus

# Badge colour classes (see static/dashboard.css) by run status.
_STATUS_TONE: dict[RunStatus, str] = {
    RunStatus.QUEUED: "neutral",
    RunStatus.RUNNING: "info",
    RunStatus.WAITING_APPROVAL: "warn",
    RunStatus.WAITING_MERGE: "warn",
    RunStatus.HEALED: "ok",
    RunStatus.RECOVERED: "ok",
    RunStatus.ESCALATED: "bad",
    RunStatus.REPORTED: "neutral",
    RunStatus.FAILED: "bad",
    RunStatus.REJECTED: "warn",
}

# The ParamedicWatch phase (server.crd.WatchPhase values) a run's status stands for: the
# dashboard speaks the same words as `kubectl get paramedicwatches`.
_PHASE: dict[RunStatus, str] = {
    RunStatus.QUEUED: "Degraded",
    RunStatus.RUNNING: "Healing",
    RunStatus.WAITING_APPROVAL: "Healing",
    RunStatus.WAITING_MERGE: "Healing",
    RunStatus.HEALED: "Healthy",
    RunStatus.RECOVERED: "Healthy",
    RunStatus.ESCALATED: "Escalated",
    RunStatus.REPORTED: "Degraded",
    RunStatus.FAILED: "Escalated",
    RunStatus.REJECTED: "Degraded",
}
_PHASE_TONE = {"Healthy": "ok", "Degraded": "warn", "Healing": "info", "Escalated": "bad"}

# Payload keys shown as the headline of an event's details rather than in the generic dump.
_PROMPT_MESSAGES = "messages"


@dataclass(frozen=True)
class Badge:
    """A label and its colour class."""

    label: str
    tone: str


def status_badge(status: RunStatus) -> Badge:
    """The badge for a run status (`waiting_approval` reads "waiting approval")."""
    return Badge(status.value.replace("_", " "), _STATUS_TONE.get(status, "neutral"))


def phase_badge(status: RunStatus) -> Badge:
    """The ParamedicWatch phase a run in `status` puts its workload in."""
    phase = _PHASE.get(status, "Degraded")
    return Badge(phase, _PHASE_TONE[phase])


def _get(value: Any, *keys: str) -> Any:
    """`value[k1][k2]…` through JSON objects, None as soon as a level is missing."""
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def healing_score(run: RunRecord) -> float | None:
    """The run's healing score in [0, 1], when the run recorded one.

    Verification may store one (`verification.healing_score` or `.score`); otherwise there is
    none, and the list shows the outcome and the diagnosis confidence instead of inventing one.
    """
    for key in ("healing_score", "score"):
        score = _number(_get(run.verification, key))
        if score is not None and 0.0 <= score <= 1.0:
            return score
    return None


@dataclass(frozen=True)
class RunRow:
    """One line of the runs list."""

    id: str
    target: str
    mode: str
    provider: str
    status: Badge
    phase: Badge
    active: bool
    category: str | None
    confidence: float | None
    score: float | None
    created_at: datetime
    finished_at: datetime | None
    error: str | None


def target_text(run: RunRecord) -> str:
    """`namespace/kind/name` of the run's workload."""
    ref = run.target
    return f"{ref.namespace}/{ref.kind}/{ref.name}"


def run_row(run: RunRecord) -> RunRow:
    """The runs-list line for `run`."""
    category = _get(run.diagnosis, "category")
    return RunRow(
        id=run.id,
        target=target_text(run),
        mode=run.mode,
        provider=run.provider,
        status=status_badge(run.status),
        phase=phase_badge(run.status),
        active=run.status.active,
        category=str(category) if category is not None else None,
        confidence=_number(_get(run.diagnosis, "confidence")),
        score=healing_score(run),
        created_at=run.created_at,
        finished_at=run.finished_at,
        error=run.error,
    )


@dataclass(frozen=True)
class Section:
    """One labelled block of an event's details: plain text, shown preformatted."""

    title: str
    text: str


@dataclass(frozen=True)
class EventView:
    """One trace event as the timeline shows it."""

    seq: int
    type: str
    ts: datetime
    summary: str
    sections: list[Section]


@dataclass
class Step:
    """One node's run: from its `node_start` to its `node_end`, with everything in between."""

    index: int
    node: str
    state: str  # "running" | "done" | "error"
    started: datetime
    ended: datetime | None = None
    duration_ms: float | None = None
    summary: str = ""
    events: list[EventView] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        """A stable DOM id: the dashboard keeps a step expanded across live re-renders by it."""
        return f"step-{self.index}"


def as_text(value: Any) -> str:
    """A JSON value as readable text: strings as they are, the rest as indented JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


def _sections(event: TraceEvent) -> list[Section]:
    """The event's payload, split into labelled blocks (a prompt: one block per message)."""
    payload = dict(event.payload)
    sections: list[Section] = []
    messages = payload.pop(_PROMPT_MESSAGES, None) if event.type is TraceEventType.PROMPT else None
    if isinstance(messages, list):
        for number, message in enumerate(messages, start=1):
            role = _get(message, "role") or _get(message, "type") or "message"
            content = _get(message, "content")
            text = as_text(content if content is not None else message)
            sections.append(Section(f"message {number} · {role}", text))
    for key, value in payload.items():
        # Empty fields (no model, no error) say nothing; leave them out rather than print "null".
        if value is None or value == "" or value == {} or value == []:
            continue
        sections.append(Section(key, as_text(value)))
    return sections


def event_view(event: TraceEvent) -> EventView:
    """The timeline entry for one stored event."""
    return EventView(
        seq=event.seq or 0,
        type=event.type.value,
        ts=event.ts,
        summary=event.summary,
        sections=_sections(event),
    )


def timeline(events: Iterable[TraceEvent]) -> list[Step]:
    """The events grouped into node steps, in order.

    A step opens at `node_start` and closes at the same node's `node_end`; events of a node
    that did not announce its start (or of no node) open a step of their own, so nothing
    stored is ever hidden. An `error` event marks its step as failed.
    """
    steps: list[Step] = []
    open_steps: dict[str, Step] = {}
    for event in events:
        node = event.node or "run"
        step = open_steps.get(node)
        if step is None or event.type is TraceEventType.NODE_START:
            step = Step(index=len(steps) + 1, node=node, state="running", started=event.ts)
            steps.append(step)
            open_steps[node] = step
        step.events.append(event_view(event))
        if event.type is TraceEventType.ERROR:
            step.state = "error"
        if event.type is TraceEventType.NODE_END:
            if step.state != "error":
                step.state = "done"
            step.ended = event.ts
            step.summary = event.summary
            step.duration_ms = _number(event.payload.get("duration_ms"))
            del open_steps[node]
        elif not step.summary or event.type is TraceEventType.NODE_START:
            step.summary = event.summary
    # Steps never opened by node_start (notes of no node) are not "running": they are done.
    for step in steps:
        if step.state == "running" and not any(e.type == TraceEventType.NODE_START for e in step.events):
            step.state = "done"
    return steps


@dataclass(frozen=True)
class ActionView:
    """One remediation attempt: what, by whom, its result and its diff (the PR's, for GitOps)."""

    seq: int
    action: str
    who: str
    what: str
    why: str
    result: str
    diff: str
    links: list[str]
    pull: PullLink | None = None  # the pull request it opened or merged, with a link people can follow


def _links(details: Any) -> list[str]:
    """Commit or other URLs found in an action's details (the pull request's is `pull`)."""
    links: list[str] = []
    if isinstance(details, Mapping):
        for key, value in details.items():
            if key == "pr_url":
                continue
            if isinstance(value, str) and value.startswith(("https://", "http://")) and "url" in key:
                links.append(value)
    return links


def actions(events: Iterable[TraceEvent]) -> list[ActionView]:
    """Every `action` event, in order."""
    views = []
    for event in events:
        if event.type is not TraceEventType.ACTION:
            continue
        payload = event.payload
        details = payload.get("details")
        views.append(
            ActionView(
                seq=event.seq or 0,
                action=as_text(payload.get("action") or ""),
                who=as_text(payload.get("who") or ""),
                what=as_text(payload.get("what") or ""),
                why=as_text(payload.get("why") or ""),
                result=as_text(payload.get("result") or ""),
                diff=as_text(payload.get("diff") or ""),
                links=_links(details),
                pull=pull_of(details) if isinstance(details, Mapping) else None,
            )
        )
    return views


@dataclass(frozen=True)
class EvidenceView:
    """What the diagnosis rests on: its explanation, the cited ids and the gathered items."""

    category: str | None
    explanation: str | None
    faulty_resource: str | None
    faulty_field: str | None
    confidence: float | None
    cited: list[str]
    items: list[dict[str, str]]
    gaps: list[str]
    tool_calls: list[EventView]


def _evidence_items(value: Any) -> list[dict[str, str]]:
    """Evidence items from an `Evidence` dump ({"items": [...]}) or a bare list of items."""
    items = _get(value, "items") if isinstance(value, Mapping) else value
    if not isinstance(items, list):
        return []
    out = []
    for item in items:
        if isinstance(item, Mapping):
            out.append({k: as_text(item.get(k) or "") for k in ("id", "kind", "source", "text")})
    return out


def evidence(run: RunRecord, events: Sequence[TraceEvent]) -> EvidenceView:
    """The evidence panel: the diagnosis, evidence found in the run or its trace, the analyst's reads."""
    diagnosis = run.diagnosis
    cited = _get(diagnosis, "cited_evidence")
    items = _evidence_items(_get(diagnosis, "evidence"))
    gaps: list[str] = []
    for event in events:
        items.extend(_evidence_items(event.payload.get("evidence")))
        found = event.payload.get("gaps")
        if isinstance(found, list):
            gaps.extend(as_text(gap) for gap in found)
    # Tool calls made while gathering: the raw reads the evidence came from.
    reads = [event_view(e) for e in events if e.type is TraceEventType.TOOL_CALL and e.node == "analyst"]
    text = _get(diagnosis, "explanation")
    return EvidenceView(
        category=as_text(_get(diagnosis, "category")) if _get(diagnosis, "category") else None,
        explanation=as_text(text) if text else None,
        faulty_resource=_optional_text(_get(diagnosis, "faulty_resource")),
        faulty_field=_optional_text(_get(diagnosis, "faulty_field")),
        confidence=_number(_get(diagnosis, "confidence")),
        cited=[as_text(c) for c in cited] if isinstance(cited, list) else [],
        items=items,
        gaps=gaps,
        tool_calls=reads,
    )


def _optional_text(value: Any) -> str | None:
    return None if value is None or value == "" else as_text(value)


@dataclass(frozen=True)
class ApprovalView:
    """The pending approval request, when the run waits for one."""

    waiting: bool
    request: list[Section]
    answers: list[EventView]


def approval(run: RunRecord, events: Sequence[TraceEvent]) -> ApprovalView:
    """Whether to show approve/reject, what was asked (the latest request) and the answers so far."""
    approvals = [e for e in events if e.type is TraceEventType.APPROVAL]
    asked = [e for e in approvals if e.payload.get("status") == "requested"]
    answered = [e for e in approvals if e.payload.get("status") != "requested"]
    request: list[Section] = []
    if asked:
        details = asked[-1].payload.get("details")
        if isinstance(details, Mapping):
            request = [Section(k, as_text(v)) for k, v in details.items() if v not in (None, "", {}, [])]
    return ApprovalView(
        waiting=run.status is RunStatus.WAITING_APPROVAL,
        request=request,
        answers=[event_view(e) for e in answered],
    )
