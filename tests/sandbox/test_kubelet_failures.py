"""Each failure mode of the workload physics: statuses, events, logs and metrics like a real cluster."""

import itertools
import re

import pytest

from sandbox.clock import parse_rfc3339
from sandbox.resources import CONFIGMAPS, DEPLOYMENTS, NODES, SERVICES
from sandbox.store import ApiError
from tests.sandbox.physics_helpers import (
    DATABASE_ENV,
    NS,
    available,
    container,
    deployment,
    events,
    make_sim,
    pods,
    postgres,
    serving_web_api,
    status_of,
    web_api,
)


def _first(sim, app):
    found = pods(sim, app)
    return found[0] if found else None


def _restarts(sim, app):
    p = _first(sim, app)
    if p is None or not p["status"].get("containerStatuses"):
        return -1
    return status_of(p)["restartCount"]


def _lines(sim, pod, previous=False, container_name=None):
    return [text for _, text in sim.logs.read(NS, pod["metadata"]["name"], container_name, previous)]


def _metric(text, name, **labels):
    out = []
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            out.append(float(line.rsplit(" ", 1)[1]))
    return out


def test_low_memory_limit_gives_oomkilled_crashloop_with_metrics():
    sim = make_sim()
    postgres(sim)
    sim.store.create(DEPLOYMENTS, web_api(replicas=1, memory="96Mi"))
    samples = []

    def restarted_twice():
        p = _first(sim, "web-api")
        if p and p["status"].get("containerStatuses"):
            ws = _metric(
                sim.render_metrics(), "container_memory_working_set_bytes", pod=p["metadata"]["name"]
            )
            samples.extend(ws)
            return status_of(p)["restartCount"] >= 2
        return False

    assert sim.wait_until(restarted_twice, 300, step=0.5)
    pod = _first(sim, "web-api")
    cs = status_of(pod)
    term = cs["lastState"]["terminated"]
    assert term["reason"] == "OOMKilled" and term["exitCode"] == 137
    assert term["startedAt"] <= term["finishedAt"]
    assert not cs["ready"]
    limit = 96 * 1024 * 1024
    assert max(samples) == limit  # working set climbs to the limit
    assert min(samples) < limit * 0.8
    metrics = sim.render_metrics()
    assert _metric(metrics, "container_spec_memory_limit_bytes", pod=pod["metadata"]["name"]) == [limit]
    assert _metric(metrics, "kube_pod_container_status_restarts_total", pod=pod["metadata"]["name"]) == [2]
    assert sim.wait_until(lambda: "waiting" in status_of(_first(sim, "web-api"))["state"], 60, step=0.5)
    waiting = status_of(_first(sim, "web-api"))["state"]["waiting"]
    assert waiting["reason"] == "CrashLoopBackOff"
    assert re.match(r"back-off \d+s restarting failed container=web pod=web-api-", waiting["message"])
    assert _metric(
        sim.render_metrics(), "kube_pod_container_status_waiting_reason", reason="CrashLoopBackOff"
    ) == [1]
    backoff = events(sim, reason="BackOff", name_prefix="web-api")
    assert backoff and backoff[0]["type"] == "Warning"
    assert backoff[0]["message"].startswith("Back-off restarting failed container web in pod web-api-")
    assert backoff[0]["source"] == {"component": "kubelet", "host": pod["spec"]["nodeName"]}
    assert backoff[0]["involvedObject"]["fieldPath"] == "spec.containers{web}"


def test_crashloop_backoff_grows_exponentially_to_five_minutes():
    sim = make_sim()
    sim.store.create(DEPLOYMENTS, web_api(replicas=1, env=[]))  # KeyError: 'DATABASE_URL' on every start
    starts = []

    def record():
        p = _first(sim, "web-api")
        if p and p["status"].get("containerStatuses"):
            state = status_of(p)["state"]
            if "running" in state and (not starts or starts[-1] != state["running"]["startedAt"]):
                starts.append(state["running"]["startedAt"])
        return len(starts) >= 9

    assert sim.wait_until(record, 3000, step=0.25)
    gaps = [parse_rfc3339(b) - parse_rfc3339(a) for a, b in itertools.pairwise(starts)]
    # Each start crashes within a second; the wait before the next one doubles from 10s and caps at 5m.
    waits = [round(g) for g in gaps]
    assert waits[0] <= 3
    assert [w - 1 for w in waits[1:]] == pytest.approx([10, 20, 40, 80, 160, 300, 300], abs=2)
    bumps = events(sim, reason="BackOff", name_prefix="web-api")
    assert len(bumps) == 1 and bumps[0]["count"] >= 7  # aggregated like the real recorder


