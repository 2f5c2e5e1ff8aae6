"""nginx (official, unprivileged, Bitnami): its entrypoint, its configuration read from the files
the pod mounts (listen ports, `location … { return N; }`, the document root), and the errors it
really stops with (missing nginx.conf or mime.types, a non-root user binding port 80)."""

from __future__ import annotations

import re
from collections.abc import Callable

from sandbox.profiles.model import register, serve, timestamp
from sandbox.shell.fs import FsError
from sandbox.shell.interp import Call, Gen
from sandbox.shell.process import Listener

_DEFAULT_CONF = """server {
    listen       80;
    listen  [::]:80;
    server_name  localhost;

    location / {
        root   /usr/share/nginx/html;
        index  index.html index.htm;
    }

    error_page   500 502 503 504  /50x.html;
    location = /50x.html {
        root   /usr/share/nginx/html;
    }
}
"""
_NGINX_CONF = """user  nginx;
worker_processes  auto;

error_log  /var/log/nginx/error.log notice;
pid        /var/run/nginx.pid;

events {
    worker_connections  1024;
}

http {
    include       /etc/nginx/mime.types;
    default_type  application/octet-stream;
    access_log  /var/log/nginx/access.log  main;
    sendfile        on;
    keepalive_timeout  65;
    include /etc/nginx/conf.d/*.conf;
}
"""
WELCOME = """<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>
</body>
</html>
"""


def nginx_files(port: int = 80) -> dict[str, str]:
    """The configuration and document root the image ships."""
    return {
        "/etc/nginx/nginx.conf": _NGINX_CONF,
        "/etc/nginx/mime.types": "types {\n    text/html  html htm shtml;\n}\n",
        "/etc/nginx/conf.d/default.conf": _DEFAULT_CONF.replace("80;", f"{port};"),
        "/usr/share/nginx/html/index.html": WELCOME,
        "/usr/share/nginx/html/50x.html": "<h1>An error occurred.</h1>\n",
        "/docker-entrypoint.d/10-listen-on-ipv6-by-default.sh": "",
    }


def _config(call: Call) -> tuple[str, str | None]:
    """(all configuration text, the emerg error if the files nginx needs are missing)."""
    fs = call.sh.container.fs
    try:
        main = fs.read("/etc/nginx/nginx.conf")
    except FsError:
        return "", 'open() "/etc/nginx/nginx.conf" failed (2: No such file or directory)'
    texts = [main]
    for m in re.finditer(r"^\s*include\s+([^;]+);", main, re.M):
        pattern = m.group(1).strip()
        line = main[: m.start()].count("\n") + 1
        if "*" in pattern:
            folder = pattern.rsplit("/", 1)[0]
            try:
                names = fs.listdir(folder)
            except FsError:
                names = []
            texts += [
                fs.read(f"{folder}/{n}") for n in names if n.endswith(".conf") and fs.is_file(f"{folder}/{n}")
            ]
        elif not fs.is_file(pattern):
            return (
                "",
                f'open() "{pattern}" failed (2: No such file or directory) in /etc/nginx/nginx.conf:{line}',
            )
        elif not pattern.endswith("mime.types"):
            texts.append(fs.read(pattern))
    return "\n".join(texts), None


def site(call: Call, default_port: int = 80) -> tuple[list[int], Callable[[str, str], tuple[int, str]]]:
    """The ports the configuration listens on and how it answers HTTP requests."""
    text, _ = _config(call)
    ports = sorted({int(p) for p in re.findall(r"^\s*listen\s+(?:[\w.*\[\]:]+:)?(\d+)", text, re.M)})
    routes: dict[str, int] = {}
    for m in re.finditer(r"location\s+(=\s*|\^~\s*)?(\S+)\s*\{([^}]*)\}", text):
        ret = re.search(r"return\s+(\d{3})", m.group(3))
        routes[m.group(2)] = int(ret.group(1)) if ret else 0
    root_m = re.search(r"^\s*root\s+([^;]+);", text, re.M)
    root = root_m.group(1).strip() if root_m else "/usr/share/nginx/html"
    fs = call.sh.container.fs

    def respond(method: str, path: str) -> tuple[int, str]:
        clean = path.split("?", 1)[0]
        exact = routes.get(clean)
        if exact:
            return exact, ""
        prefix = max((p for p in routes if clean.startswith(p) and p != "/"), key=len, default=None)
        if prefix is not None and routes[prefix]:
            return routes[prefix], ""
        if prefix is not None and prefix != "/":
            return 200, ""
        target = fs.resolve(root.rstrip("/") + clean)
        if fs.is_dir(target):
            target = target.rstrip("/") + "/index.html"
        if fs.is_file(target):
            return 200, fs.read(target)
        if routes.get("/"):
            return routes["/"], ""
        return 404, "<html><head><title>404 Not Found</title></head></html>\n"

    return ports or [default_port], respond


