"""Which chat service a webhook URL belongs to, and how to show the URL without its secret."""

from __future__ import annotations

from enum import StrEnum
from urllib.parse import urlsplit

_SLACK_HOSTS = frozenset({"hooks.slack.com", "hooks.slack-gov.com"})
_DISCORD_HOSTS = frozenset({"discord.com", "discordapp.com", "ptb.discord.com", "canary.discord.com"})


class WebhookKind(StrEnum):
    """The payload dialect a webhook expects."""

    SLACK = "slack"  # Block Kit
    DISCORD = "discord"  # embeds
    GENERIC = "generic"  # plain JSON


def detect_kind(url: str) -> WebhookKind:
    """Slack for hooks.slack.com, Discord for discord(app).com/api/webhooks/…, generic otherwise."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host in _SLACK_HOSTS:
        return WebhookKind.SLACK
    if host in _DISCORD_HOSTS and "/webhooks/" in parts.path:
        return WebhookKind.DISCORD
    return WebhookKind.GENERIC


def redact_url(url: str) -> str:
    """Scheme, host and port only: Slack and Discord put the secret in the path, others may use
    the query or user:password, so everything else goes."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # a malformed port must not make redaction itself fail
        port = ""
    scheme = parts.scheme or "?"
    return f"{scheme}://{host}{port}/[redacted]"
