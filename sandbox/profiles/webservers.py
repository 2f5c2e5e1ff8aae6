"""Web servers and proxies: Apache httpd, PHP (apache / fpm / cli), Caddy, Traefik, HAProxy."""

from __future__ import annotations

import re

from sandbox.profiles.model import http_responder, register, serve, timestamp
from sandbox.shell.fs import FsError
from sandbox.shell.interp import Call, Gen
from sandbox.shell.process import Listener


def _docroot(call: Call, root: str, index: tuple[str, ...], missing: int) -> Listener:
    fs = call.sh.container.fs

    def respond(method: str, path: str) -> tuple[int, str]:
        target = fs.resolve(root.rstrip("/") + path.split("?", 1)[0])
        if fs.is_dir(target):
            found = next(
                (f"{target.rstrip('/')}/{i}" for i in index if fs.is_file(f"{target.rstrip('/')}/{i}")), None
            )
            if found is None:
                return missing, ""
            target = found
        return (200, fs.read(target)) if fs.is_file(target) else (404, "")

    return Listener(80, "http", respond)


def httpd(call: Call) -> Gen:
    """httpd-foreground: Apache on 80 serving /usr/local/apache2/htdocs."""
    c = call.sh.container
    version = getattr(c.image, "version", "") or "2.4.62"
    t = c.proc.t
    if c.user != 0:
        call.io.error("(13)Permission denied: AH00072: make_sock: could not bind to address [::]:80")
        call.io.error("(13)Permission denied: AH00072: make_sock: could not bind to address 0.0.0.0:80")
        call.io.error("no listening sockets available, shutting down")
        call.io.error("AH00015: Unable to open logs")
        return 1
    stamp = timestamp(t, "%a %b %d %H:%M:%S.000000 %Y")
    lines = [
        "AH00558: httpd: Could not reliably determine the server's fully qualified domain name, using "
        f"{c.net.pod_ip}. Set the 'ServerName' directive globally to suppress this message",
        f"[{stamp}] [mpm_event:notice] [pid 1:tid 1] AH00489: Apache/{version} (Unix) configured -- "
        "resuming normal operations",
        f"[{stamp}] [core:notice] [pid 1:tid 1] AH00094: Command line: 'httpd -D FOREGROUND'",
    ]
    name = getattr(c.image, "name", "") or ""
    root = "/var/www/html" if "php" in name or name == "wordpress" else "/usr/local/apache2/htdocs"
    index = ("index.php", "index.html") if root == "/var/www/html" else ("index.html",)
    c.fs.mkdir(root)  # the image has its document root, empty unless something was put there
    listener = _docroot(call, root, index, 403)
    return (yield from serve(call, [listener], before=lines[:2], after=lines[2:], startup=0.2, stream="err"))


def php_fpm(call: Call) -> Gen:
    """php-fpm: FastCGI on 9000."""
    t = timestamp(call.sh.container.proc.t, "%d-%b-%Y %H:%M:%S")
    lines = [f"[{t}] NOTICE: fpm is running, pid 1", f"[{t}] NOTICE: ready to handle connections"]
    return (yield from serve(call, [Listener(9000, "fastcgi")], after=lines, startup=0.2, stream="err"))


def caddy(call: Call) -> Gen:
    """caddy run: the Caddyfile's site addresses (default :80) and the admin API on 2019."""
    fs = call.sh.container.fs
    try:
        text = fs.read("/etc/caddy/Caddyfile")
    except FsError:
        text = ":80"
    ports = sorted({int(p) for p in re.findall(r"^\s*(?:[\w.-]*):(\d+)", text, re.M)}) or [80]
    listeners = [_docroot(call, "/usr/share/caddy", ("index.html",), 404) for _ in ports]
    for listener, port in zip(listeners, ports, strict=True):
        listener.port = port
    listeners.append(Listener(2019, "http", http_responder({"/config/": 200})))
    stamp = call.sh.container.proc.t
    line = f'{{"level":"info","ts":{stamp:.4f},"msg":"serving initial configuration"}}'
    return (yield from serve(call, listeners, after=[line], startup=0.1, stream="err"))


def traefik(call: Call) -> Gen:
    """traefik: entry point :80 (404 without routers), /ping with --ping, the API on 8080 if insecure."""
    args = " ".join(call.argv[1:])
    ports = [int(p) for p in re.findall(r"--entry[pP]oints\.[\w-]+\.address=:(\d+)", args)] or [80]
    ping = "--ping" in args
    listeners = [Listener(p, "http", http_responder({"/ping": 200} if ping else {})) for p in ports]
    if "--api.insecure=true" in args or "--api.insecure" in args.split():
        listeners.append(
            Listener(8080, "http", http_responder({"/ping": 200, "/dashboard/": 200, "/api/rawdata": 200}))
        )
    t = timestamp(call.sh.container.proc.t, "%Y-%m-%dT%H:%M:%SZ")
    lines = [f"{t} INF Traefik version 3.1.2 built on 2024-08-06T13:38:14Z version=3.1.2"]
    return (yield from serve(call, listeners, before=lines, startup=0.5))


def haproxy(call: Call) -> Gen:
    """haproxy -f /usr/local/etc/haproxy/haproxy.cfg: binds what the configuration says."""
    path = next(
        (call.argv[k + 1] for k, a in enumerate(call.argv) if a == "-f" and k + 1 < len(call.argv)),
        "/usr/local/etc/haproxy/haproxy.cfg",
    )
    try:
        text = call.sh.container.fs.read(call.path(path))
    except FsError:
        call.io.error(
            "[NOTICE]   (1) : haproxy version is "
            + (getattr(call.sh.container.image, "version", "") or "3.0.5")
        )
        call.io.error(
            f"[ALERT]    (1) : Cannot open configuration file/directory {path} : No such file or directory"
        )
        return 1
    ports = sorted({int(p) for p in re.findall(r"^\s*bind\s+[^\s:]*:(\d+)", text, re.M)})
    if not ports:
        call.io.error(f"[ALERT]    (1) : config : no <listen> line. Nothing to do ! ({path})")
        return 1
    listeners = [Listener(p, "http", http_responder(None)) for p in ports]
    return (
        yield from serve(
            call,
            listeners,
            after=["[NOTICE]   (1) : New worker (8) forked", "[NOTICE]   (1) : Loading success."],
            stream="err",
        )
    )


def _entry_exec(call: Call) -> Gen:
    return (yield from call.sh.invoke(call.argv[1:] or ["php", "-a"], call.io, call.env, tail=True))


register("httpd", {"httpd-foreground": httpd, "httpd": httpd})
register("php-apache", {"docker-php-entrypoint": _entry_exec, "apache2-foreground": httpd})
register("wordpress", {"docker-entrypoint.sh": _entry_exec, "apache2-foreground": httpd})
register("php-fpm", {"docker-php-entrypoint": _entry_exec, "php-fpm": php_fpm})
register("caddy", {"caddy": caddy})
register(
    "traefik",
    {
        "entrypoint.sh": lambda call: call.sh.invoke(
            ["traefik", *call.argv[1:]]
            if not call.argv[1:] or call.argv[1].startswith("-")
            else call.argv[1:],
            call.io,
            call.env,
            tail=True,
        ),
        "traefik": traefik,
    },
)
register(
    "haproxy",
    {
        "docker-entrypoint.sh": lambda call: call.sh.invoke(call.argv[1:], call.io, call.env, tail=True),
        "haproxy": haproxy,
    },
)
