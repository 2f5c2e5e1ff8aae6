"""Database images: postgres, MySQL/MariaDB, MongoDB (official and Bitnami). Each entrypoint
refuses to initialise without its password settings, with the image's own message; once up, the
server listens on its port, and the client tools used in exec probes (pg_isready, psql,
mysqladmin, mongosh) answer from what is really listening."""

from __future__ import annotations

from sandbox.profiles.clients import mongosh, mysqladmin, pg_isready, psql
from sandbox.profiles.model import entrypoint_script, register, serve, timestamp
from sandbox.shell.interp import Call, Gen
from sandbox.shell.process import Listener

PG_NO_PASSWORD = """Error: Database is uninitialized and superuser password is not specified.
       You must specify POSTGRES_PASSWORD to a non-empty value for the
       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".

       You may also use "POSTGRES_HOST_AUTH_METHOD=trust" to allow all
       connections without a password. This is *not* recommended.

       See PostgreSQL documentation about "trust":
       https://www.postgresql.org/docs/current/auth-trust.html"""


def _version(call: Call, default: str) -> str:
    return getattr(call.sh.container.image, "version", "") or default


def _pg_prepare(call: Call) -> Gen:
    env = call.env
    trusted = env.get("POSTGRES_HOST_AUTH_METHOD") == "trust"
    if not env.get("POSTGRES_PASSWORD") and not trusted and not env.get("POSTGRES_PASSWORD_FILE"):
        call.io.error(PG_NO_PASSWORD)
        return 1
    user = env.get("POSTGRES_USER", "postgres")
    for line in (
        f'The files belonging to this database system will be owned by user "{user}".',
        "This user must also own the server process.",
        "",
        'The database cluster will be initialized with locale "en_US.utf8".',
        'The default database encoding has accordingly been set to "UTF8".',
        "",
        "fixing permissions on existing directory /var/lib/postgresql/data ... ok",
        "creating subdirectories ... ok",
        "performing post-bootstrap initialization ... ok",
        "syncing data to disk ... ok",
        "",
        "Success. You can now start the database server using:",
        "",
    ):
        call.io.print(line)
    from sandbox.shell.process import Sleep

    yield Sleep(2.0)
    if env.get("POSTGRES_DB"):
        call.io.print("CREATE DATABASE")
    call.io.print("")
    call.io.print("PostgreSQL init process complete; ready for start up.")
    call.io.print("")
    return 0


def postgres(call: Call) -> Gen:
    """The postgres server (`-c name=value` settings accepted)."""
    version = _version(call, "16.4")
    t = call.sh.container.proc.t

    def log(msg: str, pid: int = 1) -> str:
        return f"{timestamp(t)}.{int(t * 1000) % 1000:03d} UTC [{pid}] LOG:  {msg}"

    port = 5432
    args = call.argv[1:]
    for k, a in enumerate(args):
        if a == "-c" and k + 1 < len(args) and args[k + 1].startswith("port="):
            port = int(args[k + 1].split("=", 1)[1])
        elif a == "-p" and k + 1 < len(args) and args[k + 1].isdigit():
            port = int(args[k + 1])
    lines = [
        log(
            f"starting PostgreSQL {version} on x86_64-pc-linux-gnu, "
            "compiled by gcc (Debian 12.2.0-14) 12.2.0, 64-bit"
        ),
        log(f'listening on IPv4 address "0.0.0.0", port {port}'),
        log(f'listening on IPv6 address "::", port {port}'),
        log(f'listening on Unix socket "/var/run/postgresql/.s.PGSQL.{port}"'),
        log("database system was shut down at " + timestamp(t) + " UTC", 64),
        log("database system is ready to accept connections"),
    ]
    return (yield from serve(call, [Listener(port, "postgres")], after=lines, startup=1.0, stream="err"))