def _log(t: float, level: str, message: str) -> str:
    return f"{timestamp(t, '%Y/%m/%d %H:%M:%S')} [{level}] 1#1: {message}"


def nginx(call: Call) -> Gen:
    """`nginx [-g 'daemon off;'] [-t] [-v]`."""
    c = call.sh.container
    version = getattr(c.image, "version", "") or "1.27.3"
    if "-v" in call.argv or "-V" in call.argv:
        call.io.error(f"nginx version: nginx/{version}")
        return 0
    _, error = _config(call)
    t = c.proc.t
    if error:
        call.io.error(f"{_log(t, 'emerg', error)}\nnginx: [emerg] {error}")
        return 1
    if "-t" in call.argv:
        call.io.error("nginx: the configuration file /etc/nginx/nginx.conf syntax is ok")
        call.io.error("nginx: configuration file /etc/nginx/nginx.conf test is successful")
        return 0
    unprivileged = getattr(c.image, "name", "") in ("nginx-unprivileged", "bitnami-nginx")
    if c.read_only_root and not unprivileged:
        msg = 'mkdir() "/var/cache/nginx/client_temp" failed (30: Read-only file system)'
        call.io.error(f"{_log(t, 'emerg', msg)}\nnginx: [emerg] {msg}")
        return 1
    if c.user != 0 and not unprivileged:
        msg = 'mkdir() "/var/cache/nginx/client_temp" failed (13: Permission denied)'
        call.io.error(f"{_log(t, 'emerg', msg)}\nnginx: [emerg] {msg}")
        return 1
    ports, respond = site(call, 8080 if unprivileged else 80)
    if c.user != 0 and any(p < 1024 for p in ports):
        low = min(ports)
        msg = f"bind() to 0.0.0.0:{low} failed (13: Permission denied)"
        call.io.error(f"{_log(t, 'emerg', msg)}\nnginx: [emerg] {msg}")
        return 1
    listeners = [Listener(p, "http", respond) for p in ports]
    notices = [
        'using the "epoll" event method',
        f"nginx/{version}",
        "built by gcc 12.2.0 (Debian 12.2.0-14)",
        "OS: Linux 6.8.0-1015-gke",
        "getrlimit(RLIMIT_NOFILE): 1048576:1048576",
        "start worker processes",
        "start worker process 29",
        "start worker process 30",
    ]
    lines = [_log(t, "notice", n) for n in notices]
    return (yield from serve(call, listeners, after=lines, startup=0.05, memory_mib=0, stream="err"))


def entrypoint(call: Call) -> Gen:
    """/docker-entrypoint.sh: configuration messages, then exec its arguments."""
    args = call.argv[1:] or ["nginx", "-g", "daemon off;"]
    if args[0] in ("nginx", "nginx-debug"):
        for line in (
            "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, "
            "will attempt to perform configuration",
            "/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/",
            "/docker-entrypoint.sh: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh",
            "10-listen-on-ipv6-by-default.sh: info: Getting the checksum of /etc/nginx/conf.d/default.conf",
            "10-listen-on-ipv6-by-default.sh: info: Enabled listen on IPv6 in /etc/nginx/conf.d/default.conf",
            "/docker-entrypoint.sh: Sourcing /docker-entrypoint.d/15-local-resolvers.envsh",
            "/docker-entrypoint.sh: Launching /docker-entrypoint.d/20-envsubst-on-templates.sh",
            "/docker-entrypoint.sh: Launching /docker-entrypoint.d/30-tune-worker-processes.sh",
            "/docker-entrypoint.sh: Configuration complete; ready for start up",
        ):
            call.io.print(line)
    return (yield from call.sh.invoke(args, call.io, call.env, tail=True))


_PROGRAMS = {"nginx": nginx, "docker-entrypoint.sh": entrypoint}
register("nginx", _PROGRAMS, files=nginx_files(80))
register("nginx-unprivileged", _PROGRAMS, files=nginx_files(8080))
register(
    "bitnami-nginx", {"entrypoint.sh": entrypoint, "run.sh": nginx, "nginx": nginx}, files=nginx_files(8080)
)
