"""The FastAPI application: one `ServerContext` on `app.state`, the routers mounted under /api/v1.

The dashboard (HTML pages and their static files) and the probes (/healthz, /readyz, /metrics)
are mounted at the root, where browsers and kubelets expect them.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from server.context import ServerContext
from server.openapi_doc import document_body_errors
from server.routes import (
    alerts,
    chat,
    dashboard,
    dashboard_incidents,
    dashboard_pulls,
    event_streams,
    findings,
    findings_page,
    incidents,
    login,
    probes,
    pulls,
    run_history,
    runs,
)
from server.schemas import ErrorBody

API_PREFIX = "/api/v1"
# Every API route checks the token (server/auth): these answers can come from any of them.
AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {"model": ErrorBody, "description": "A cross-site write, or no token and a foreign Host."},
    503: {"model": ErrorBody, "description": "The API token file is missing, unreadable or empty: refused."},
}


def create_app(context: ServerContext) -> FastAPI:
    """The API over `context` (tests build a context from whatever parts they need)."""
    app = FastAPI(
        title="Paramedic",
        version="0.1.0",
        description="A self-healing AIOps agent for Kubernetes: runs, reasoning traces, approvals, chat.",
    )
    app.state.context = context
    for module in (runs, run_history, incidents, pulls, event_streams, alerts, chat, findings):
        app.include_router(module.router, prefix=API_PREFIX, responses=AUTH_RESPONSES)
    app.include_router(probes.router, responses=AUTH_RESPONSES)
    app.include_router(dashboard.router)
    app.include_router(dashboard_incidents.router)
    app.include_router(dashboard_pulls.router)
    app.include_router(findings_page.router)
    app.include_router(login.router)
    document_body_errors(app)
    return app
