"""Network clients against a static network: what wget, curl, nc and nslookup print."""

import pytest

from sandbox.shell.net import StaticNetwork
from sandbox.shell.process import Listener
from tests.sandbox.shell.helpers import container, run


def _net() -> StaticNetwork:
    def page(method, path):
        return (200, "<h1>Welcome to nginx!</h1>\n") if path == "/" else (404, "")

    return StaticNetwork(
        names={"web": "10.96.0.10", "down": "10.96.0.11", "cache": "10.96.0.12"},
        listeners={
            ("10.96.0.10", 80): Listener(80, "http", page),
            ("10.96.0.12", 6379): Listener(6379, "redis"),
        },
    )


@pytest.mark.parametrize(
    ("base", "script", "lines"),
    [
        ("busybox", "wget -qO- http://web", ["<h1>Welcome to nginx!</h1>"]),
        ("busybox", "wget -qO- http://nope; echo $?", ["wget: bad address 'nope'", "1"]),
        (
            "busybox",
            "wget -qO- http://down; echo $?",
            ["wget: can't connect to remote host (10.96.0.11): Connection refused", "1"],
        ),
        (
            "busybox",
            "wget -qO- http://web/x; echo $?",
            ["wget: server returned error: HTTP/1.1 404 Not Found", "1"],
        ),
        ("python", "wget -q -O- http://nope; echo $?", ["wget: unable to resolve host address 'nope'", "4"]),
        ("python", "wget -q -O- http://web/x; echo $?", ["ERROR 404: Not Found.", "8"]),
        ("python", "curl -s http://web", ["<h1>Welcome to nginx!</h1>"]),
        ("python", "curl http://nope; echo $?", ["curl: (6) Could not resolve host: nope", "6"]),
        ("python", "curl -s http://nope; echo $?", ["6"]),
        (
            "python",
            "curl -sS http://down:80/health; echo $?",
            ["curl: (7) Failed to connect to down port 80 after 0 ms: Connection refused", "7"],
        ),
        ("python", "curl -sf http://web/x; echo $?", ["22"]),
        ("python", "curl -s -o /dev/null -w '%{http_code}' http://web/x; echo", ["404"]),
        ("python", "curl -s http://cache:6379; echo $?", ["52"]),
        (
            "busybox",
            "nc -z cache 6379 && echo open; nc -z down 80 || echo closed",
            ["open", "nc: down (10.96.0.11:80): Connection refused", "closed"],
        ),
    ],
)
def test_clients_print_what_the_real_ones_print(base, script, lines):
    ran = run(script, base=base, net=_net())
    assert ran.lines == lines


def test_busybox_wget_refuses_to_overwrite_index_html():
    c = container(net=_net())
    ran = run("cd /tmp; wget -q http://web; wget -q http://web; echo $?", c=c)
    assert ran.lines == ["wget: can't open 'index.html': File exists", "1"]
    assert c.fs.read("/tmp/index.html").startswith("<h1>")


def test_nslookup_answers_and_nxdomain():
    ran = run("nslookup web; nslookup nope; echo $?", net=_net())
    assert "Name:\tweb" in ran.lines and "Address: 10.96.0.10" in ran.lines
    assert (
        "** server can't find nope.default.svc.cluster.local: NXDOMAIN" in ran.lines and ran.lines[-1] == "1"
    )


def test_nc_listens_until_its_first_connection():
    c = container()
    run("printf 'HTTP/1.1 200 OK\\r\\n\\r\\nok' | nc -l -p 8080; echo served", c=c, until=3)
    listener = c.proc.listeners[8080]
    assert listener.respond("GET", "/") == (200, "ok")
    listener.accepted += 1
    c.proc.advance(c.proc.started + 5)
    assert [line for _, line in c.proc.take_output()] == ["served"] and 8080 not in c.proc.listeners


def test_busybox_httpd_serves_files_in_the_foreground_and_daemonizes_without_f():
    ran = run("mkdir /www; echo hi > /www/index.html; httpd -f -p 8080 -h /www", until=5)
    assert ran.exit is None and ran.proc.listeners[8080].respond("GET", "/") == (200, "hi\n")
    ran = run("httpd -p 8080 -h /tmp; echo started")
    assert ran.lines == ["started"] and ran.code == 0 and not ran.proc.listeners


def test_tls_and_plain_http_mismatches():
    net = StaticNetwork(
        names={"api": "10.96.0.1", "web": "10.96.0.10"},
        listeners={
            ("10.96.0.1", 443): Listener(443, "https", lambda m, p: (403, "{}")),
            ("10.96.0.10", 80): Listener(80, "http", lambda m, p: (200, "ok")),
            ("10.96.0.10", 443): Listener(443, "http", lambda m, p: (200, "ok")),
        },
    )
    ran = run(
        "curl -sk https://api/; echo; curl -s http://api:443/; curl -sS https://web; echo $?",
        base="debian",
        extra=frozenset({"curl"}),
        net=net,
    )
    assert ran.lines == [
        "{}",
        "Client sent an HTTP request to an HTTPS server.",
        "curl: (35) OpenSSL/3.0.13: error:0A00010B:SSL routines::wrong version number",
        "35",
    ]
