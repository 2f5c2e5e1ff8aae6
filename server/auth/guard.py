"""The checks every endpoint runs: who may read, who may write, and what fails closed.

With a token configured (always the case under `paramedic serve`, which generates one):
- writes need `Authorization: Bearer <token>`; the dashboard's own writes may use its session
  cookie instead, if same-origin and sent by htmx (`HX-Request`);
- reads need the bearer token or the session cookie, unless `server.protect_reads` is off;
- a token file that is missing, unreadable or empty refuses everything that needs the token
  (503, saying why), never opens it and never fails with a 500.

With no token at all (an app built without `serve`: tests, embedding), requests are let in only
when they name a loopback host (or one in `server.allowed_hosts`). Whatever the mode, a write
that a browser marks as cross-site (`Origin`, `Sec-Fetch-Site`) is refused (403).
"""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass
from enum import Enum
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from agent.config import ServerSettings
from server.auth import session
from server.auth.origin import cross_site, host_allowed, same_origin
from server.auth.token import ApiToken
from server.context import ServerContext, get_context

AUTH_KEY = "api_auth"  # context.extras: this context's ApiAuth, rebuilt when its settings change
LOGIN_PATH = "/ui/login"

_bearer = HTTPBearer(auto_error=False, description="The API token (server.token_file; see docs/security.md).")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
Context = Annotated[ServerContext, Depends(get_context)]


class Access(Enum):
    """What a request wants to do."""

    READ = "read"
    WRITE = "write"  # the JSON API: bearer token only
    DASHBOARD_WRITE = "dashboard write"  # the dashboard's buttons: bearer token or session cookie


@dataclass(frozen=True)
class ApiAuth:
    """The token and the bind of one server's settings."""

    server: ServerSettings
    token: ApiToken
    loopback_bind: bool


def _loopback_bind(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def api_auth(context: ServerContext) -> ApiAuth:
    """The context's `ApiAuth` (kept in `context.extras`, rebuilt if the settings were replaced)."""
    current = context.extras.get(AUTH_KEY)
    if not isinstance(current, ApiAuth) or current.server is not context.settings.server:
        server = context.settings.server
        current = ApiAuth(server, ApiToken.from_settings(context.settings), _loopback_bind(server.host))
        context.extras[AUTH_KEY] = current
    return current


def _bearer_matches(credentials: HTTPAuthorizationCredentials | None, token: str) -> bool:
    given = credentials.credentials if credentials is not None else ""
    return bool(given) and hmac.compare_digest(given.encode(), token.encode())


def authorize(
    request: Request, context: ServerContext, credentials: HTTPAuthorizationCredentials | None, access: Access
) -> None:
    """Let the request through or raise the HTTPException that refuses it (401, 403 or 503)."""
    auth = api_auth(context)
    headers = request.headers
    if access is not Access.READ:
        reason = cross_site(headers)
        if reason is not None:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"refused: {reason} may not write to this API")
    if not auth.token.configured or (access is Access.READ and not auth.server.protect_reads):
        # No credential is asked for: the request must at least name this host.
        if (not auth.token.configured or auth.loopback_bind) and not host_allowed(
            headers.get("host"), auth.server.allowed_hosts
        ):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail="refused: a request without a token must name a loopback host or one in "
                "server.allowed_hosts (a DNS-rebinding page names its own)",
            )
        return
    state = auth.token.current()
    if state.value is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            f"refused: {state.problem}; requests that need the API token are refused until it holds one",
        )
    if _bearer_matches(credentials, state.value):
        return
    if access is not Access.WRITE and session.valid(request.cookies.get(session.COOKIE), state.value):
        if access is Access.READ or (same_origin(headers) and headers.get("hx-request") == "true"):
            return
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "refused: a signed-in write must come from the dashboard's own page"
        )
    raise HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        detail="a valid bearer token is required",
        headers={"WWW-Authenticate": "Bearer"},
    )


def require_token(request: Request, context: Context, credentials: Credentials) -> None:
    """Dependency for the JSON API's writes and chat: the bearer token, never a cookie."""
    authorize(request, context, credentials, Access.WRITE)


def require_read_token(request: Request, context: Context, credentials: Credentials) -> None:
    """Dependency for reads: the bearer token or the dashboard's session (unless reads are open)."""
    authorize(request, context, credentials, Access.READ)


def require_page_reader(request: Request, context: Context, credentials: Credentials) -> None:
    """Dependency for dashboard pages: like `require_read_token`, but sends a browser to sign in."""
    try:
        authorize(request, context, credentials, Access.READ)
    except HTTPException as exc:
        if exc.status_code != status.HTTP_401_UNAUTHORIZED:
            raise
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise HTTPException(
            status.HTTP_303_SEE_OTHER, detail="sign in first", headers={"Location": login_url(target)}
        ) from None


def login_url(next_path: str) -> str:
    """The sign-in page, coming back to `next_path` afterwards."""
    return f"{LOGIN_PATH}?next={quote(next_path, safe='/')}"


def signed_in(request: Request, context: ServerContext) -> bool:
    """Whether this browser holds a valid session (always False without a configured token)."""
    state = api_auth(context).token.current()
    return state.value is not None and session.valid(request.cookies.get(session.COOKIE), state.value)
