"""The server-rendered HTMX dashboard: the runs list, a run's detail, and their live fragments.

Pages are Jinja2 with autoescaping on for every template (all stored text — logs, model
output, diffs — is untrusted). Live updates use the vendored htmx SSE extension against the
JSON API's streams (`/api/v1/events`, `/api/v1/runs/{id}/events`): an SSE message does not
carry HTML, it *triggers* a re-fetch of the fragment it affects, rendered here. Because a
run's final or waiting status is written after its last event (and so announces itself on no
stream), fragments of active runs also re-poll every few seconds.

Auth (server/auth, docs/security.md): with a token configured, a browser signs in once at
`/ui/login` and gets a session cookie (HttpOnly, SameSite=Strict) that the pages, their fragments
and their SSE streams accept. Pages send a browser that is not signed in to the sign-in form;
fragments answer 401. `POST /ui/runs/{id}/approve` and `/reject` take the bearer token or the
session, the latter only from a same-origin htmx request, then call `context.runs.answer`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape

from agent.trace import TraceEvent, TraceEventType
from server import run_history
from server.auth import Access, api_auth, authorize, require_page_reader, require_read_token, signed_in
from server.auth.guard import Credentials
from server.context import Context, ServerContext
from server.dashboard import views
from server.dashboard.pull_views import merge_wait
from server.pull_requests import PullRequestDesk
from server.routes.params import RunId, from_store
from server.routes.pulls import DESK_KEY
from server.run_service import RunNotWaiting
from server.runstore import ConflictError, RunRecord, RunStatus

_HERE = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = _HERE / "templates"
STATIC_DIR = _HERE / "static"
POLL_SECONDS = 2  # how often an active run's fragments re-read the store (see the module doc)
LIST_LIMIT = 100
MAX_FORM_BYTES = 16_384
# Every trace event type re-fetches the fragment it may change, debounced: a burst of events
# (a node's prompt, output and tool calls land together) costs one request after it, not one each.
SSE_TRIGGERS = ", ".join(f"sse:{kind.value} delay:250ms" for kind in TraceEventType)

# Autoescape for every template whatever its extension: partials are `.html` today, but a
# `.jinja` partial added later must not silently render unescaped.
_env = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _duration(ms: float | None) -> str:
    if ms is None:
        return ""
    return f"{ms / 1000:.1f} s" if ms >= 1000 else f"{ms:.0f} ms"


_env.filters["duration"] = _duration
_env.filters["percent"] = lambda value: "" if value is None else f"{value * 100:.0f}%"
_env.filters["clock"] = lambda moment: "" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S UTC")

router = APIRouter(include_in_schema=False)
# The vendored htmx files and the dashboard's CSS/JS; served by Starlette (ETag, ranges, no
# path traversal) rather than by a hand-written route.
router.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

Reads = [Depends(require_read_token)]  # fragments: 401 when not signed in
Pages = [Depends(require_page_reader)]  # pages: a browser that is not signed in goes to sign in


def render(name: str, **values: Any) -> str:
    """Render one template (used by the routes and by tests of a single partial)."""
    return _env.get_template(name).render(**values)


def html_page(
    name: str, status_code: int = 200, headers: dict[str, str] | None = None, **values: Any
) -> Response:
    """A rendered template as an HTML response."""
    return HTMLResponse(render(name, **values), status_code=status_code, headers=headers)


def chrome(context: ServerContext, request: Request) -> dict[str, Any]:
    """What every page's frame (base.html) shows: whether a token is needed and whether we have it."""
    return {"token_required": api_auth(context).token.configured, "signed_in": signed_in(request, context)}


async def _rows(context: ServerContext) -> list[views.RunRow]:
    page = await asyncio.to_thread(context.store.list_runs, limit=LIST_LIMIT)
    return [views.run_row(run) for run in page.items]


def _latest_event_id(context: ServerContext, runs: list[RunRecord]) -> int:
    """The newest global event id among the listed runs' last events.

    The list page follows `/api/v1/events` from there: replaying every event ever stored
    would only re-fetch a table that is already current. An event of an older, unlisted run
    past this id costs one harmless re-fetch.
    """
    latest = 0
    for run in runs:
        if run.last_seq:
            last = context.store.events(run.id, after_seq=run.last_seq - 1, limit=1)
            if last and last[0].id:
                latest = max(latest, last[0].id)
    return latest


async def _load(context: ServerContext, run_id: str) -> tuple[RunRecord, list[TraceEvent]]:
    """The run and its whole trace with blobs inlined (404 for an unknown id)."""

    def read() -> tuple[RunRecord, list[TraceEvent]]:
        return context.store.get_run(run_id), context.store.run_trace(run_id)

    return await from_store(read)


def _detail(
    context: ServerContext, request: Request, run: RunRecord, events: list[TraceEvent], notice: str = ""
) -> dict[str, Any]:
    return {
        "run": run,
        "row": views.run_row(run),
        "steps": views.timeline(events),
        "evidence": views.evidence(run, events),
        "similar": run_history.similar_incidents(events),
        "history": run_history.run_timeline(run.id, events),
        "actions": views.actions(events),
        "approval": views.approval(run, events),
        "merge_wait": merge_wait(run, events, provider_of(context)),
        "can_answer": context.runs is not None,
        **chrome(context, request),
        "poll": POLL_SECONDS,
        "triggers": SSE_TRIGGERS,
        "notice": notice,
    }


@router.get("/", dependencies=Pages)
async def home() -> RedirectResponse:
    """The dashboard's front page is the runs list."""
    return RedirectResponse("/ui/runs", status_code=status.HTTP_307_TEMPORARY_REDIRECT)


