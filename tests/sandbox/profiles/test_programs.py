"""Image behaviours: what the programs of well-known images do with the pod's configuration."""

import base64

import pytest

from sandbox.shell.process import INF
from tests.sandbox.profiles.helpers import CONFIGMAPS, MI, SECRETS, SERVICES, start


def test_nginx_serves_its_welcome_page_and_404_elsewhere():
    s = start("nginx:1.25")
    assert s.exit is None and "/docker-entrypoint.sh: Configuration complete; ready for start up" in s.lines
    listener = s.plan.listener(80)
    assert listener.respond("GET", "/")[0] == 200 and "Welcome to nginx!" in listener.respond("GET", "/")[1]
    assert listener.respond("GET", "/healthz")[0] == 404


def test_nginx_reads_a_mounted_site_configuration():
    conf = (
        "server {\n  listen 8080;\n  location /healthz { return 200 'ok'; }\n"
        "  location / { root /usr/share/nginx/html; }\n}\n"
    )
    s = start(
        "nginx:1.27-alpine",
        objects=[(CONFIGMAPS, {"metadata": {"name": "site"}, "data": {"default.conf": conf}})],
        pod_spec={"volumes": [{"name": "conf", "configMap": {"name": "site"}}]},
        volumeMounts=[{"name": "conf", "mountPath": "/etc/nginx/conf.d"}],
    )
    assert s.plan.listener(80) is None
    assert s.plan.listener(8080).respond("GET", "/healthz")[0] == 200


def test_nginx_stops_when_its_main_config_is_hidden_or_it_cannot_bind():
    s = start(
        "nginx:1.25",
        objects=[
            (CONFIGMAPS, {"metadata": {"name": "site"}, "data": {"default.conf": "server { listen 80; }"}})
        ],
        pod_spec={"volumes": [{"name": "conf", "configMap": {"name": "site"}}]},
        volumeMounts=[{"name": "conf", "mountPath": "/etc/nginx"}],
    )
    assert s.exit[1] == 1 and 'open() "/etc/nginx/nginx.conf" failed (2: No such file or directory)' in s.text
    s = start("nginx:1.25", securityContext={"runAsUser": 101})
    assert s.exit[1] == 1 and '"/var/cache/nginx/client_temp" failed (13: Permission denied)' in s.text
    assert start("nginxinc/nginx-unprivileged:1.25", securityContext={"runAsUser": 101}).plan.listener(8080)


@pytest.mark.parametrize(
    ("env", "running"),
    [
        ([], False),
        ([{"name": "POSTGRES_PASSWORD", "value": "pw"}], True),
        ([{"name": "POSTGRES_HOST_AUTH_METHOD", "value": "trust"}], True),
    ],
)
def test_postgres_needs_a_password_or_trust(env, running):
    s = start("postgres:16", env=env)
    if running:
        assert (
            s.exit is None
            and s.plan.listener(5432)
            and "database system is ready to accept connections" in s.text
        )
    else:
        assert (
            s.exit[1] == 1
            and s.lines[0] == "Error: Database is uninitialized and superuser password is not specified."
        )


def test_mysql_and_mariadb_need_a_root_password_option():
    assert start("mysql:8.0").exit[1] == 1
    assert start("mysql:8.0", env=[{"name": "MYSQL_ALLOW_EMPTY_PASSWORD", "value": "yes"}]).plan.listener(
        3306
    )
    ran = start("mariadb:11.4")
    assert ran.exit[1] == 1 and "MARIADB_ROOT_PASSWORD" in ran.text
    assert start("mariadb:11.4", env=[{"name": "MARIADB_RANDOM_ROOT_PASSWORD", "value": "1"}]).plan.listener(
        3306
    )


def test_redis_options_and_auth():
    s = start("redis:7.2", args=["--requirepass", "s3cret", "--appendonly", "yes"])
    assert s.plan.listener(6379) and "Ready to accept connections tcp" in s.text
    bad = start("redis:7.2", args=["--apendonly", "yes"])
    assert bad.exit[1] == 1 and "Bad directive or wrong number of arguments" in bad.text