def test_missing_env_crashes_with_keyerror_and_previous_logs():
    sim = make_sim()
    sim.store.create(DEPLOYMENTS, web_api(replicas=1, env=[]))
    assert sim.wait_until(lambda: _restarts(sim, "web-api") >= 1, 120, step=0.5)
    pod = _first(sim, "web-api")
    assert status_of(pod)["lastState"]["terminated"]["reason"] == "Error"
    assert status_of(pod)["lastState"]["terminated"]["exitCode"] == 1
    previous = _lines(sim, pod, previous=True)
    assert previous[-1] == "KeyError: 'DATABASE_URL'"
    assert any("Traceback (most recent call last):" in line for line in previous)
    assert any("uvicorn.error: Started server process" in line for line in previous)


def test_previous_logs_missing_is_a_400_like_kube_apiserver():
    sim = serving_web_api(1)
    pod = _first(sim, "web-api")
    with pytest.raises(ApiError) as err:
        sim.logs.read(NS, pod["metadata"]["name"], "web", previous=True)
    assert err.value.code == 400
    assert (
        err.value.message
        == f'previous terminated container "web" in pod "{pod["metadata"]["name"]}" not found'
    )
    sim.step(60)
    lines = _lines(sim, pod)
    assert any("Application startup complete." in line for line in lines)
    assert any('"GET /api/' in line and " 200 OK" in line for line in lines)


def test_missing_configmap_key_is_create_container_config_error_and_heals_when_added():
    sim = make_sim()
    env = [
        {"name": "QUEUE_URL", "value": "redis://redis:6379/0"},
        {
            "name": "WORKER_CONCURRENCY",
            "valueFrom": {"configMapKeyRef": {"name": "worker-config", "key": "concurrency"}},
        },
    ]
    sim.store.create(
        CONFIGMAPS, {"metadata": {"name": "worker-config", "namespace": NS}, "data": {"other": "1"}}
    )
    sim.store.create(
        DEPLOYMENTS,
        deployment(
            "worker", [container("worker", "ghcr.io/paramedic-demo/worker:2.1.0", env=env)], replicas=1
        ),
    )
    sim.step(30)
    pod = _first(sim, "worker")
    waiting = status_of(pod)["state"]["waiting"]
    assert waiting["reason"] == "CreateContainerConfigError"
    assert waiting["message"] == "couldn't find key concurrency in ConfigMap shop/worker-config"
    assert pod["status"]["phase"] == "Pending"
    failed = events(sim, reason="Failed", name_prefix="worker")
    assert failed[0]["message"] == "Error: couldn't find key concurrency in ConfigMap shop/worker-config"
    cm = sim.store.get(CONFIGMAPS, NS, "worker-config")
    cm["data"]["concurrency"] = "4"
    sim.store.update(CONFIGMAPS, cm)
    assert sim.wait_until(lambda: "running" in status_of(_first(sim, "worker"))["state"], 60)
    assert _first(sim, "worker")["status"]["phase"] == "Running"


def test_unknown_tag_is_errimagepull_then_imagepullbackoff():
    sim = make_sim()
    sim.store.create(DEPLOYMENTS, web_api(tag="9.9.9", replicas=1))
    sim.step(3)
    waiting = status_of(_first(sim, "web-api"))["state"]["waiting"]
    assert waiting["reason"] in ("ErrImagePull", "ImagePullBackOff")
    sim.step(5)
    waiting = status_of(_first(sim, "web-api"))["state"]["waiting"]
    assert waiting["reason"] == "ImagePullBackOff"
    assert waiting["message"] == 'Back-off pulling image "ghcr.io/paramedic-demo/web-api:9.9.9"'
    msgs = [e["message"] for e in events(sim, reason="Failed", name_prefix="web-api")]
    assert "Error: ErrImagePull" in msgs and "Error: ImagePullBackOff" in msgs
    assert any("failed to resolve reference" in m and m.endswith("not found") for m in msgs)
    with pytest.raises(ApiError) as err:
        sim.logs.read(NS, _first(sim, "web-api")["metadata"]["name"], "web")
    assert "is waiting to start: trying and failing to pull image" in err.value.message


