"""What every endpoint needs, in one object on `app.state.context`, handed out by `get_context`.

Routers stay independent of how the app is assembled: they ask for `ServerContext` through
FastAPI's dependency injection, and tests build a context from whatever parts they need.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request

from agent.config import Settings
from agent.domain import Incident
from server.runstore import RunStore


class RunLauncher(Protocol):
    """Starts and resumes healing runs (the real one is `server.run_service.RunService`)."""

    def submit(self, incident: Incident) -> tuple[str, bool]:
        """Record `incident` and open (or fold into) its run; (run id, whether the run is new).

        The launcher records the incident itself: a repeated sighting of a fingerprint folds into
        the open incident (its count grows by one per call), and the run is linked to the stored
        incident (`RunRecord.incident_id`, the open one it folded into, if any). Callers must not
        record the incident again; read its id from the run.
        """
        ...

    def answer(self, run_id: str, answer: Mapping[str, Any]) -> str:
        """Resume a run waiting for approval with `answer`; the run's status afterwards."""
        ...


@dataclass
class ServerContext:
    """The store, the run launcher and the settings every router shares."""

    store: RunStore
    settings: Settings
    runs: RunLauncher | None = None
    extras: dict[str, Any] = field(default_factory=dict)  # optional parts (cluster reads, chat agent)


def get_context(request: Request) -> ServerContext:
    """The FastAPI dependency: the app's `ServerContext`."""
    context = getattr(request.app.state, "context", None)
    if context is None:
        raise RuntimeError("app.state.context is not set; build the app with server.app.create_app")
    return context


Context = Annotated[ServerContext, Depends(get_context)]  # a route's `context: Context` parameter