def test_bitnami_redis_refuses_a_blank_password():
    s = start("bitnami/redis:7.2")
    assert s.exit[1] == 1 and "The REDIS_PASSWORD environment variable is empty or not set" in s.text
    assert start("bitnami/redis:7.2", env=[{"name": "ALLOW_EMPTY_PASSWORD", "value": "yes"}]).plan.listener(
        6379
    )


@pytest.mark.parametrize(
    "image", ["python:3.12-slim", "node:20-alpine", "busybox:1.36", "ubuntu:22.04", "ruby:3.3"]
)
def test_interactive_defaults_exit_zero_on_empty_stdin(image):
    assert start(image).exit[1:] == (0, "Completed")


def test_python_one_liners_are_read_not_run():
    assert start("python:3.11", command=["python", "-c", "import flask"]).lines[-1] == (
        "ModuleNotFoundError: No module named 'flask'"
    )
    buffered = start(
        "python:3.11", command=["python", "-c", "import time\nwhile True:\n print('x')\n time.sleep(1)"]
    )
    assert buffered.exit is None and buffered.lines == []
    unbuffered = start(
        "python:3.11", command=["python", "-u", "-c", "import time\nwhile True:\n print('x')\n time.sleep(1)"]
    )
    assert unbuffered.lines[:3] == ["x", "x", "x"]
    assert start("python:3.11", command=["python", "-c", "import sys; sys.exit(3)"]).exit[1] == 3
    missing = start("python:3.11", command=["python", "app.py"])
    assert (missing.exit[1], missing.lines) == (
        2,
        ["python3: can't open file '/app.py': [Errno 2] No such file or directory"],
    )
    syntax = start("python:3.11", command=["python", "-c", "print(("])
    assert syntax.exit[1] == 1 and syntax.lines[-1].startswith("SyntaxError:")


def test_python_programs_listen_and_allocate():
    server = start("python:3.12-slim", command=["python", "-m", "http.server", "9000"])
    assert server.plan.listener(9000).respond("GET", "/")[0] == 200
    oom = start("python:3.12-slim", command=["python", "-c", "a = ' ' * 10**9"], limit=256 * MI)
    assert oom.exit[1:] == (137, "OOMKilled")
    fits = start("python:3.12-slim", command=["python", "-c", "a = ' ' * 10**7; print('ok')"], limit=256 * MI)
    assert fits.exit[1:] == (0, "Completed") and fits.lines == ["ok"]


def test_node_and_perl_programs():
    s = start("node:20", command=["node", "-e", "const x = require('express')"])
    assert s.exit[1] == 1 and "Error: Cannot find module 'express'" in s.text
    pi = start("perl:5.34.0", command=["perl", "-Mbignum=bpi", "-wle", "print bpi(50)"])
    assert pi.exit[1] == 0 and pi.lines == ["3.1415926535897932384626433832795028841971693993751"]


def test_docs_and_platform_images():
    assert "Hello from Docker!" in start("hello-world").text
    assert start("registry.k8s.io/pause:3.9", seconds=3600).exit is None
    live = start("registry.k8s.io/liveness", seconds=1, args=["/server"])
    assert live.plan.listener(8080).respond("GET", "/healthz")[0] == 200
    live.run(20)
    assert live.plan.listener(8080).respond("GET", "/healthz")[0] == 500
    prom = start("prom/prometheus:v2.51.0")
    assert prom.plan.listener(9090).respond("GET", "/-/ready")[0] == 200
    es = start("elasticsearch:8.13.4", limit=2048 * MI)
    assert es.exit[1] == 78 and "bootstrap checks failed" in es.text


def test_an_unknown_image_runs_and_serves_its_declared_ports():
    s = start("acme/orders:1.2.3", ports=[{"containerPort": 8080}])
    assert s.exit is None and s.plan.listener(8080)


