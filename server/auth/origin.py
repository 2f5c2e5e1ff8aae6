"""Where a request comes from: loopback Host names and same-origin browser requests.

Two browser attacks reach a server on 127.0.0.1 without any credential:

- DNS rebinding: a page on `evil.example` re-points its name at 127.0.0.1 and then reads and
  writes the API as "same origin"; its requests still say `Host: evil.example:8080`. So a request
  let in without a token must name a loopback host (or one in `server.allowed_hosts`).
- Cross-site requests: any page can make a browser POST a form to localhost. Browsers say who
  sent a request in `Origin` (and `Sec-Fetch-Site`); a write whose origin is not this server is
  refused, with or without a credential.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})


def is_loopback_host(host: str) -> bool:
    """`localhost`, `*.localhost`, 127.0.0.0/8 or ::1 (a host name or IP, without port)."""
    name = host.strip("[]").lower().rstrip(".")
    if name in _LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def host_name(host_header: str) -> str:
    """The host of a `Host` header value, without its port (IPv6 brackets kept off)."""
    value = host_header.strip()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def host_allowed(host_header: str | None, allowed: Iterable[str]) -> bool:
    """A loopback host, or one the settings allow by name."""
    if not host_header:
        return False
    name = host_name(host_header)
    return is_loopback_host(name) or name.lower() in {a.lower() for a in allowed}


def cross_site(headers: Mapping[str, str]) -> str | None:
    """Why this request comes from another site (a browser said so), or None.

    No `Origin` and no `Sec-Fetch-Site` is a non-browser client (curl, Alertmanager, the CLI).
    """
    site = headers.get("sec-fetch-site")
    if site and site not in ("same-origin", "none"):
        return f"a {site} request"
    origin = headers.get("origin")
    if not origin:
        return None
    if origin == "null":
        return "an opaque origin (null)"
    parts = urlsplit(origin)
    if parts.netloc.lower() != (headers.get("host") or "").lower():
        return f"origin {origin}"
    return None


def same_origin(headers: Mapping[str, str]) -> bool:
    """A browser said this request comes from this server's own pages."""
    return cross_site(headers) is None and bool(headers.get("origin") or headers.get("sec-fetch-site"))
