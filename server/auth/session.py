"""The dashboard's session cookie: proof that this browser signed in with the API token.

A browser cannot put a bearer token on an EventSource or a page load, so the dashboard signs in
once (`POST /ui/login` with the token) and gets a cookie `v1.<issued>.<hmac>`: an HMAC-SHA256,
keyed with the API token, of when it was issued. Nothing is stored on the server; rotating the
token ends every session; a session lasts `MAX_AGE` seconds.

The cookie is `HttpOnly` (no script reads it), `SameSite=Strict` (no other site's page makes the
browser send it) and `Secure` over HTTPS. It opens reads; a write with it must also be
same-origin and carry htmx's `HX-Request` header (`server.auth.guard`), so a forged cross-site
form gets nowhere even in a browser that ignored SameSite.
"""

from __future__ import annotations

import hashlib
import hmac
import time

COOKIE = "paramedic_session"
MAX_AGE = 12 * 3600
_VERSION = "v1"
_CLOCK_SKEW = 60


def _signature(token: str, issued: int) -> str:
    message = f"paramedic-dashboard-session:{_VERSION}:{issued}".encode()
    return hmac.new(token.encode(), message, hashlib.sha256).hexdigest()


def issue(token: str, now: float | None = None) -> str:
    """A new session cookie value for `token`."""
    issued = int(time.time() if now is None else now)
    return f"{_VERSION}.{issued}.{_signature(token, issued)}"


def valid(cookie: str | None, token: str, now: float | None = None) -> bool:
    """Whether `cookie` was issued for `token` and has not expired."""
    if not cookie:
        return False
    version, _, rest = cookie.partition(".")
    issued_text, _, signature = rest.partition(".")
    if version != _VERSION or not issued_text.isdigit():
        return False
    issued = int(issued_text)
    moment = time.time() if now is None else now
    if not (moment - MAX_AGE <= issued <= moment + _CLOCK_SKEW):
        return False
    return hmac.compare_digest(signature.encode(), _signature(token, issued).encode())
