"""Bearer-token checks: required on every mutating endpoint and on chat, optional on reads.

The token comes from settings (`server.token` or `server.token_file`). With no token
configured, mutating endpoints are open only because `paramedic serve` refuses to bind a
non-loopback address without one (see `check_bind`).
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from server.context import ServerContext, get_context

_bearer = HTTPBearer(auto_error=False, description="The token from server.token / server.token_file.")


class BindRefused(ValueError):
    """Serving on a non-loopback address without a token."""


def check_bind(host: str, token: str | None) -> None:
    """Refuse a non-loopback bind address when no token protects the mutating endpoints."""
    if token:
        return
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise BindRefused(
            f"refusing to serve on {host} without a token: set server.token_file (or bind 127.0.0.1)"
        )


def _check(context: ServerContext, credentials: HTTPAuthorizationCredentials | None) -> None:
    expected = context.settings.server.token_value()
    if not expected:
        return
    given = credentials.credentials if credentials is not None else ""
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="a valid bearer token is required",
            headers={"WWW-Authenticate": "Bearer"},
        )


def require_token(
    context: Annotated[ServerContext, Depends(get_context)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Dependency for mutating endpoints and chat: 401 unless the bearer token matches."""
    _check(context, credentials)


def require_read_token(
    context: Annotated[ServerContext, Depends(get_context)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Dependency for read endpoints: checks the token only when `server.protect_reads` is on."""
    if context.settings.server.protect_reads:
        _check(context, credentials)