def test_wrong_readiness_path_is_running_but_never_ready():
    sim = make_sim()
    postgres(sim)
    sim.store.create(DEPLOYMENTS, web_api(replicas=1, probe_path="/health"))
    sim.step(90)
    pod = _first(sim, "web-api")
    assert pod["status"]["phase"] == "Running"
    cs = status_of(pod)
    assert "running" in cs["state"] and not cs["ready"] and cs["restartCount"] == 0
    unhealthy = events(sim, reason="Unhealthy", name_prefix="web-api")
    assert [e["message"] for e in unhealthy if "404" in e["message"]] == [
        "Readiness probe failed: HTTP probe failed with statuscode: 404"
    ]
    assert max(e["count"] for e in unhealthy) > 10
    d = sim.store.get(DEPLOYMENTS, NS, "web-api")
    assert d["status"].get("unavailableReplicas") == 1
    conds = {c["type"]: c for c in d["status"]["conditions"]}
    assert (
        conds["Available"]["status"] == "False"
        and conds["Available"]["reason"] == "MinimumReplicasUnavailable"
    )


def test_failing_liveness_probe_restarts_the_container():
    sim = make_sim()
    postgres(sim)
    spec = web_api(
        replicas=1,
        livenessProbe={
            "httpGet": {"path": "/healthz", "port": 9999},
            "periodSeconds": 5,
            "failureThreshold": 3,
        },
    )
    sim.store.create(DEPLOYMENTS, spec)
    assert sim.wait_until(lambda: _restarts(sim, "web-api") >= 2, 300)
    killing = events(sim, reason="Killing", name_prefix="web-api")
    assert killing[0]["message"] == "Container web failed liveness probe, will be restarted"
    unhealthy = [e["message"] for e in events(sim, reason="Unhealthy", name_prefix="web-api")]
    assert any(
        m.startswith('Liveness probe failed: Get "http://10.244.') and "connection refused" in m
        for m in unhealthy
    )


def test_requests_too_big_is_failedscheduling():
    sim = make_sim()
    big = container("web", "nginx:1.27", resources={"requests": {"memory": "64Gi"}})
    sim.store.create(DEPLOYMENTS, deployment("big", [big], replicas=1))
    sim.step(45)
    pod = _first(sim, "big")
    assert pod["status"]["phase"] == "Pending" and not pod["spec"].get("nodeName")
    sched = next(c for c in pod["status"]["conditions"] if c["type"] == "PodScheduled")
    assert sched["status"] == "False" and sched["reason"] == "Unschedulable"
    assert sched["message"].startswith("0/3 nodes are available: 3 Insufficient memory.")
    failed = events(sim, reason="FailedScheduling", name_prefix="big")
    assert (
        len(failed) == 1
        and failed[0]["count"] >= 2
        and failed[0]["source"]["component"] == "default-scheduler"
    )


def test_unreachable_dependency_logs_connection_refused_and_serves_5xx_until_it_exists():
    sim = make_sim()
    sim.store.create(
        SERVICES,
        {
            "metadata": {"name": "postgres", "namespace": NS},
            "spec": {"selector": {"app": "postgres"}, "ports": [{"port": 5432}]},
        },
    )
    sim.store.create(DEPLOYMENTS, web_api(replicas=1))
    assert sim.wait_until(lambda: available(sim, "web-api", 1), 120)
    sim.step(120)
    pod = _first(sim, "web-api")
    name = pod["metadata"]["name"]
    lines = _lines(sim, pod)
    assert any(
        'connection to server at "postgres", port 5432 failed: Connection refused' in line for line in lines
    )
    assert any('" 500 Internal Server Error' in line for line in lines)
    metrics = sim.render_metrics()
    errors = _metric(metrics, "http_requests_total", pod=name, code="503")[0]
    ok = _metric(metrics, "http_requests_total", pod=name, code="200")[0]
    assert errors > 10 * max(ok, 1)
    # The database arrives: the same pod recovers without a restart.
    sim.store.create(
        DEPLOYMENTS,
        deployment(
            "postgres",
            [container("postgres", "postgres:15", env=[{"name": "POSTGRES_PASSWORD", "value": "pw"}])],
            replicas=1,
        ),
    )
    assert sim.wait_until(lambda: available(sim, "postgres", 1), 120)
    before = _metric(sim.render_metrics(), "http_requests_total", pod=name, code="200")[0]
    sim.step(60)
    after = _metric(sim.render_metrics(), "http_requests_total", pod=name, code="200")[0]
    assert after - before > 100
    assert any("dependency connection restored" in line for line in _lines(sim, pod))


