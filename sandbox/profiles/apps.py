"""Small single-purpose images from docs and tutorials, monitoring servers, and the fallbacks:
`service` (a long-running server on its documented port) and `unknown` (an image nothing is
known about: it runs, and serves whatever container ports the pod declares)."""

from __future__ import annotations

from sandbox.profiles.model import http_app, http_responder, register, serve
from sandbox.shell.interp import Call, Gen
from sandbox.shell.process import INF, Listener, Sleep
from sandbox.shell.utils.memory import parse_bytes

HELLO_WORLD = """
Hello from Docker!
This message shows that your installation appears to be working correctly.

To generate this message, Docker took the following steps:
 1. The Docker client contacted the Docker daemon.
 2. The Docker daemon pulled the "hello-world" image from the Docker Hub.
    (amd64)
 3. The Docker daemon created a new container from that image which runs the
    executable that produces the output you are currently reading.
 4. The Docker daemon streamed that output to the Docker client, which sent it
    to your terminal.

To try something more ambitious, you can run an Ubuntu container with:
 $ docker run -it ubuntu bash

Share images, automate workflows, and more with a free Docker ID:
 https://hub.docker.com/

For more examples and ideas, visit:
 https://docs.docker.com/get-started/
"""


def _hello(call: Call) -> Gen:
    call.io.out.write(HELLO_WORLD)
    return 0
    yield


def _pause(call: Call) -> Gen:
    yield Sleep(INF)
    return 0


def _liveness(call: Call) -> Gen:
    """registry.k8s.io/liveness: /healthz answers 200 for its first 10 seconds, then 500."""
    proc = call.sh.container.proc
    started = proc.t

    def respond(method: str, path: str) -> tuple[int, str]:
        if path.split("?")[0] != "/healthz":
            return 404, ""
        return (200, "ok") if proc.t - started <= 10 else (500, "error: 10.1s")

    return (yield from serve(call, [Listener(8080, "http", respond)], startup=0.1))


def _vish_stress(call: Call) -> Gen:
    """vish/stress: `-mem-total 150Mi -mem-alloc-size 10Mi -mem-alloc-sleep 1s` and `-cpus N`."""
    opts = dict(zip(call.argv[1::2], call.argv[2::2], strict=False))
    total = parse_bytes(opts.get("-mem-total", "0").replace("i", "")) or 0.0
    step = parse_bytes(opts.get("-mem-alloc-size", "10Mi").replace("i", "")) or float(10 << 20)
    pause = float(opts.get("-mem-alloc-sleep", "1s").rstrip("s") or 1)
    total_text, size_text = opts.get("-mem-total", "0"), opts.get("-mem-alloc-size", "10Mi")
    call.io.error(
        f'I0101 00:00:00.000000       1 main.go:26] Allocating "{total_text}" memory, '
        f'in "{size_text}" chunks, '
        f'with a "{opts.get("-mem-alloc-sleep", "1s")}" sleep between allocations'
    )
    if total:
        yield Sleep(total / step * pause, grow=step / pause)
        call.io.error(f'I0101 00:00:00.000000       1 main.go:39] Allocated "{total_text}" memory')
    yield Sleep(INF)
    return 0


def _unknown(call: Call) -> Gen:
    """An image nothing is known about: it runs, and listens on the ports the pod declares."""
    spec = call.sh.container.spec or {}
    listeners = [
        Listener(int(p["containerPort"]), "http", http_responder(None, "OK\n"))
        for p in spec.get("ports") or []
        if str(p.get("containerPort", "")).isdigit() and (p.get("protocol") or "TCP") == "TCP"
    ]
    return (yield from serve(call, listeners, startup=2.0))


register("hello-world", {"hello": _hello})
register("pause", {"pause": _pause})
register(
    "curl-image",
    {
        "entrypoint.sh": lambda call: call.sh.invoke(
            ["curl", *call.argv[1:]] if not call.argv[1:] or call.argv[1].startswith("-") else call.argv[1:],
            call.io,
            call.env,
            tail=True,
        )
    },
)
register("vish-stress", {"stress": _vish_stress})
register("whoami", {"whoami": http_app(80, None, "Hostname: whoami\n")})
register("http-echo", {"http-echo": http_app(5678, None, "hello-world\n")})
register("http-echo-8080", {"node": http_app(8080, None, "{}\n")})
register("echo-server", {"node": http_app(80, None, "{}\n")})
register(
    "podinfo",
    {
        "podinfo": http_app(
            9898, {"/": 200, "/healthz": 200, "/readyz": 200, "/metrics": 200, "/version": 200}
        )
    },
)
register("hello-app", {"hello-app": http_app(8080, None, "Hello, world!\n")})
register("node-hello", {"node": http_app(8080, None, "Hello Kubernetes!\n")})
register("kuard", {"kuard": http_app(8080, {"/": 200, "/healthy": 200, "/ready": 200})})
register("echoserver", {"nginx": http_app(8080, None, "CLIENT VALUES:\n")})
register("goproxy", {"goproxy": http_app(8080, None, "")})
register("k8s-liveness", {"server": _liveness})
register("hpa-example", {"apache2-foreground": http_app(80, None, "OK!")})
register(
    "httpbin", {"gunicorn": http_app(80, {"/": 200, "/get": 200, "/status/200": 200, "/status/500": 500})}
)
register("service", {"server": _unknown})
