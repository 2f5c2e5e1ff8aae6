"""What `paramedic serve` settles about the token before it listens.

- No token configured, on loopback: generate `<data_dir>/api-token` (mode 0600) at first start,
  reuse it afterwards, and say where it is. The token itself is never printed or logged.
- A non-loopback bind needs a token the operator configured and that is usable *now*: nothing
  configured, or an empty or unreadable token file, is refused at start (exit 2). (A token only
  this process knew would leave a public listener nobody can use; one that is broken later
  answers 503 until the file is fixed, like a loopback bind with a broken file from the start.)
"""

from __future__ import annotations

import ipaddress

from agent.config import Settings
from server.auth.guard import LOGIN_PATH
from server.auth.token import ApiToken, ApiTokenError, ensure_generated_token


class BindRefused(ValueError):
    """Serving on a non-loopback address without a usable token."""


def check_bind(host: str, token: str | None) -> None:
    """Refuse a non-loopback bind address when no token protects the API."""
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
            f"refusing to serve on {host} without a token: put one in server.token_file (or bind 127.0.0.1)"
        )


def prepare_api_token(settings: Settings) -> tuple[Settings, str]:
    """The settings to serve with (naming the generated token file if one was needed) and a
    one-line notice for the operator. Raises `BindRefused` or `ApiTokenError`."""
    server = settings.server
    if server.token is None and server.token_file is None:
        check_bind(server.host, None)  # a public bind needs a configured token
        path = settings.generated_token_path().resolve()
        created = ensure_generated_token(path)
        settings = settings.model_copy(
            update={"server": server.model_copy(update={"token_file": path})}
        )
        verb = "generated" if created else "kept"
        where = f"API token {verb} in {path} (mode 0600)"
    else:
        where = f"API token from {ApiToken.from_settings(settings).source}"
    state = ApiToken.from_settings(settings).current()
    check_bind(server.host, state.value)
    if state.value is None and state.problem:
        where += f" — {state.problem}: requests that need it answer 503 until it holds a token"
    url = f"http://{server.host}:{server.port}{LOGIN_PATH}"
    return settings, f"{where}; sign in to the dashboard at {url}"


__all__ = ["ApiTokenError", "BindRefused", "check_bind", "prepare_api_token"]
