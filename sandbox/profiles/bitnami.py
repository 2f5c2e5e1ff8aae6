"""Bitnami's images: their entrypoints refuse a blank password unless ALLOW_EMPTY_PASSWORD=yes,
with Bitnami's own log format, then run the server as a non-root user."""

from __future__ import annotations

from sandbox.profiles.clients import mongosh, mysqladmin, pg_isready, psql, redis_cli
from sandbox.profiles.model import entrypoint_script, register, serve, timestamp
from sandbox.profiles.services import rabbitmq, redis_server
from sandbox.shell.interp import Call, Gen
from sandbox.shell.process import Listener


def _bitnami(product: str, needs: str, port: int, protocol: str, daemon_name: str) -> dict:
    def run(call: Call) -> Gen:
        t = call.sh.container.proc.t
        stamp = timestamp(t, "%H:%M:%S.00")
        call.io.print(f"{product} {stamp} INFO  ==> ** Starting {product} setup **")
        if not call.env.get(needs) and call.env.get("ALLOW_EMPTY_PASSWORD", "no") != "yes":
            call.io.error(
                f"{product} {stamp} ERROR ==> The {needs} environment variable is empty or not set. "
                "Set the environment variable ALLOW_EMPTY_PASSWORD=yes to allow the container to be "
                "started with blank passwords. This is recommended only for development."
            )
            return 1
        call.io.print(f"{product} {stamp} INFO  ==> ** {product} setup finished! **")
        call.io.print(f"{product} {stamp} INFO  ==> ** Starting {daemon_name} **")
        return (yield from serve(call, [Listener(port, protocol)], startup=3.0))

    return {
        "entrypoint.sh": lambda call: call.sh.invoke(
            call.argv[1:] or ["run.sh"], call.io, call.env, tail=True
        ),
        "run.sh": run,
    }


def _bitnami_redis(call: Call) -> Gen:
    t = call.sh.container.proc.t
    stamp = timestamp(t, "%H:%M:%S.00")
    call.io.print(f"redis {stamp} INFO  ==> ** Starting Redis setup **")
    if not call.env.get("REDIS_PASSWORD") and call.env.get("ALLOW_EMPTY_PASSWORD", "no") != "yes":
        call.io.error(
            f"redis {stamp} ERROR ==> The REDIS_PASSWORD environment variable is empty or not set. Set the "
            "environment variable ALLOW_EMPTY_PASSWORD=yes to allow the container to be started with blank "
            "passwords. This is recommended only for development."
        )
        return 1
    call.io.print(f"redis {stamp} INFO  ==> ** Redis setup finished! **")
    args = ["redis-server", "--port", "6379"]
    if call.env.get("REDIS_PASSWORD"):
        args += ["--requirepass", call.env["REDIS_PASSWORD"]]
    return (yield from call.sh.invoke(args, call.io, call.env, tail=True))


register(
    "bitnami-redis",
    {
        "redis-server": redis_server,
        "redis-cli": redis_cli,
        "entrypoint.sh": entrypoint_script("run.sh"),
        "run.sh": lambda call: _bitnami_redis(call),
    },
)
register("bitnami-rabbitmq", {"entrypoint.sh": entrypoint_script("run.sh"), "run.sh": rabbitmq})
register(
    "bitnami-postgresql",
    {
        **_bitnami("postgresql", "POSTGRESQL_PASSWORD", 5432, "postgres", "PostgreSQL"),
        "pg_isready": pg_isready,
        "psql": psql,
    },
)
register(
    "bitnami-mysql",
    {
        **_bitnami("mysql", "MYSQL_ROOT_PASSWORD", 3306, "mysql", "MySQL"),
        "mysqladmin": mysqladmin,
    },
)
register(
    "bitnami-mongodb",
    {
        **_bitnami("mongodb", "MONGODB_ROOT_PASSWORD", 27017, "mongo", "MongoDB"),
        "mongosh": mongosh,
    },
)