def _mysql_prepare(call: Call, product: str) -> Gen:
    env = call.env
    t = call.sh.container.proc.t
    stamp = f"{timestamp(t)}+00:00"
    keys = (
        (
            "MARIADB_ROOT_PASSWORD",
            "MARIADB_ROOT_PASSWORD_HASH",
            "MARIADB_ALLOW_EMPTY_ROOT_PASSWORD",
            "MARIADB_RANDOM_ROOT_PASSWORD",
            "MYSQL_ROOT_PASSWORD",
            "MYSQL_ALLOW_EMPTY_PASSWORD",
            "MYSQL_RANDOM_ROOT_PASSWORD",
        )
        if product == "mariadb"
        else (
            "MYSQL_ROOT_PASSWORD",
            "MYSQL_ALLOW_EMPTY_PASSWORD",
            "MYSQL_RANDOM_ROOT_PASSWORD",
            "MYSQL_ROOT_PASSWORD_FILE",
        )
    )
    version = _version(call, "8.0.40" if product == "mysql" else "11.4.4")
    server = "MySQL Server" if product == "mysql" else "MariaDB Server"
    call.io.print(f"{stamp} [Note] [Entrypoint]: Entrypoint script for {server} {version} started.")
    if not any(env.get(k) for k in keys):
        if product == "mysql":
            call.io.error(
                f"{stamp} [ERROR] [Entrypoint]: Database is uninitialized and password option is not "
                "specified\n    You need to specify one of the following as an environment variable:\n"
                "    - MYSQL_ROOT_PASSWORD\n    - MYSQL_ALLOW_EMPTY_PASSWORD\n"
                "    - MYSQL_RANDOM_ROOT_PASSWORD"
            )
        else:
            call.io.error(
                f"{stamp} [ERROR] [Entrypoint]: Database is uninitialized and password option is not "
                "specified\n\tYou need to specify one of MARIADB_ROOT_PASSWORD, MARIADB_ROOT_PASSWORD_HASH, "
                "MARIADB_ALLOW_EMPTY_ROOT_PASSWORD and MARIADB_RANDOM_ROOT_PASSWORD"
            )
        return 1
    call.io.print(f"{stamp} [Note] [Entrypoint]: Initializing database files")
    from sandbox.shell.process import Sleep

    yield Sleep(8.0 if product == "mysql" else 4.0)
    call.io.print(f"{stamp} [Note] [Entrypoint]: Database files initialized")
    call.io.print(f"{stamp} [Note] [Entrypoint]: MySQL init process done. Ready for start up.")
    return 0


def mysqld(call: Call) -> Gen:
    """mysqld / mariadbd listening on 3306."""
    product = "mariadb" if call.name in ("mariadbd",) else "mysql"
    version = _version(call, "8.0.40" if product == "mysql" else "11.4.4")
    t = call.sh.container.proc.t
    ready = (
        f"{timestamp(t, '%Y-%m-%dT%H:%M:%S')}.000000Z 0 [System] [MY-010931] [Server] /usr/sbin/mysqld: "
        f"ready for connections. Version: '{version}'  socket: '/var/run/mysqld/mysqld.sock'  port: 3306  "
        "MySQL Community Server - GPL."
        if product == "mysql"
        else f"{timestamp(t)} 0 [Note] mariadbd: ready for connections.\n"
        f"Version: '{version}-MariaDB-ubu2404'  socket: '/run/mysqld/mysqld.sock'  port: 3306  "
        "mariadb.org binary distribution"
    )
    return (yield from serve(call, [Listener(3306, "mysql")], after=[ready], startup=3.0, stream="err"))


def mongod(call: Call) -> Gen:
    """mongod on 27017 (JSON log lines)."""
    t = call.sh.container.proc.t
    stamp = timestamp(t, "%Y-%m-%dT%H:%M:%S.000+00:00")
    line = (
        f'{{"t":{{"$date":"{stamp}"}},"s":"I",  "c":"NETWORK",  "id":23016,   "ctx":"listener",'
        '"msg":"Waiting for connections","attr":{"port":27017,"ssl":"off"}}'
    )
    return (yield from serve(call, [Listener(27017, "mongo")], after=[line], startup=2.0))


def _mongo_prepare(call: Call) -> Gen:
    user, pw = call.env.get("MONGO_INITDB_ROOT_USERNAME"), call.env.get("MONGO_INITDB_ROOT_PASSWORD")
    if bool(user) != bool(pw) and not call.env.get("MONGO_INITDB_ROOT_PASSWORD_FILE"):
        missing = "MONGO_INITDB_ROOT_PASSWORD" if user else "MONGO_INITDB_ROOT_USERNAME"
        call.io.error(
            f"error: missing '{missing}' or '{missing}_FILE'\n"
            "  both MONGO_INITDB_ROOT_USERNAME and MONGO_INITDB_ROOT_PASSWORD must be specified "
            "for a user to be created"
        )
        return 1
    return 0
    yield


register(
    "postgres",
    {
        "docker-entrypoint.sh": entrypoint_script("postgres", _pg_prepare),
        "postgres": postgres,
        "pg_isready": pg_isready,
        "psql": psql,
    },
)
register(
    "mysql",
    {
        "docker-entrypoint.sh": entrypoint_script("mysqld", lambda call: _mysql_prepare(call, "mysql")),
        "mysqld": mysqld,
        "mysqladmin": mysqladmin,
        "mysql": mysqladmin,
    },
)
register(
    "mariadb",
    {
        "docker-entrypoint.sh": entrypoint_script("mariadbd", lambda call: _mysql_prepare(call, "mariadb")),
        "mariadbd": mysqld,
        "mysqld": mysqld,
        "mariadb-admin": mysqladmin,
        "mysqladmin": mysqladmin,
        "healthcheck.sh": mysqladmin,
    },
)
register(
    "mongo",
    {
        "docker-entrypoint.sh": entrypoint_script("mongod", _mongo_prepare),
        "mongod": mongod,
        "mongosh": mongosh,
        "mongo": mongosh,
    },
)
