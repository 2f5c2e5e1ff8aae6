"""Searching the workload's logs: fixed patterns only, so nothing written in a log can steer a rule."""

from __future__ import annotations

import re

from agent.reasoners.rules.evidence_view import EvidenceView

# Requests failing right now: 5xx access-log lines or the application's own "request failed".
_SERVING_ERRORS = re.compile(r'HTTP/\d(?:\.\d)?"\s+5\d\d\b|\brequest failed\b', re.IGNORECASE)


def log_search(view: EvidenceView, pattern: re.Pattern[str]) -> tuple[re.Match[str], str, str] | None:
    """First match in the logs (previous instances first): (match, log item id, container)."""
    for log in view.logs:
        match = pattern.search(log.text)
        if match:
            return match, log.item_id, log.container
    return None


def serving_errors(view: EvidenceView) -> bool:
    """True when the current logs show requests failing now.

    A pod can stay Ready (its probe does not check the database) while every request fails.
    """
    return any(_SERVING_ERRORS.search(log.text) for log in view.logs if not log.previous)
