"""Bitnami's images: their entrypoints refuse a blank password unless ALLOW_EMPTY_PASSWORD=yes,
with Bitnami's own log format, then run the server as a non-root user."""

from __future__ import annotations

from sandbox.profiles.clients import mongosh, mysqladmin, pg_isready, psql, redis_cli
from sandbox.profiles.model import Profile, entrypoint_script, register, serve, timestamp
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
    Profile(
        "bitnami-redis",
        entrypoint=("/opt/bitnami/scripts/redis/entrypoint.sh",),
        cmd=("/opt/bitnami/scripts/redis/run.sh",),
        programs={
            "redis-server": redis_server,
            "redis-cli": redis_cli,
            "entrypoint.sh": entrypoint_script("run.sh"),
            "run.sh": lambda call: _bitnami_redis(call),
        },
        memory_mib=14.0,
        port=6379,
    ),
    Profile(
        "bitnami-rabbitmq",
        entrypoint=("/opt/bitnami/scripts/rabbitmq/entrypoint.sh",),
        cmd=("/opt/bitnami/scripts/rabbitmq/run.sh",),
        memory_mib=130.0,
        port=5672,
        programs={"entrypoint.sh": entrypoint_script("run.sh"), "run.sh": rabbitmq},
    ),
    Profile(
        "bitnami-postgresql",
        entrypoint=("/opt/bitnami/scripts/postgresql/entrypoint.sh",),
        cmd=("/opt/bitnami/scripts/postgresql/run.sh",),
        memory_mib=60.0,
        port=5432,
        programs={
            **_bitnami("postgresql", "POSTGRESQL_PASSWORD", 5432, "postgres", "PostgreSQL"),
            "pg_isready": pg_isready,
            "psql": psql,
        },
    ),
    Profile(
        "bitnami-mysql",
        entrypoint=("/opt/bitnami/scripts/mysql/entrypoint.sh",),
        cmd=("/opt/bitnami/scripts/mysql/run.sh",),
        memory_mib=360.0,
        port=3306,
        programs={
            **_bitnami("mysql", "MYSQL_ROOT_PASSWORD", 3306, "mysql", "MySQL"),
            "mysqladmin": mysqladmin,
        },
    ),
    Profile(
        "bitnami-mongodb",
        entrypoint=("/opt/bitnami/scripts/mongodb/entrypoint.sh",),
        cmd=("/opt/bitnami/scripts/mongodb/run.sh",),
        memory_mib=160.0,
        port=27017,
        programs={
            **_bitnami("mongodb", "MONGODB_ROOT_PASSWORD", 27017, "mongo", "MongoDB"),
            "mongosh": mongosh,
        },
    ),
)
