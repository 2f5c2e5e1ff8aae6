"""HTTP clients as images ship them: busybox and GNU wget, curl.

Each prints what the real client prints for DNS failures, refused and timed-out connections and
HTTP errors, with its own exit codes (curl 6/7/22/28/52, GNU wget 4/8, busybox 1).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from sandbox.shell.fs import FsError
from sandbox.shell.interp import Call, Command, Gen
from sandbox.shell.net import Endpoint, http_exchange
from sandbox.shell.process import Listener, Sleep
from sandbox.shell.utils.core import parse_duration

CONNECT_TIMEOUT = 130.0  # Linux gives up on a SYN after ~2 minutes
_REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    301: "Moved Permanently",
    302: "Found",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


def _target(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) of a URL (the scheme defaults to http)."""
    parts = urlsplit(url if "://" in url else "http://" + url)
    scheme = parts.scheme or "http"
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        port = 80
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, parts.hostname or "", port, path


def _request(ep: Endpoint, scheme: str, method: str, path: str) -> tuple[int, str] | str:
    """(status, body), or `plain` / `not-http` (see `http_exchange`)."""
    if ep.listener is None:
        return "not-http"
    return http_exchange(ep.listener, scheme, method, path)


def accept(listener: Listener | None) -> None:
    if listener is not None:
        listener.accepted += 1


def _wget(call: Call) -> Gen:
    args = list(call.argv[1:])
    quiet, output, timeout, spider, url = False, None, None, False, None
    while args:
        a = args.pop(0)
        if a in ("-q", "--quiet"):
            quiet = True
        elif a in ("-O", "--output-document") and args:
            output = args.pop(0)
        elif a.startswith("-O") and len(a) > 2:
            output = a[2:]
        elif a.startswith("-qO"):
            quiet, output = True, a[3:] or (args.pop(0) if args else "-")
        elif a in ("-T", "--timeout") and args:
            timeout = parse_duration(args.pop(0))
        elif a.startswith("--timeout="):
            timeout = parse_duration(a.split("=", 1)[1])
        elif a == "--spider":
            spider = True
        elif not a.startswith("-"):
            url = a
    gnu = call.sh.container.gnu
    if url is None:
        call.io.error("wget: missing URL")
        return 1
    scheme, host, port, path = _target(url)
    ep = call.sh.container.net.connect(host, port)
    if ep.outcome == "unresolved":
        yield Sleep(0.01)
        call.io.error(
            f"wget: unable to resolve host address '{host}'" if gnu else f"wget: bad address '{host}'"
        )
        return 4 if gnu else 1
    if not quiet:
        call.io.error(
            f"Connecting to {host} ({host})|{ep.ip}|:{port}... "
            if gnu
            else f"Connecting to {host} ({ep.ip}:{port})"
        )
    if ep.outcome != "ok":
        wait = 0.001 if ep.outcome == "refused" else min(timeout or CONNECT_TIMEOUT, CONNECT_TIMEOUT)
        yield Sleep(wait)
        if ep.outcome == "timeout" and timeout:
            call.io.error("wget: download timed out")
            return 4 if gnu else 1
        why = "Connection refused" if ep.outcome == "refused" else "Connection timed out"
        call.io.error(f"failed: {why}." if gnu else f"wget: can't connect to remote host ({ep.ip}): {why}")
        return 4 if gnu else 1
    accept(ep.listener)
    yield Sleep(0.005)
    reply = _request(ep, scheme, "HEAD" if spider else "GET", path)
    if isinstance(reply, str):
        call.io.error("wget: error getting response: Connection reset by peer")
        return 4 if gnu else 1
    status, body = reply
    if status >= 400:
        reason = _REASONS.get(status, "")
        call.io.error(
            f"ERROR {status}: {reason}."
            if gnu
            else f"wget: server returned error: HTTP/1.1 {status} {reason}"
        )
        return 8 if gnu else 1
    if spider:
        return 0
    if output == "-":
        call.io.out.write(body)
        return 0
    name = output or (path.rsplit("/", 1)[-1].split("?")[0] or "index.html")
    fs, full = call.sh.container.fs, call.path(name)
    if output is None and fs.exists(full) and not gnu:
        call.io.error(f"wget: can't open '{name}': File exists")
        return 1
    try:
        fs.write(full, body)
    except FsError as err:
        call.io.error(f"wget: can't open '{name}': {err.strerror}")
        return 1
    if not quiet:
        call.io.error(f"saving to '{name}'" if not gnu else f"Saving to: '{name}'")
        call.io.error(f"'{name}' saved" if not gnu else f"'{name}' saved [{len(body)}/{len(body)}]")
    return 0