@router.get("/ui/runs", response_class=HTMLResponse, dependencies=Pages)
async def runs_page(request: Request, context: Context) -> Response:
    """Every recent run, newest first; new runs and status changes appear live."""
    page = await asyncio.to_thread(context.store.list_runs, limit=LIST_LIMIT)
    after = await asyncio.to_thread(_latest_event_id, context, page.items)
    return html_page(
        "runs.html",
        rows=[views.run_row(run) for run in page.items],
        after=after,
        triggers=SSE_TRIGGERS,
        poll=POLL_SECONDS,
        **chrome(context, request),
    )


@router.get("/ui/runs/rows", response_class=HTMLResponse, dependencies=Reads)
async def runs_rows(context: Context) -> Response:
    """The runs table body, re-fetched by the list page on every SSE event."""
    return html_page("_rows.html", rows=await _rows(context), poll=POLL_SECONDS)


@router.get("/ui/runs/{run_id}", response_class=HTMLResponse, dependencies=Pages)
async def run_page(run_id: RunId, request: Request, context: Context) -> Response:
    """One run: header, approval, evidence, actions with their diffs, and the node timeline."""
    run, events = await _load(context, run_id)
    return html_page("run.html", **_detail(context, request, run, events))


@router.get("/ui/runs/{run_id}/body", response_class=HTMLResponse, dependencies=Reads)
async def run_body(run_id: RunId, request: Request, context: Context) -> Response:
    """Everything on the run page below the SSE connection, re-fetched on each of its events."""
    run, events = await _load(context, run_id)
    return html_page("_run_body.html", **_detail(context, request, run, events))


@router.get("/ui/runs/{run_id}/timeline", response_class=HTMLResponse, dependencies=Reads)
async def run_timeline(run_id: RunId, context: Context) -> Response:
    """The node timeline alone (each step expandable into its prompts, outputs and tool calls)."""
    _, events = await _load(context, run_id)
    return html_page("_timeline.html", steps=views.timeline(events))


async def form_fields(request: Request) -> dict[str, str]:
    """The urlencoded form htmx posts (parsed here: python-multipart is not a dependency)."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, detail="form too large")
    fields = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {key: values[-1] for key, values in fields.items()}


def refusal(message: str, status_code: int, target: str) -> Response:
    """A refused dashboard write: htmx would swap it into the whole body it targets; retarget it to
    the form's message line (`target`) so the operator sees why, next to the buttons."""
    return html_page(
        "_message.html",
        status_code=status_code,
        headers={"HX-Retarget": target, "HX-Reswap": "innerHTML"},
        message=message,
    )


def _refusal(message: str, status_code: int) -> Response:
    return refusal(message, status_code, "#approval-message")


def provider_of(context: ServerContext) -> str | None:
    """The GitOps provider whose pull requests the dashboard links (None: no repository)."""
    desk = context.extras.get(DESK_KEY)
    return desk.provider if isinstance(desk, PullRequestDesk) else None


_REFUSALS = {
    status.HTTP_401_UNAUTHORIZED: "A valid operator token is required: sign in (the session may have ended).",
}


async def _answer(
    request: Request, context: ServerContext, credentials: Credentials, run_id: str, *, approved: bool
) -> Response:
    try:
        await asyncio.to_thread(authorize, request, context, credentials, Access.DASHBOARD_WRITE)
    except HTTPException as exc:
        return _refusal(_REFUSALS.get(exc.status_code, str(exc.detail)), exc.status_code)
    form = await form_fields(request)
    by = form.get("by", "").strip()[:200]
    comment = form.get("comment", "").strip()[:2000]
    if not by:
        return _refusal("Say who you are (the audit trail keeps it).", status.HTTP_422_UNPROCESSABLE_CONTENT)
    run, _ = await _load(context, run_id)
    if context.runs is None:
        return _refusal(
            "This server runs no graph: nothing can be resumed.", status.HTTP_503_SERVICE_UNAVAILABLE
        )
    if run.status is not RunStatus.WAITING_APPROVAL:
        return _refusal(f"The run is {run.status.value}, not waiting for approval.", status.HTTP_409_CONFLICT)
    answer = {"approved": approved, "by": by, "comment": comment}
    try:
        after = await asyncio.to_thread(context.runs.answer, run_id, answer)
    except (ConflictError, RunNotWaiting):
        # Another answer won the race between our read and the resume (the store and the real
        # run service say so differently).
        run, _ = await _load(context, run_id)
        return _refusal(f"Already answered: the run is {run.status.value}.", status.HTTP_409_CONFLICT)
    run, events = await _load(context, run_id)
    verb = "Approved" if approved else "Rejected"
    notice = f"{verb} by {by}; the run is {after}."
    return html_page("_run_body.html", **_detail(context, request, run, events, notice=notice))


@router.post("/ui/runs/{run_id}/approve", response_class=HTMLResponse)
async def approve(
    run_id: RunId,
    request: Request,
    context: Context,
    credentials: Credentials,
) -> Response:
    """The dashboard's approve button (form fields `by`, `comment`; bearer token in the header)."""
    return await _answer(request, context, credentials, run_id, approved=True)


@router.post("/ui/runs/{run_id}/reject", response_class=HTMLResponse)
async def reject(
    run_id: RunId,
    request: Request,
    context: Context,
    credentials: Credentials,
) -> Response:
    """The dashboard's reject button; same checks as approve."""
    return await _answer(request, context, credentials, run_id, approved=False)
