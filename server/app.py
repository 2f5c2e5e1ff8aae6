"""The FastAPI application: one `ServerContext` on `app.state`, the routers mounted under /api/v1.

The dashboard (HTML pages and their static files) and the probes (/healthz, /readyz, /metrics)
are mounted at the root, where browsers and kubelets expect them.
"""

from __future__ import annotations

from fastapi import FastAPI

from server.context import ServerContext
from server.routes import alerts, chat, dashboard, event_streams, incidents, probes, runs

API_PREFIX = "/api/v1"


def create_app(context: ServerContext) -> FastAPI:
    """The API over `context` (tests build a context from whatever parts they need)."""
    app = FastAPI(
        title="Paramedic",
        version="0.1.0",
        description="A self-healing AIOps agent for Kubernetes: runs, reasoning traces, approvals, chat.",
    )
    app.state.context = context
    for module in (runs, incidents, event_streams, alerts, chat):
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(probes.router)
    app.include_router(dashboard.router)
    return app