def test_bad_config_value_runs_but_fails_requests():
    sim = make_sim()
    postgres(sim)
    env = [DATABASE_ENV, {"name": "POOL_SIZE", "value": "0"}]
    sim.store.create(DEPLOYMENTS, web_api(replicas=1, env=env))
    assert sim.wait_until(lambda: available(sim, "web-api", 1), 120)
    sim.step(60)
    pod = _first(sim, "web-api")
    lines = _lines(sim, pod)
    assert any("POOL_SIZE must be between 1 and 100, got 0" in line and "ERROR" in line for line in lines)
    metrics = sim.render_metrics()
    assert _metric(metrics, "http_requests_total", pod=pod["metadata"]["name"], code="500")[0] > 100


def test_unsupported_feature_flag_on_old_tag_fails_requests_and_new_tag_serves():
    sim = make_sim()
    postgres(sim)
    env = [DATABASE_ENV, {"name": "FEATURE_PAYMENTS_V2", "value": "on"}]
    sim.store.create(DEPLOYMENTS, web_api(tag="1.4.1", replicas=1, env=env))
    assert sim.wait_until(lambda: available(sim, "web-api", 1), 120)
    sim.step(60)
    name = _first(sim, "web-api")["metadata"]["name"]
    assert _metric(sim.render_metrics(), "http_requests_total", pod=name, code="500")[0] > 100


def test_command_missing_from_image_is_a_start_error():
    sim = make_sim()
    c = container("web", "nginx:1.27", command=["/app/server"])
    sim.store.create(DEPLOYMENTS, deployment("cmd", [c], replicas=1))
    assert sim.wait_until(lambda: _restarts(sim, "cmd") >= 1, 60, step=0.5)
    pod = _first(sim, "cmd")
    last = status_of(pod)["lastState"]["terminated"]
    # What containerd reports when the entrypoint is not in the image: the process never starts.
    assert last["exitCode"] == 128 and last["reason"] == "StartError"
    assert 'exec: "/app/server": executable file not found in $PATH' in last["message"]


def test_busybox_shell_echo_and_exit():
    sim = make_sim()
    c = container(
        "sh",
        "busybox:1.36",
        command=["sh", "-c", "echo hello from $HOSTNAME; sleep 2; exit 3"],
        env=[{"name": "HOSTNAME", "value": "box"}],
    )
    sim.store.create(DEPLOYMENTS, deployment("box", [c], replicas=1))
    assert sim.wait_until(lambda: _restarts(sim, "box") >= 1, 60, step=0.5)
    pod = _first(sim, "box")
    assert status_of(pod)["lastState"]["terminated"]["exitCode"] == 3
    assert _lines(sim, pod, previous=True) == ["hello from box"]


def test_node_memory_pressure_evicts_burstable_pods_and_they_are_replaced():
    sim = serving_web_api(6)
    node = "sandbox-worker-1"
    victims_before = [p["metadata"]["name"] for p in pods(sim, "web-api") if p["spec"]["nodeName"] == node]
    assert victims_before
    sim.set_node_pressure(node, True, reclaim="2Gi")
    sim.step(60)
    evicted = [p for p in pods(sim, "web-api") if p["status"].get("reason") == "Evicted"]
    assert {p["metadata"]["name"] for p in evicted} == set(victims_before)
    assert all(p["status"]["phase"] == "Failed" for p in evicted)
    ev = events(sim, reason="Evicted", name_prefix="web-api")
    assert ev and ev[0]["message"].startswith("The node was low on resource: memory.")
    assert sim.wait_until(lambda: available(sim, "web-api", 6), 120)
    running = [p for p in pods(sim, "web-api") if p["status"]["phase"] == "Running"]
    assert all(p["spec"]["nodeName"] != node for p in running)  # the taint keeps new pods off the node
    n = sim.store.get(NODES, "", node)
    assert {c["type"]: c["status"] for c in n["status"]["conditions"]}["MemoryPressure"] == "True"