def test_a_command_missing_from_the_image_is_a_start_error():
    s = start("alpine:3.19", command=["bash", "-c", "echo hi"])
    assert s.plan.exit_reason == "StartError" and s.plan.exit_code == 128
    assert 'exec: "bash": executable file not found in $PATH' in s.plan.exit_message


def test_kubelet_variable_references_and_the_container_environment():
    s = start(
        "busybox:1.36",
        command=["sh", "-c", "echo $(GREETING) $$HOME; env | grep -c SERVICE; echo $WEB_SERVICE_HOST"],
        env=[{"name": "GREETING", "value": "hi"}],
        objects=[
            (
                SERVICES,
                {"metadata": {"name": "web"}, "spec": {"clusterIP": "10.96.3.4", "ports": [{"port": 80}]}},
            )
        ],
    )
    assert s.lines[0] == "hi /root" and int(s.lines[1]) >= 4 and s.lines[2] == "10.96.3.4"


def test_volumes_secrets_items_subpath_downward_api_and_token():
    secret = {"metadata": {"name": "creds"}, "data": {"password": base64.b64encode(b"hunter2").decode()}}
    cm = {"metadata": {"name": "cfg"}, "data": {"app.yaml": "port: 8080\n", "other": "x"}}
    s = start(
        "busybox:1.36",
        command=[
            "sh",
            "-c",
            "cat /secrets/password; echo; cat /etc/app.yaml; ls /cfg; cat /info/name; echo; "
            "cat /var/run/secrets/kubernetes.io/serviceaccount/namespace",
        ],
        objects=[(SECRETS, secret), (CONFIGMAPS, cm)],
        pod_spec={
            "volumes": [
                {"name": "s", "secret": {"secretName": "creds"}},
                {"name": "c", "configMap": {"name": "cfg", "items": [{"key": "other", "path": "renamed"}]}},
                {"name": "whole", "configMap": {"name": "cfg"}},
                {
                    "name": "d",
                    "downwardAPI": {"items": [{"path": "name", "fieldRef": {"fieldPath": "metadata.name"}}]},
                },
            ]
        },
        volumeMounts=[
            {"name": "s", "mountPath": "/secrets"},
            {"name": "c", "mountPath": "/cfg"},
            {"name": "whole", "mountPath": "/etc/app.yaml", "subPath": "app.yaml"},
            {"name": "d", "mountPath": "/info"},
        ],
    )
    assert s.lines == ["hunter2", "port: 8080", "renamed", "pod-1", "default"]


def test_exec_probes_run_in_the_container():
    s = start(
        "busybox:1.36", command=["sh", "-c", "touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600"]
    )
    probe = {"exec": {"command": ["cat", "/tmp/healthy"]}}
    assert s.plan.probe(probe, 1010.0, "10.244.1.2", int) is None
    s.run(40)
    assert (
        s.plan.probe(probe, 1040.0, "10.244.1.2", int)
        == "cat: can't open '/tmp/healthy': No such file or directory"
    )
    assert "executable file not found" in s.plan.probe(
        {"exec": {"command": ["pg_isready"]}}, 1040.0, "x", int
    )
    slow = {"exec": {"command": ["sleep", "5"]}, "timeoutSeconds": 1}
    assert s.plan.probe(slow, 1040.0, "10.244.1.2", int) == 'command "sleep 5" timed out'
    assert INF > 0


def test_broker_and_wordpress_images():
    mq = start("rabbitmq:3.13-management")
    assert mq.plan.listener(5672) and mq.plan.listener(15672)
    ping = {"exec": {"command": ["rabbitmq-diagnostics", "-q", "ping"]}}
    assert mq.plan.probe(ping, 1030.0, "x", int) is None
    wp = start("wordpress:6.5-apache")
    assert wp.plan.listener(80).respond("GET", "/")[0] == 200
    assert start("php:8.2-apache").plan.listener(80).respond("GET", "/")[0] == 403
