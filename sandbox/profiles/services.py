"""Caches, brokers and search: redis (official, Bitnami), memcached, RabbitMQ, Elasticsearch, Kibana."""

from __future__ import annotations

from sandbox.profiles.clients import rabbitmq_diagnostics, redis_cli
from sandbox.profiles.model import MI, entrypoint_script, register, serve, timestamp
from sandbox.shell.fs import FsError
from sandbox.shell.interp import Call, Gen
from sandbox.shell.process import Listener

_REDIS_OPTIONS = {
    "port",
    "bind",
    "requirepass",
    "appendonly",
    "save",
    "maxmemory",
    "maxmemory-policy",
    "protected-mode",
    "loglevel",
    "dir",
    "dbfilename",
    "daemonize",
    "timeout",
    "tcp-keepalive",
    "databases",
    "masterauth",
    "replicaof",
    "slaveof",
    "cluster-enabled",
    "cluster-config-file",
    "appendfsync",
    "logfile",
    "io-threads",
    "maxclients",
    "notify-keyspace-events",
    "include",
    "aclfile",
    "tls-port",
    "rename-command",
    "client-output-buffer-limit",
}


def redis_server(call: Call) -> Gen:
    """redis-server [config file] [--option value …]."""
    c = call.sh.container
    version = getattr(c.image, "version", "") or "7.2.5"
    t = c.proc.t
    stamp = timestamp(t, "%d %b %Y %H:%M:%S.000")
    args = call.argv[1:]
    settings: dict[str, str] = {}
    if args and not args[0].startswith("--"):
        path = call.path(args[0])
        try:
            text = c.fs.read(path)
        except FsError:
            call.io.error(f"Fatal error, can't open config file '{path}': No such file or directory")
            return 1
        for n, line in enumerate(text.splitlines(), 1):
            parts = line.split()
            if not parts or parts[0].startswith("#"):
                continue
            if parts[0].lower() not in _REDIS_OPTIONS:
                call.io.error(
                    f"\n*** FATAL CONFIG FILE ERROR (Redis {version}) ***\n"
                    "Reading the configuration file, at line "
                    f"{n}\n>>> '{line.strip()}'\nBad directive or wrong number of arguments"
                )
                return 1
            settings[parts[0].lower()] = " ".join(parts[1:])
        args = args[1:]
    k = 0
    while k < len(args):
        name = args[k].lstrip("-").lower()
        value = args[k + 1] if k + 1 < len(args) and not args[k + 1].startswith("--") else ""
        if name not in _REDIS_OPTIONS:
            call.io.error(
                f"\n*** FATAL CONFIG FILE ERROR (Redis {version}) ***\n"
                "Reading the configuration file, at line 2\n"
                f">>> '{name} \"{value}\"'\nBad directive or wrong number of arguments"
            )
            return 1
        settings[name] = value
        k += 2 if value or (k + 1 < len(args) and args[k + 1] == "") else 1
    port = int(settings.get("port", "6379") or 6379)
    lines = [
        f"1:C {stamp} * oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo",
        f"1:C {stamp} * Redis version={version}, bits=64, commit=00000000, modified=0, pid=1, just started",
        f"1:C {stamp} # Warning: no config file specified, using the default config. In order to specify a "
        "config file use redis-server /path/to/redis.conf"
        if not settings
        else f"1:C {stamp} * Configuration loaded",
        f"1:M {stamp} * monotonic clock: POSIX clock_gettime",
        f"1:M {stamp} * Running mode=standalone, port={port}.",
        f"1:M {stamp} * Server initialized",
        f"1:M {stamp} * Ready to accept connections tcp",
    ]
    password = settings.get("requirepass", "")
    listener = Listener(port, "redis", banner=f"auth:{password}" if password else "")
    return (yield from serve(call, [listener], before=lines[:4], after=lines[4:], startup=0.05))


def memcached(call: Call) -> Gen:
    """memcached -m MB -p port (silent unless -v)."""
    port = 11211
    for k, a in enumerate(call.argv):
        if a == "-p" and k + 1 < len(call.argv):
            port = int(call.argv[k + 1])
    return (yield from serve(call, [Listener(port, "memcached")], startup=0.05))


