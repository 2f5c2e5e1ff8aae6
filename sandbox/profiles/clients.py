"""Database client tools as exec probes and scripts use them: pg_isready, psql, mysqladmin,
redis-cli, mongosh. Each connects through the pod's network and prints what the real tool prints."""

from __future__ import annotations

from sandbox.shell.interp import Call, Gen
from sandbox.shell.process import Sleep


def _opt(argv: list[str], *names: str, default: str = "") -> str:
    for k, a in enumerate(argv):
        for n in names:
            if a == n and k + 1 < len(argv):
                return argv[k + 1]
            if n.startswith("--") and a.startswith(n + "="):
                return a.split("=", 1)[1]
            if not n.startswith("--") and a.startswith(n) and len(a) > len(n):
                return a[len(n) :]
    return default


def pg_isready(call: Call) -> Gen:
    """`pg_isready [-h host] [-p port]`: 0 accepting, 1 rejecting, 2 no response."""
    host = _opt(call.argv, "-h", "--host", default="")
    port = int(_opt(call.argv, "-p", "--port", default="5432") or 5432)
    where = f"{host}:{port}" if host else f"/var/run/postgresql:{port}"
    ep = call.sh.container.net.connect(host or "localhost", port)
    yield Sleep(0.01)
    if ep.outcome == "ok":
        call.io.print(f"{where} - accepting connections")
        return 0
    call.io.print(f"{where} - no response")
    return 2


def psql(call: Call) -> Gen:
    """`psql -h host -U user -c "select 1"`."""
    host = _opt(call.argv, "-h", "--host", default="")
    port = int(_opt(call.argv, "-p", "--port", default="5432") or 5432)
    ep = call.sh.container.net.connect(host or "localhost", port)
    yield Sleep(0.02)
    if ep.outcome == "unresolved":
        call.io.error(
            f'psql: error: could not translate host name "{host}" to address: Name or service not known'
        )
        return 2
    if ep.outcome != "ok":
        where = (
            f'connection to server at "{host}" ({ep.ip}), port {port} failed'
            if host
            else f'connection to server on socket "/var/run/postgresql/.s.PGSQL.{port}" failed'
        )
        why = "Connection refused" if host else "No such file or directory"
        call.io.error(f"psql: error: {where}: {why}")
        if host:
            call.io.error("\tIs the server running on that host and accepting TCP/IP connections?")
        return 2
    sql = _opt(call.argv, "-c", "--command", default="")
    if sql.strip().lower().rstrip(";") == "select 1":
        call.io.print(" ?column? \n----------\n        1\n(1 row)\n")
    return 0


def mysqladmin(call: Call) -> Gen:
    """`mysqladmin ping [-h host]` (also mariadb-admin, healthcheck.sh)."""
    host = _opt(call.argv, "-h", "--host", default="localhost")
    ep = call.sh.container.net.connect(host, 3306)
    yield Sleep(0.01)
    if ep.outcome == "ok":
        call.io.print("mysqld is alive")
        return 0
    if ep.outcome == "unresolved":
        call.io.error(
            f"mysqladmin: connect to server at '{host}' failed\n"
            f"error: 'Unknown MySQL server host '{host}' (-2)'"
        )
        return 1
    call.io.error(
        f"mysqladmin: connect to server at '{host}' failed\n"
        "error: 'Can't connect to local MySQL server through socket '/var/run/mysqld/mysqld.sock' (2)'"
    )
    return 1


def redis_cli(call: Call) -> Gen:
    """`redis-cli [-h host] [-p port] [-a pass] ping|…`."""
    host = _opt(call.argv, "-h", default="127.0.0.1")
    port = int(_opt(call.argv, "-p", default="6379") or 6379)
    ep = call.sh.container.net.connect(host, port)
    yield Sleep(0.005)
    if ep.outcome != "ok":
        why = "Name or service not known" if ep.outcome == "unresolved" else "Connection refused"
        call.io.print(f"Could not connect to Redis at {host}:{port}: {why}")
        return 1
    words = call.words
    skip = {_opt(call.argv, o) for o in ("-h", "-p", "-a", "-n")}
    words = [w for w in words if w not in skip]
    password = getattr(ep.listener, "banner", "")
    if password.startswith("auth:") and _opt(call.argv, "-a", "--pass") != password[5:]:
        call.io.print("NOAUTH Authentication required.")
        return 0
    if words and words[0].lower() == "ping":
        call.io.print("PONG")
    elif words:
        call.io.print("OK" if words[0].lower() == "set" else "(nil)")
    return 0


def mongosh(call: Call) -> Gen:
    """`mongosh --eval "db.adminCommand('ping')"`."""
    host = _opt(call.argv, "--host", default="127.0.0.1")
    ep = call.sh.container.net.connect(host, 27017)
    yield Sleep(0.2)
    if ep.outcome != "ok":
        call.io.error(f"MongoNetworkError: connect ECONNREFUSED {ep.ip or host}:27017")
        return 1
    call.io.print("{ ok: 1 }")
    return 0


def rabbitmq_diagnostics(call: Call) -> Gen:
    """`rabbitmq-diagnostics -q ping|check_running|status` (also rabbitmqctl): the local node's AMQP port."""
    ep = call.sh.container.net.connect("localhost", 5672)
    yield Sleep(0.5)
    if ep.outcome == "ok":
        if "-q" not in call.argv:
            call.io.print("Ping succeeded")
        return 0
    call.io.error(
        "Error: unable to perform an operation on node 'rabbit@localhost'. "
        "Please see diagnostics information and suggestions below."
    )
    return 69
