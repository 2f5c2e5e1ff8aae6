"""Cluster and monitoring tools: Prometheus, Grafana, the Docker registry, kubectl and the
Kubernetes e2e image agnhost."""

from __future__ import annotations

from sandbox.profiles.model import http_app, http_responder, register, serve
from sandbox.shell.interp import Call, Gen
from sandbox.shell.process import INF, Listener, Sleep


def _prometheus(call: Call) -> Gen:
    args = " ".join(call.argv[1:])
    path = "/etc/prometheus/prometheus.yml"
    if "--config.file=" in args:
        path = args.split("--config.file=", 1)[1].split()[0]
    if not call.sh.container.fs.is_file(call.path(path)):
        call.io.error(
            f'ts=2024-01-01T00:00:00.000Z caller=main.go:487 level=error msg="Error loading config ({path})" '
            f'file={path} err="open {path}: no such file or directory"'
        )
        return 2
    listener = Listener(
        9090,
        "http",
        http_responder(
            {
                "/-/healthy": 200,
                "/-/ready": 200,
                "/graph": 200,
                "/": 302,
                "/metrics": 200,
                "/api/v1/query": 200,
            }
        ),
    )
    lines = [
        "ts=2024-01-01T00:00:00.000Z caller=main.go:1150 level=info "
        'msg="Server is ready to receive web requests."'
    ]
    return (yield from serve(call, [listener], after=lines, startup=2.0, stream="err"))


def _kubectl(call: Call) -> Gen:
    if len(call.argv) == 1:
        call.io.print("kubectl controls the Kubernetes cluster manager.")
        return 0
    if call.argv[1] == "version":
        call.io.print("Client Version: v1.30.4")
        return 0
    yield Sleep(0.5)
    call.io.error("error: You must be logged in to the server (Unauthorized)")
    return 1


def _agnhost(call: Call) -> Gen:
    sub = call.argv[1] if len(call.argv) > 1 else ""
    if sub in ("netexec", "serve-hostname", "liveness", "porter", "test-webserver"):
        port = 8080 if sub != "serve-hostname" else 9376
        for a in call.argv[2:]:
            if a.startswith("--http-port=") or a.startswith("--port="):
                port = int(a.split("=", 1)[1])
        listener = Listener(port, "http", http_responder(None, call.sh.container.hostname + "\n"))
        return (yield from serve(call, [listener], startup=0.2))
    if sub == "pause":
        yield Sleep(INF)
    call.io.error(f'Error: unknown command "{sub}" for "agnhost"' if sub else "Usage:\n  agnhost [command]")
    return 1


register("kubectl", {"kubectl": lambda call: _kubectl(call)})
register("grafana", {"run.sh": http_app(3000, {"/": 302, "/login": 200, "/api/health": 200}, startup=3.0)})
register("prometheus", {"prometheus": _prometheus})
register("docker-registry", {"entrypoint.sh": http_app(5000, {"/": 200, "/v2/": 200})})
register("agnhost", {"agnhost": lambda call: _agnhost(call)})
