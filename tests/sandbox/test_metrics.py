"""The Prometheus exposition: valid text format and series that move with the faults."""

from prometheus_client.parser import text_string_to_metric_families

from sandbox.resources import DEPLOYMENTS
from tests.sandbox.physics_helpers import (
    NS,
    container,
    deployment,
    make_sim,
    pods,
    serving_web_api,
)


def _samples(text):
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out.setdefault(s.name, []).append((s.labels, s.value))
    return out


def test_exposition_parses_and_carries_every_family():
    sim = serving_web_api(2)
    sim.step(30)
    samples = _samples(sim.render_metrics())
    for name in (
        "container_memory_working_set_bytes", "container_spec_memory_limit_bytes",
        "container_cpu_usage_seconds_total", "kube_pod_container_status_restarts_total",
        "kube_deployment_status_replicas_unavailable", "http_requests_total",
        "http_request_duration_seconds_bucket", "http_request_duration_seconds_sum",
        "http_request_duration_seconds_count", "kube_node_status_condition",
    ):  # fmt: skip
        assert name in samples, name
    web = [
        lbl for lbl, _ in samples["container_memory_working_set_bytes"] if lbl["pod"].startswith("web-api-")
    ]
    assert web and all(
        set(lbl) >= {"namespace", "pod", "container"} and lbl["namespace"] == NS for lbl in web
    )
    unavailable = dict(
        ((lbl["deployment"], v) for lbl, v in samples["kube_deployment_status_replicas_unavailable"])
    )
    assert unavailable["web-api"] == 0
    pod = pods(sim, "web-api")[0]["metadata"]["name"]
    buckets = [
        (lbl["le"], v) for lbl, v in samples["http_request_duration_seconds_bucket"] if lbl["pod"] == pod
    ]
    values = [v for _, v in buckets]
    assert values == sorted(values) and buckets[-1][0] == "+Inf"
    count = next(v for lbl, v in samples["http_request_duration_seconds_count"] if lbl["pod"] == pod)
    assert values[-1] == count > 0


def test_counters_grow_with_simulated_time():
    sim = serving_web_api(1)
    pod = pods(sim, "web-api")[0]["metadata"]["name"]

    def value(name, **labels):
        s = _samples(sim.render_metrics())[name]
        return next(
            v for lbl, v in s if lbl.get("pod") == pod and all(lbl.get(k) == x for k, x in labels.items())
        )

    cpu0, ok0 = value("container_cpu_usage_seconds_total"), value("http_requests_total", code="200")
    sim.step(100)
    cpu1, ok1 = value("container_cpu_usage_seconds_total"), value("http_requests_total", code="200")
    assert 10 < cpu1 - cpu0 < 14  # 120m for 100s
    assert 700 < ok1 - ok0 < 820  # 8 requests/s, a few 500s


def test_leaky_image_memory_climbs_until_oomkilled():
    sim = make_sim()
    leaky = container(
        "joke",
        "ghcr.io/paramedic-demo/joke-service:1.1.0",
        resources={"limits": {"memory": "128Mi"}, "requests": {"memory": "64Mi"}},
    )
    sim.store.create(DEPLOYMENTS, deployment("joke", [leaky], replicas=1))
    sim.step(30)
    pod = pods(sim, "joke")[0]["metadata"]["name"]

    def working_set():
        s = _samples(sim.render_metrics())["container_memory_working_set_bytes"]
        return next(v for lbl, v in s if lbl["pod"] == pod)

    seen = [working_set()]
    for _ in range(20):
        sim.step(60)
        seen.append(working_set())
    assert seen[5] > seen[0] * 1.5
    restarts = _samples(sim.render_metrics())["kube_pod_container_status_restarts_total"]
    assert next(v for lbl, v in restarts if lbl["pod"] == pod) >= 1
    last = pods(sim, "joke")[0]["status"]["containerStatuses"][0]["lastState"]["terminated"]
    assert last["reason"] == "OOMKilled"


def test_unscheduled_pods_report_pending_phase_and_unschedulable():
    sim = make_sim()
    huge = container(
        "web", "ghcr.io/paramedic-demo/web-api:1.4.2", resources={"requests": {"memory": "64Gi"}}
    )
    sim.store.create(DEPLOYMENTS, deployment("greedy", [huge], replicas=1))
    sim.step(30)
    text = sim.render_metrics()
    pending = [
        line
        for line in text.splitlines()
        if line.startswith("kube_pod_status_phase{") and 'pod="greedy-' in line and 'phase="Pending"' in line
    ]
    assert pending and pending[0].endswith(" 1")
    assert any(
        line.startswith("kube_pod_status_unschedulable{") and 'pod="greedy-' in line
        for line in text.splitlines()
    )
