"""Pointing Paramedic at a running sandbox: settings, simulated time, the state file.

Shared by `paramedic demo`, `paramedic serve --sandbox`, `paramedic sandbox up` and the LangGraph
Studio graph (`paramedic.studio`): the composition root is the only product code allowed to
know the sandbox.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.config import ClusterSettings, GitSettings, Mode, Settings

if TYPE_CHECKING:  # only annotations: reading a state file must not load the sandbox
    from sandbox.cluster import Sandbox


def default_state_path() -> Path:
    """Where a running sandbox records itself: $PARAMEDIC_SANDBOX_STATE, else a per-user temp file."""
    override = os.environ.get("PARAMEDIC_SANDBOX_STATE")
    if override:
        return Path(override)
    return Path(tempfile.gettempdir()) / f"paramedic-sandbox-{os.getuid()}.json"


def read_state(path: Path) -> dict[str, Any] | None:
    """What a running sandbox recorded in `path` (see `write_state`); None when there is no such file
    or it is not a JSON object (half-written, or not ours)."""
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def sandbox_settings(
    base: Settings,
    sandbox: Sandbox,
    data_dir: Path,
    *,
    mode: Mode | None = None,
    auto_merge: bool | None = None,
    storage_url: str | None = None,
) -> Settings:
    """`base` aimed at the sandbox: its kubeconfig, its GitOps repository as the local Git source.

    The run store is `storage_url` when given (`serve --sandbox` passes the configured one, so a
    PostgreSQL shared with other replicas is used as configured), else SQLite under `data_dir`.
    """
    return base.model_copy(
        update={
            "mode": mode or base.mode,
            "data_dir": data_dir,
            "storage_url": storage_url,
            "cluster": ClusterSettings(kubeconfig=sandbox.kubeconfig_path),
            # A user's merge wait (timeout, poll) holds on the sandbox's repository too.
            "git": GitSettings(
                provider="local",
                local_path=sandbox.repo_path,
                auto_merge=base.git.auto_merge if auto_merge is None else auto_merge,
                merge_timeout_seconds=base.git.merge_timeout_seconds,
                merge_poll_seconds=base.git.merge_poll_seconds,
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
