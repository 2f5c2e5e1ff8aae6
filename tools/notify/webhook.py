"""Posts notifications to a webhook. Never raises and never reveals the URL (it holds a secret).

What is posted leaves the cluster for a chat service: the notification's text is redacted once more
on the way out (`tools.boundary`), whatever its author built it from.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from tools.boundary import redact_value
from tools.http_client import PooledClient
from tools.notify.kind import WebhookKind, detect_kind, redact_url
from tools.notify.message import Notification
from tools.notify.payloads import build_payload
from tools.result import RetryPolicy, ToolFailure, ToolResult, ToolStatus, TraceSink, call_tool, discard

TOOL = "notify.webhook"
DEFAULT_RETRY = RetryPolicy()
# Worth another try: the receiver was briefly down, overloaded or rate-limiting.
_TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    """A notification the receiver accepted."""

    kind: WebhookKind
    status_code: int


class WebhookNotifier:
    """Posts to one webhook URL in the dialect its host implies (or `kind`, when given).

    `url=None` means notifications are not configured: `send` answers UNAVAILABLE.
    """

    def __init__(
        self,
        url: str | None,
        *,
        kind: WebhookKind | None = None,
        timeout: float = 5.0,
        retry: RetryPolicy = DEFAULT_RETRY,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self._url = url
        self._kind = kind or (detect_kind(url) if url else WebhookKind.GENERIC)
        self._timeout = timeout
        self._retry = retry
        # One client for every notification (one per call built a TLS context each time: ~40 ms CPU).
        self._http = PooledClient(timeout=timeout, transport=transport)

    def close(self) -> None:
        """Close the HTTP connections (a later notification opens new ones)."""
        self._http.close()

    def __enter__(self) -> WebhookNotifier:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def kind(self) -> WebhookKind:
        """The payload dialect used."""
        return self._kind

    @property
    def target(self) -> str:
        """The URL with its secret parts removed, safe for logs and traces."""
        return redact_url(self._url) if self._url else "(not configured)"

    def send(self, notification: Notification, *, sink: TraceSink = discard) -> ToolResult[Delivery]:
        """Post `notification`; failures come back as ERROR (UNAVAILABLE when not configured)."""
        arguments = {
            "webhook": self.target,
            "kind": self._kind.value,
            "title": notification.title,
            "severity": notification.severity.value,
        }
        result = call_tool(
            TOOL,
            arguments,
            lambda: self._post(notification),
            sink=sink,
            summarize=lambda d: f"delivered to {d.kind.value} webhook (HTTP {d.status_code})",
            retry=self._retry,
        )
        if not result.ok and result.status is not ToolStatus.UNAVAILABLE:
            log.warning("notification not delivered to %s: %s", self.target, result.error)
        return result

    def _post(self, notification: Notification) -> Delivery:
        if self._url is None:
            raise ToolFailure("no notification webhook configured", status=ToolStatus.UNAVAILABLE)
        if not self._url.startswith(("http://", "https://")):
            raise ToolFailure(f"the webhook URL is not http(s): {self.target}")
        where = f"{self._kind.value} webhook {self.target}"
        try:
            payload = build_payload(self._kind, redact_value(notification))
            response = self._http.client().post(self._url, json=payload)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise ToolFailure(f"cannot reach {where}: {type(exc).__name__}", transient=True) from exc
        except httpx.TimeoutException as exc:
            # Not retried: the receiver may have got it, and a duplicate is worse than a gap.
            raise ToolFailure(f"{where} did not answer within {self._timeout:g}s") from exc
        except Exception as exc:
            # Only the type: httpx's messages may quote the URL, and with it the secret.
            raise ToolFailure(f"posting to {where} failed: {type(exc).__name__}") from exc
        if response.is_success:
            return Delivery(self._kind, response.status_code)
        body = " ".join(_scrub(response.text, self._url).split())[:200]
        raise ToolFailure(
            f"{where} answered HTTP {response.status_code}: {body or '(empty body)'}",
            transient=response.status_code in _TRANSIENT_STATUS,
        )


def _scrub(text: str, url: str) -> str:
    """`text` with the URL and its secret-bearing parts (path, query) replaced, in case it echoes them."""
    parts = urlsplit(url)
    for secret in (url, parts.path if len(parts.path) > 1 else "", parts.query):
        if secret:
            text = text.replace(secret, "[redacted]")
    return text