def _curl(call: Call) -> Gen:
    args = list(call.argv[1:])
    silent = show_errors = fail = head = include = False
    output, method, write_out, max_time, url = None, "GET", None, None, None
    while args:
        a = args.pop(0)
        if a.startswith("-") and not a.startswith("--") and len(a) > 2 and a[1] != "X":
            args = [f"-{c}" for c in a[1:]] + args  # -sSf
            continue
        if a in ("-s", "--silent"):
            silent = True
        elif a in ("-S", "--show-error"):
            show_errors = True
        elif a in ("-f", "--fail"):
            fail = True
        elif a in ("-I", "--head"):
            head, method = True, "HEAD"
        elif a in ("-i", "--include"):
            include = True
        elif a in ("-o", "--output") and args:
            output = args.pop(0)
        elif a in ("-X", "--request") and args:
            method = args.pop(0)
        elif a.startswith("-X") and len(a) > 2:
            method = a[2:]
        elif a in ("-w", "--write-out") and args:
            write_out = args.pop(0)
        elif a in ("-m", "--max-time", "--connect-timeout") and args:
            max_time = parse_duration(args.pop(0))
        elif (
            a in ("-H", "--header", "-d", "--data", "--data-raw", "-u", "--user", "-A", "--retry", "-e")
            and args
        ):
            args.pop(0)
        elif not a.startswith("-"):
            url = a
    if url is None:
        call.io.error("curl: try 'curl --help' or 'curl --manual' for more information")
        return 2
    scheme, host, port, path = _target(url)
    errors = not silent or show_errors
    ep = call.sh.container.net.connect(host, port)
    if ep.outcome == "unresolved":
        yield Sleep(0.01)
        if errors:
            call.io.error(f"curl: (6) Could not resolve host: {host}")
        return 6
    if ep.outcome != "ok":
        wait = 0.0 if ep.outcome == "refused" else min(max_time or CONNECT_TIMEOUT, CONNECT_TIMEOUT)
        yield Sleep(wait)
        if errors:
            if ep.outcome == "refused":
                call.io.error(
                    f"curl: (7) Failed to connect to {host} port {port} after 0 ms: Connection refused"
                )
            else:
                ms = int(wait * 1000)
                call.io.error(
                    f"curl: (28) Failed to connect to {host} port {port} after {ms} ms: Connection timed out"
                )
        return 7 if ep.outcome == "refused" else 28
    accept(ep.listener)
    yield Sleep(0.005)
    reply = _request(ep, scheme, method, path)
    if isinstance(reply, str):
        if errors:
            if reply == "not-http":
                call.io.error("curl: (52) Empty reply from server")
            else:
                call.io.error("curl: (35) OpenSSL/3.0.13: error:0A00010B:SSL routines::wrong version number")
        return 52 if reply == "not-http" else 35
    status, body = reply
    if fail and status >= 400:
        if errors:
            call.io.error(f"curl: (22) The requested URL returned error: {status}")
        return 22
    text = ""
    if head or include:
        text += f"HTTP/1.1 {status} {_REASONS.get(status, '')}\r\nContent-Length: {len(body)}\r\n\r\n"
    if not head:
        text += body
    if output and output != "-":
        try:
            call.sh.container.fs.write(call.path(output), text)
        except FsError as err:
            call.io.error(
                f"curl: (23) Failure writing output to destination, passed {len(text)} returned 0 "
                f"({err.strerror})"
            )
            return 23
    else:
        call.io.out.write(text)
    if write_out:
        call.io.out.write(write_out.replace("%{http_code}", str(status)).replace("\\n", "\n"))
    return 0


HTTP_COMMANDS: dict[str, Command] = {"wget": _wget, "curl": _curl}
