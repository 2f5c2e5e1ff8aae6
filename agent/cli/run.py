"""`paramedic run`: one investigation of one workload on the cluster the kubeconfig points at."""

from __future__ import annotations

from agent.cli.common import not_built
from agent.config import Settings


def run_command(settings: Settings, *, namespace: str, workload: str) -> int:
    """Investigate `workload` in `namespace`; the exit code."""
    not_built("run", "the healing graph, issue #5")
    return 3
