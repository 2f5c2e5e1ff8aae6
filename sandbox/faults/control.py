"""A small loopback HTTP endpoint through which other processes inject and clear faults in a running
sandbox (`paramedic sandbox fault inject|clear` talks to the one `paramedic sandbox up` started).

Routes (JSON in, JSON out):
  GET  /catalogue      the fault types
  GET  /faults         the active faults, each with its ground truth
  POST /faults         {"type": "oom", "target": "shop/deploy/web-api", "via": "git"} -> 201 the fault
  POST /faults/clear   {"id": "oom-web-api-1"} or {"type": ..., "target": ...} -> 200 {"cleared", "commit"}
  GET  /info           where the cluster is (API URL, kubeconfig, repository)
Errors are `{"error": "..."}` with 400 (bad request, fault not applicable) or 404 (no such fault).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from sandbox.faults.catalogue import FAULT_TYPES
from sandbox.faults.context import Target
from sandbox.faults.injector import InjectedFault

Obj = dict[str, Any]
MAX_BODY = 64 * 1024
SHUTDOWN_POLL_SECONDS = 0.02  # how soon a stop is noticed by the serving loop


class FaultHost(Protocol):
    """What the endpoint drives (the `Sandbox`)."""

    def inject(self, fault_type: str, target: str | Target, via: str = "git") -> InjectedFault: ...

    def clear(self, fault: InjectedFault | str) -> str | None: ...

    def faults(self) -> list[InjectedFault]: ...


class ControlServer:
    """Serves the routes above on 127.0.0.1 from a background thread."""

    def __init__(self, host: FaultHost, info: Callable[[], Mapping[str, Any]], port: int = 0) -> None:
        self._host = host
        self._info = info
        self._lock = threading.Lock()  # one injection at a time: faults commit to the same branch
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL of the endpoint."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"  # bound to loopback above

    def start(self) -> ControlServer:
        """Serve in a background thread."""
        # serve_forever notices shutdown() only between polls: at its default 0.5 s every stop waited
        # about that long.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": SHUTDOWN_POLL_SECONDS},
            name="sandbox-control",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self._server.server_close()

    # -- request handling ---------------------------------------------------------------------

    def handle(self, method: str, path: str, body: Obj) -> tuple[int, Obj]:
        """Route one request; returns (status, JSON body)."""
        if method == "GET" and path == "/catalogue":
            return 200, {
                "faults": [
                    {
                        "type": f.name,
                        "category": f.category.value,
                        "summary": f.summary,
                        "mechanism": f.mechanism,
                    }
                    for f in FAULT_TYPES.values()
                ]
            }
        if method == "GET" and path == "/faults":
            return 200, {"faults": [f.to_dict() for f in self._host.faults()]}
        if method == "GET" and path == "/info":
            return 200, dict(self._info())
        if method == "POST" and path == "/faults":
            kind, target = body.get("type"), body.get("target")
            if not isinstance(kind, str) or not isinstance(target, str):
                return 400, {"error": 'expected {"type": FAULT_TYPE, "target": "NS/deploy/NAME"}'}
            with self._lock:
                fault = self._host.inject(kind, target, via=str(body.get("via") or "git"))
            return 201, fault.to_dict()
        if method == "POST" and path == "/faults/clear":
            return self._clear(body)
        return 404, {"error": f"no route {method} {path}"}

    def _clear(self, body: Obj) -> tuple[int, Obj]:
        fid = body.get("id")
        if not fid:
            kind, target = body.get("type"), body.get("target")
            if not isinstance(kind, str) or not isinstance(target, str):
                return 400, {
                    "error": 'expected {"id": ID} or {"type": FAULT_TYPE, "target": "NS/deploy/NAME"}'
                }
            wanted = Target.parse(target)
            matches = [f for f in self._host.faults() if f.fault_type == kind and f.target == wanted]
            if not matches:
                return 404, {"error": f"no active {kind} fault on {target}"}
            fid = matches[-1].id
        with self._lock:
            try:
                sha = self._host.clear(str(fid))
            except KeyError:
                return 404, {"error": f"no active fault {fid!r}"}
        return 200, {"cleared": fid, "commit": sha}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        control = self

        class Handler(BaseHTTPRequestHandler):
            def _respond(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    if length > MAX_BODY:
                        raise ValueError("request body too large")
                    raw = self.rfile.read(length) if length else b""
                    body = json.loads(raw) if raw else {}
                    if not isinstance(body, dict):
                        raise ValueError("the request body must be a JSON object")
                    status, payload = control.handle(method, self.path.split("?")[0].rstrip("/") or "/", body)
                except ValueError as exc:  # bad JSON, unknown fault type, fault not applicable
                    status, payload = 400, {"error": str(exc)}
                except Exception as exc:  # a failure must reach the caller, not kill the endpoint
                    status, payload = 500, {"error": f"{type(exc).__name__}: {exc}"}
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._respond("GET")

            def do_POST(self) -> None:
                self._respond("POST")

            def log_message(self, format: str, *args: Any) -> None:  # quiet: the CLI prints what matters
                return

        return Handler
