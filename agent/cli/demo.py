"""`paramedic demo`: the sandbox, a series of faults, and Paramedic healing each one live."""

from __future__ import annotations

from agent.cli.common import not_built
from agent.config import Settings


def demo_command(settings: Settings, *, keep_running: bool) -> int:
    """Run the demo; the exit code (0 only when every fault was diagnosed and healed)."""
    not_built("demo", "the healing graph, issue #5")
    return 3
