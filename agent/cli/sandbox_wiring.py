"""Pointing Paramedic at a running sandbox: settings, simulated time, the fault control endpoint.

Shared by `paramedic demo` and `paramedic serve --sandbox` (the CLI is the only product code
allowed to import the sandbox).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.config import ClusterSettings, GitSettings, Mode, Settings
from sandbox.cluster import Sandbox


def sandbox_settings(
    base: Settings,
    sandbox: Sandbox,
    data_dir: Path,
    *,
    mode: Mode | None = None,
    auto_merge: bool | None = None,
) -> Settings:
    """`base` aimed at the sandbox: its kubeconfig, its GitOps repository as the local Git source."""
    return base.model_copy(
        update={
            "mode": mode or base.mode,
            "data_dir": data_dir,
            "storage_url": None,
            "cluster": ClusterSettings(kubeconfig=sandbox.kubeconfig_path),
            "git": GitSettings(
                provider="local",
                local_path=sandbox.repo_path,
                auto_merge=base.git.auto_merge if auto_merge is None else auto_merge,
            ),
        }
    )


def sim_clock(sandbox: Sandbox) -> Callable[[], datetime]:
    """The sandbox's simulated clock as aware UTC datetimes (what the graph and watcher expect)."""

    def now() -> datetime:
        return datetime.fromtimestamp(sandbox.clock.time(), UTC)

    return now


def write_state(path: Path, sandbox: Sandbox, control_url: str, **extra: Any) -> dict[str, Any]:
    """Record where the sandbox is (what `paramedic sandbox fault ...` reads); the recorded info."""
    info = {
        "pid": os.getpid(),
        "url": sandbox.url,
        "kubeconfig": str(sandbox.kubeconfig_path),
        "repo": str(sandbox.repo_path),
        "metrics_url": sandbox.metrics_url,
        "workdir": str(sandbox.workdir),
        "control_url": control_url,
        **extra,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(info, indent=2), encoding="utf-8")
    return info
