"""One `httpx.Client` per tool object, made at its first request and reused by the ones after.

Building an `httpx.Client` builds a TLS context (the CA bundle is read and parsed: ~40 ms of CPU),
even for a plain-http URL; a Prometheus query or a notification that built one per call paid that
every time, and a new connection too. The owner (a `PrometheusClient`, a `WebhookNotifier`) holds
one `PooledClient` for its one base URL and closes it with its own `close()`; there is no
process-wide client. A request after `close()` opens a new client, so a late caller (a run ending
while the service shuts down) still gets through rather than failing; `close()` closes that too.
"""

from __future__ import annotations

import threading

import httpx


class PooledClient:
    """A lazily built, thread-safe, reusable `httpx.Client` with fixed settings."""

    def __init__(self, *, timeout: float, transport: httpx.BaseTransport | None = None) -> None:
        self._timeout = timeout
        self._transport = transport  # e.g. httpx.MockTransport, or one with custom TLS settings
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    def client(self) -> httpx.Client:
        """The client, built at the first call (httpx clients are safe to share between threads)."""
        with self._lock:
            if self._client is None or self._client.is_closed:
                self._client = httpx.Client(timeout=self._timeout, transport=self._transport)
            return self._client

    def close(self) -> None:
        """Close the client and its connections (idempotent)."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()
