"""Notifications to Slack (Block Kit), Discord (embeds) or a generic JSON webhook."""

from tools.notify.kind import WebhookKind, detect_kind, redact_url
from tools.notify.message import Notification, Severity
from tools.notify.payloads import build_payload
from tools.notify.webhook import TOOL, Delivery, WebhookNotifier

__all__ = [
    "TOOL",
    "Delivery",
    "Notification",
    "Severity",
    "WebhookKind",
    "WebhookNotifier",
    "build_payload",
    "detect_kind",
    "redact_url",
]
