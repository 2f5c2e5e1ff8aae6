"""What a container's network offers its programs: DNS and TCP/HTTP connections.

The cluster side (`sandbox.profiles.world`) implements `Network` from Services, ready pods and
what their programs listen on; tests use `StaticNetwork`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from sandbox.shell.process import Listener

DNS_SERVER = "10.96.0.10"


@dataclass(frozen=True)
class Endpoint:
    """The outcome of a TCP connect: `ok` (with the listener), `refused`, `timeout` or `unresolved`."""

    host: str
    ip: str
    port: int
    outcome: str
    listener: Listener | None = None


class Network(Protocol):
    """DNS and connections as seen from one pod."""

    pod_ip: str
    namespace: str

    def resolve(self, host: str) -> tuple[str, str] | None:
        """(fully qualified name, IP) for `host`, or None (NXDOMAIN)."""

    def connect(self, host: str, port: int) -> Endpoint:
        """Open a TCP connection to host:port."""


@dataclass
class StaticNetwork:
    """A fixed table of names and listeners (for tests and programs that need no cluster)."""

    pod_ip: str = "10.244.1.2"
    namespace: str = "default"
    names: dict[str, str] = field(default_factory=dict)  # host -> IP
    listeners: dict[tuple[str, int], Listener] = field(default_factory=dict)  # (IP, port)
    local: dict[int, Listener] = field(default_factory=dict)

    def resolve(self, host: str) -> tuple[str, str] | None:
        """Names in the table, `localhost` and dotted IPs."""
        if host in ("localhost", "127.0.0.1"):
            return host, "127.0.0.1"
        if host.replace(".", "").isdigit():
            return host, host
        ip = self.names.get(host)
        return (host, ip) if ip else None

    def connect(self, host: str, port: int) -> Endpoint:
        """A listener in the table, else connection refused."""
        found = self.resolve(host)
        if found is None:
            return Endpoint(host, "", port, "unresolved")
        ip = found[1]
        listener = (
            self.local.get(port) if ip in ("127.0.0.1", self.pod_ip) else self.listeners.get((ip, port))
        )
        return Endpoint(host, ip, port, "ok" if listener else "refused", listener)


def http_exchange(listener: Listener, scheme: str, method: str, path: str) -> tuple[int, str] | str:
    """An HTTP(S) request to a listener: (status, body), or why it failed — `plain` (a TLS client met
    a plain-HTTP server) or `not-http` (the peer closed without an HTTP answer)."""
    proto, respond = listener.protocol, listener.respond
    if respond is None and proto not in ("https", "tls"):
        return "not-http"
    if proto == "web" and respond is not None:
        return respond(method, path)
    if scheme == "https":
        if proto in ("https", "tls") and respond is not None:
            return respond(method, path)
        return "plain" if proto == "http" else "not-http"
    if proto == "http" and respond is not None:
        return respond(method, path)
    if proto == "https":  # Go's TLS servers answer a plain request with 400
        return 400, "Client sent an HTTP request to an HTTPS server.\n"
    return "not-http"
