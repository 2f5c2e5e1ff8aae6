"""How the dashboard shows pull requests: links a human can follow, and a run's wait on one.

A local pull request's stored URL is a file path in the repository's git dir (`file://…/pulls/N.json`):
no browser opens it, so the dashboard links its own page (`/ui/pulls/N`) instead; a GitHub pull
request links its web page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agent.trace import TraceEvent, TraceEventType
from server.pull_requests import pull_link
from server.runstore import RunRecord, RunStatus

_LOCAL_PULL = re.compile(r"^file://.*/pulls/(\d+)\.json$")


@dataclass(frozen=True)
class PullLink:
    """A pull request a run opened, and where a human reads it."""

    number: int | None
    label: str
    href: str | None  # None: not a link a browser can follow (an unknown local path)


def pull_of(details: Mapping[str, Any], provider: str | None = None) -> PullLink | None:
    """The pull request an action's details name, with the link a human follows: the dashboard's
    page for a local one (its stored URL is a file path), else its web page."""
    url = details.get("pr_url")
    number = details.get("pr_number")
    url = url if isinstance(url, str) else ""
    if not isinstance(number, int) or isinstance(number, bool):
        match = _LOCAL_PULL.match(url)
        number = int(match.group(1)) if match else None
    if not url and number is None:
        return None
    local = provider == "local" or url.startswith("file://")
    if number is not None and local:
        return PullLink(number, f"pull request #{number}", pull_link("local", number, url))
    if url.startswith(("https://", "http://")):
        return PullLink(number, f"pull request #{number}" if number is not None else url, url)
    return PullLink(number, url or f"pull request #{number}", None)


def pulls_of(runs: Iterable[RunRecord], provider: str | None = None) -> list[PullLink]:
    """The pull requests the runs opened (from their stored actions), each once, oldest run first."""
    seen: dict[str, PullLink] = {}
    for run in sorted(runs, key=lambda r: r.created_at):
        for action in run.actions:
            if isinstance(action, Mapping):
                link = pull_of(action, provider)
                if link is not None:
                    seen.setdefault(link.href or link.label, link)
    return list(seen.values())


@dataclass(frozen=True)
class MergeWaitView:
    """A run's wait on its pull request, as the run page shows it."""

    waiting: bool  # the run waits now
    status: str  # waiting, merged, closed, recovered, timeout, invalid
    summary: str
    pull: PullLink | None
    deadline: str


def merge_wait(
    run: RunRecord, events: Sequence[TraceEvent], provider: str | None = None
) -> MergeWaitView | None:
    """The run's latest wait on a pull request (from its `wait` events), None when it never waited."""
    waits = [e for e in events if e.type is TraceEventType.WAIT]
    if not waits:
        return None
    latest = waits[-1]
    details = latest.payload.get("details")
    details = details if isinstance(details, Mapping) else {}
    deadline = details.get("deadline")
    return MergeWaitView(
        waiting=run.status is RunStatus.WAITING_MERGE,
        status=str(latest.payload.get("status") or ""),
        summary=latest.summary,
        pull=pull_of(details, provider),
        deadline=str(deadline) if isinstance(deadline, str) else "",
    )
