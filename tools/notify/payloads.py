"""The JSON body each webhook kind expects for a notification, clipped to the service's limits."""

from __future__ import annotations

from typing import Any

from tools.notify.kind import WebhookKind
from tools.notify.message import Notification, Severity

SENDER = "Paramedic"

# Each severity's Slack emoji and Discord embed colour (24-bit RGB as an integer).
_MARKS = {
    Severity.INFO: (":information_source:", 0x3498DB),
    Severity.SUCCESS: (":white_check_mark:", 0x2ECC71),
    Severity.WARNING: (":warning:", 0xF39C12),
    Severity.CRITICAL: (":rotating_light:", 0xE74C3C),
}


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def _slack_escape(text: str) -> str:
    # Slack's mrkdwn treats these three as control characters (links, mentions).
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(n: Notification) -> dict[str, Any]:
    """Block Kit: header, summary section, two-column fields, a PR button, and a context line."""
    fallback = f"[{n.severity.value.upper()}] {n.title}"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": clip(n.title, 150), "emoji": True}},
        {"type": "section", "text": {"type": "mrkdwn", "text": clip(_slack_escape(n.summary) or " ", 3000)}},
    ]
    fields = [
        {"type": "mrkdwn", "text": clip(f"*{label}*\n{_slack_escape(value)}", 2000)}
        for label, value in n.fields()
        if label != "Pull request"  # it gets a button instead
    ]
    if fields:
        blocks.append({"type": "section", "fields": fields[:10]})
    if n.pr_url:
        button = {
            "type": "button",
            "text": {"type": "plain_text", "text": "View pull request"},
            "url": n.pr_url,
        }
        blocks.append({"type": "actions", "elements": [button]})
    emoji, _ = _MARKS[n.severity]
    context = f"{emoji} {SENDER} · {n.severity.value} · {n.created_at.isoformat(timespec='seconds')}"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    return {"text": clip(fallback, 3000), "blocks": blocks}


def discord_payload(n: Notification) -> dict[str, Any]:
    """One embed coloured by severity; the title links to the PR when there is one."""
    pairs = [(label, clip(value, 1024)) for label, value in n.fields()][:25]
    fields = [
        {"name": label, "value": value, "inline": label in ("Namespace", "Workload", "Confidence")}
        for label, value in pairs
    ]
    title = clip(n.title, 256)
    footer = f"{SENDER} · {n.severity.value}"
    # Discord rejects an embed whose text adds up to more than 6000 characters; the summary yields.
    used = len(title) + len(footer) + sum(len(label) + len(value) for label, value in pairs)
    embed: dict[str, Any] = {
        "title": title,
        "description": clip(n.summary, max(min(4096, 6000 - used), 0)),
        "color": _MARKS[n.severity][1],
        "fields": fields,
        "footer": {"text": footer},
        "timestamp": n.created_at.isoformat(),
    }
    if n.pr_url:
        embed["url"] = n.pr_url
    # No @everyone or role pings from text the agent wrote.
    return {"username": SENDER, "embeds": [embed], "allowed_mentions": {"parse": []}}


def generic_payload(n: Notification) -> dict[str, Any]:
    """A flat, stable JSON document: every field key is present, unset ones are null."""
    return {
        "source": SENDER.lower(),
        "title": n.title,
        "severity": n.severity.value,
        "summary": n.summary,
        "fields": {
            "namespace": n.namespace,
            "workload": n.workload,
            "root_cause": n.root_cause,
            "confidence": n.confidence,
            "action": n.action,
            "pr_url": n.pr_url,
        },
        "timestamp": n.created_at.isoformat(),
    }


_BUILDERS = {
    WebhookKind.SLACK: slack_payload,
    WebhookKind.DISCORD: discord_payload,
    WebhookKind.GENERIC: generic_payload,
}


def build_payload(kind: WebhookKind, n: Notification) -> dict[str, Any]:
    """The body to post for `kind`."""
    return _BUILDERS[kind](n)