def rabbitmq(call: Call) -> Gen:
    """rabbitmq-server: AMQP on 5672 (and the management UI on 15672 in `-management` images)."""
    c = call.sh.container
    t = c.proc.t
    stamp = timestamp(t, "%Y-%m-%d %H:%M:%S.000000+00:00")
    management = "management" in (getattr(c.image, "variant", "") or "")
    listeners = [Listener(5672, "amqp")]
    if management:
        listeners.append(Listener(15672, "http", lambda m, p: (200, "<html>RabbitMQ Management</html>")))
    plugins = 3 if management else 0
    lines = [
        f"{stamp} [info] <0.230.0> Starting RabbitMQ {getattr(c.image, 'version', '') or '3.13.7'} "
        "on Erlang 26.2",
        f"{stamp} [info] <0.644.0> Server startup complete; {plugins} plugins started.",
    ]
    return (yield from serve(call, listeners, before=lines[:1], after=lines[1:], startup=8.0))


def elasticsearch(call: Call) -> Gen:
    """Elasticsearch: bootstrap checks (production mode binds 0.0.0.0), TLS on 9200 in 8.x by default."""
    c = call.sh.container
    env = call.env
    version = getattr(c.image, "version", "") or "8.13.4"
    major = int(version.split(".")[0]) if version[:1].isdigit() else 8
    single = env.get("discovery.type") == "single-node"
    configured = any(
        env.get(k)
        for k in ("discovery.seed_hosts", "cluster.initial_master_nodes", "discovery.seed_providers")
    )
    minor = ".".join(version.split(".")[:2])
    if not single and not configured:
        call.io.error(
            "ERROR: [1] bootstrap checks failed. You must address the points described in the following "
            "[1] lines before starting Elasticsearch. For more information see "
            f"[https://www.elastic.co/guide/en/elasticsearch/reference/{minor}/bootstrap-checks.html]\n"
            "bootstrap check failure [1] of [1]: the default discovery settings are unsuitable for "
            "production use; at least one of [discovery.seed_hosts, discovery.seed_providers, "
            "cluster.initial_master_nodes] must be configured; for more information see "
            f"[https://www.elastic.co/guide/en/elasticsearch/reference/{minor}/bootstrap-checks-discovery-configuration.html]\n"
            "ERROR: Elasticsearch did not exit normally - check the logs at "
            "/usr/share/elasticsearch/logs/docker-cluster.log"
        )
        return 78
    limit = c.proc.memory_limit
    heap = min(limit * 0.5, 4096 * MI) if limit else 1024 * MI
    c.proc.allocate(heap + 250 * MI - c.proc.baseline if heap + 250 * MI > c.proc.baseline else 0)
    tls = major >= 8 and env.get("xpack.security.enabled", "true") != "false"
    health = Listener(
        9200, "tls" if tls else "http", lambda m, p: (401, "") if tls else (200, '{"status":"green"}')
    )
    stamp = timestamp(c.proc.t, "%Y-%m-%dT%H:%M:%S.000Z")
    line = f'{{"@timestamp":"{stamp}", "log.level": "INFO", "message":"started"}}'
    return (yield from serve(call, [health, Listener(9300, "tcp")], after=[line], startup=25.0))


def kibana(call: Call) -> Gen:
    """Kibana on 5601."""
    return (yield from serve(call, [Listener(5601, "http", lambda m, p: (200, "{}"))], startup=30.0))


register(
    "redis",
    {
        "docker-entrypoint.sh": entrypoint_script("redis-server"),
        "redis-server": redis_server,
        "redis-cli": redis_cli,
    },
)
register("memcached", {"docker-entrypoint.sh": entrypoint_script("memcached"), "memcached": memcached})
register(
    "rabbitmq",
    {
        "docker-entrypoint.sh": entrypoint_script("rabbitmq-server"),
        "rabbitmq-server": rabbitmq,
        "rabbitmq-diagnostics": rabbitmq_diagnostics,
        "rabbitmqctl": rabbitmq_diagnostics,
    },
)
register(
    "elasticsearch",
    {
        "tini": lambda call: call.sh.invoke(
            [a for a in call.argv[1:] if a != "--"], call.io, call.env, tail=True
        ),
        "docker-entrypoint.sh": entrypoint_script("eswrapper"),
        "eswrapper": elasticsearch,
    },
)
register(
    "kibana",
    {
        "tini": lambda call: call.sh.invoke(
            [a for a in call.argv[1:] if a != "--"], call.io, call.env, tail=True
        ),
        "kibana-docker": kibana,
    },
)
