"""API authentication: the token, the dashboard's session, Host/Origin checks (docs/security.md).

Endpoints depend on `require_token` (writes and chat), `require_read_token` (reads),
`require_page_reader` (dashboard pages) or call `authorize` with `Access.DASHBOARD_WRITE`;
`paramedic serve` calls `prepare_api_token` before it listens.
"""

from server.auth.guard import (
    Access,
    ApiAuth,
    api_auth,
    authorize,
    login_url,
    require_page_reader,
    require_read_token,
    require_token,
    signed_in,
)
from server.auth.startup import BindRefused, check_bind, prepare_api_token
from server.auth.token import ApiToken, ApiTokenError, TokenState

__all__ = [
    "Access",
    "ApiAuth",
    "ApiToken",
    "ApiTokenError",
    "BindRefused",
    "TokenState",
    "api_auth",
    "authorize",
    "check_bind",
    "login_url",
    "prepare_api_token",
    "require_page_reader",
    "require_read_token",
    "require_token",
    "signed_in",
]
