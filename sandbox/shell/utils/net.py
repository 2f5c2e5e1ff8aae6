"""Socket and DNS clients as images ship them: nc (connect and listen), nslookup, getent, ping —
plus the HTTP clients of `sandbox.shell.utils.http`."""

from __future__ import annotations

from sandbox.shell.interp import Call, Command, Gen
from sandbox.shell.net import DNS_SERVER
from sandbox.shell.process import INF, Listener, Sleep
from sandbox.shell.utils.http import CONNECT_TIMEOUT, HTTP_COMMANDS, accept


def _nc(call: Call) -> Gen:
    flags = {a for a in call.argv[1:] if a.startswith("-")}
    operands = call.words
    letters = "".join(f[1:] for f in flags)
    gnu = call.sh.container.gnu
    if "l" in letters:
        port_text = operands[-1] if operands else ""
        if not port_text.isdigit():
            call.io.error("nc: missing port number" if not gnu else "nc: missing port with option -l")
            return 1
        proc = call.sh.container.proc
        data = call.io.stdin if isinstance(call.io.stdin, str) else ""
        status = 200
        if data.startswith("HTTP/"):
            try:
                status = int(data.split()[1])
            except (IndexError, ValueError):
                status = 200
        body = data.split("\r\n\r\n", 1)[-1] if "\r\n\r\n" in data else data
        http = data.startswith("HTTP/")

        def respond(_method: str, _path: str) -> tuple[int, str]:
            return status, body

        listener = Listener(int(port_text), "http" if http else "tcp", respond if http else None)
        if not proc.listen(listener):
            call.io.error("nc: bind: Address in use")
            return 1
        while True:
            yield Sleep(1.0)
            if listener.accepted and "k" not in letters:
                proc.listeners.pop(listener.port, None)
                return 0
    if len(operands) < 2:
        call.io.error(
            "BusyBox v1.36.1 multi-call binary." if not gnu else "usage: nc [-46CDdFhklNnrStUuvZz] ..."
        )
        return 1
    host, port = operands[0], int(operands[1]) if operands[1].isdigit() else 0
    ep = call.sh.container.net.connect(host, port)
    if ep.outcome == "unresolved":
        call.io.error(
            f"nc: bad address '{host}'"
            if not gnu
            else f'nc: getaddrinfo for host "{host}" port {port}: Name or service not known'
        )
        return 1
    if ep.outcome != "ok":
        yield Sleep(0.001 if ep.outcome == "refused" else CONNECT_TIMEOUT)
        why = "Connection refused" if ep.outcome == "refused" else "Connection timed out"
        if "v" in letters or not gnu:
            call.io.error(
                f"nc: {host} ({ep.ip}:{port}): {why}"
                if not gnu
                else f"nc: connect to {host} port {port} (tcp) failed: {why}"
            )
        return 1
    accept(ep.listener)
    if "v" in letters:
        call.io.error(
            f"{host} ({ep.ip}:{port}) open"
            if not gnu
            else f"Connection to {host} {port} port [tcp/*] succeeded!"
        )
    if "z" not in letters and ep.listener is not None and ep.listener.banner:
        call.io.out.write(ep.listener.banner)
    yield Sleep(0.002)
    return 0


def _nslookup(call: Call) -> Gen:
    names = call.words
    if not names:
        call.io.error("Usage: nslookup HOST [DNS_SERVER]")
        return 1
    host = names[0]
    yield Sleep(0.005)
    call.io.print(f"Server:\t\t{DNS_SERVER}")
    call.io.print(f"Address:\t{DNS_SERVER}:53")
    call.io.print("")
    found = call.sh.container.net.resolve(host)
    if found is None:
        ns = call.sh.container.net.namespace
        for suffix in (f"{ns}.svc.cluster.local", "svc.cluster.local", "cluster.local", ""):
            full = f"{host}.{suffix}" if suffix else host
            call.io.print(f"** server can't find {full}: NXDOMAIN")
            call.io.print("")
        return 1
    call.io.print(f"Name:\t{found[0]}")
    call.io.print(f"Address: {found[1]}")
    call.io.print("")
    return 0


def _getent(call: Call) -> Gen:
    if len(call.argv) < 3 or call.argv[1] not in ("hosts", "ahosts"):
        return 1
    found = call.sh.container.net.resolve(call.argv[2])
    if found is None:
        return 2
    call.io.print(f"{found[1]:<15} {found[0]}")
    return 0
    yield


def _ping(call: Call) -> Gen:
    host = next((a for a in call.argv[1:] if not a.startswith("-") and not a.isdigit()), "")
    found = call.sh.container.net.resolve(host)
    if found is None:
        call.io.error(
            f"ping: bad address '{host}'"
            if not call.sh.container.gnu
            else f"ping: {host}: Name or service not known"
        )
        return 1 if not call.sh.container.gnu else 2
    call.io.print(f"PING {host} ({found[1]}): 56 data bytes")
    count = next(
        (int(call.argv[i + 1]) for i, a in enumerate(call.argv) if a == "-c" and i + 1 < len(call.argv)), None
    )
    yield Sleep(float(count) if count else INF)
    call.io.print(f"--- {host} ping statistics ---")
    call.io.print(f"{count} packets transmitted, 0 packets received, 100% packet loss")
    return 1


COMMANDS: dict[str, Command] = {
    **HTTP_COMMANDS,
    "nc": _nc,
    "netcat": _nc,
    "nslookup": _nslookup,
    "getent": _getent,
    "ping": _ping,
}


def _busybox_httpd(call: Call) -> Gen:
    """busybox httpd [-f] [-p [IP:]PORT] [-h HOME]: serves files; without -f it daemonizes and returns."""
    args = call.argv[1:]
    port, home, foreground = 80, call.sh.cwd, False
    k = 0
    while k < len(args):
        a = args[k]
        if a == "-f" or (a.startswith("-") and "f" in a[1:] and not a.startswith("-p")):
            foreground = True
        if a == "-p" and k + 1 < len(args):
            port = int(args[k + 1].rsplit(":", 1)[-1])
            k += 1
        elif a == "-h" and k + 1 < len(args):
            home = call.path(args[k + 1])
            k += 1
        k += 1
    fs = call.sh.container.fs

    def respond(method: str, path: str) -> tuple[int, str]:
        target = fs.resolve(home.rstrip("/") + path.split("?", 1)[0])
        if fs.is_dir(target):
            target = target.rstrip("/") + "/index.html"
        return (200, fs.read(target)) if fs.is_file(target) else (404, "")

    proc = call.sh.container.proc
    if not proc.listen(Listener(port, "http", respond)):
        call.io.error("httpd: bind: Address in use")
        return 1
    if not foreground:
        return 0  # daemonized: the shell goes on (and the container ends when PID 1 does)
    yield Sleep(INF)
    return 0


COMMANDS["httpd"] = _busybox_httpd
