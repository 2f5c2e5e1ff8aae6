"""`paramedic serve`: the watcher and the HTTP API (SSE, chat, dashboard)."""

from __future__ import annotations

from agent.cli.common import not_built
from agent.config import Settings


def serve_command(settings: Settings, *, sandbox: bool) -> int:
    """Run the service until interrupted; the exit code."""
    not_built("serve", "the service, issue #6")
    return 3
