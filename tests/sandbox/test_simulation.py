"""The simulation end to end: a healthy Deployment, scaling, determinism, the background loop."""

import re
import time

from sandbox.resources import DEPLOYMENTS, NODES, PODS, REPLICASETS
from tests.sandbox.physics_helpers import (
    NS,
    available,
    events,
    get_deploy,
    make_sim,
    pods,
    postgres,
    serving_web_api,
    status_of,
    web_api,
)


def test_healthy_deployment_becomes_available_with_ready_pods():
    sim = serving_web_api(3)
    d = get_deploy(sim, "web-api")
    conds = {c["type"]: c for c in d["status"]["conditions"]}
    assert conds["Available"]["reason"] == "MinimumReplicasAvailable"
    assert conds["Progressing"]["reason"] == "NewReplicaSetAvailable"
    assert d["status"]["observedGeneration"] == d["metadata"]["generation"]
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    rs_list, _ = sim.store.list(
        REPLICASETS, NS, predicate=lambda r: r["metadata"]["name"].startswith("web-api-")
    )
    assert len(rs_list) == 1
    rs = rs_list[0]
    hash_ = rs["metadata"]["labels"]["pod-template-hash"]
    assert rs["metadata"]["name"] == f"web-api-{hash_}"
    assert rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    for pod in pods(sim, "web-api"):
        assert pod["metadata"]["name"].startswith(f"web-api-{hash_}-")
        owner = pod["metadata"]["ownerReferences"][0]
        assert (
            owner["kind"] == "ReplicaSet"
            and owner["controller"] is True
            and owner["uid"] == rs["metadata"]["uid"]
        )
        assert pod["status"]["phase"] == "Running"
        cs = status_of(pod)
        assert cs["ready"] and "running" in cs["state"] and cs["restartCount"] == 0
        conds = {c["type"]: c["status"] for c in pod["status"]["conditions"]}
        assert conds == {
            "PodScheduled": "True",
            "Initialized": "True",
            "ContainersReady": "True",
            "Ready": "True",
            "PodReadyToStartContainers": "True",
        }
        assert re.fullmatch(r"10\.244\.\d+\.\d+", pod["status"]["podIP"])
        assert pod["status"]["hostIP"].startswith("172.18.0.")
        assert pod["status"]["qosClass"] == "Burstable"
        assert pod["spec"]["nodeName"].startswith("sandbox-worker-")
    reasons = [e["reason"] for e in events(sim, name_prefix="web-api")]
    for reason in (
        "ScalingReplicaSet",
        "SuccessfulCreate",
        "Scheduled",
        "Pulling",
        "Pulled",
        "Created",
        "Started",
    ):
        assert reason in reasons
    assert not sim.errors


def test_nodes_are_registered_with_capacity_and_conditions():
    sim = make_sim(nodes=3)
    nodes, _ = sim.store.list(NODES)
    assert [n["metadata"]["name"] for n in nodes] == [
        "sandbox-worker-1",
        "sandbox-worker-2",
        "sandbox-worker-3",
    ]
    for n in nodes:
        assert n["status"]["capacity"]["cpu"] == "4"
        assert n["status"]["capacity"]["memory"] == f"{8 * 1024 * 1024}Ki"
        conds = {c["type"]: c["status"] for c in n["status"]["conditions"]}
        assert conds["Ready"] == "True" and conds["MemoryPressure"] == "False"
        assert n["status"]["nodeInfo"]["kubeletVersion"] == "v1.32.0"


def test_scale_up_and_down():
    sim = serving_web_api(2)
    d = get_deploy(sim, "web-api")
    d["spec"]["replicas"] = 5
    sim.store.update(DEPLOYMENTS, d)
    assert sim.wait_until(lambda: available(sim, "web-api", 5), 120)
    assert len(pods(sim, "web-api")) == 5
    d = get_deploy(sim, "web-api")
    d["spec"]["replicas"] = 1
    sim.store.update(DEPLOYMENTS, d)
    assert sim.wait_until(lambda: available(sim, "web-api", 1), 60)
    assert len(pods(sim, "web-api")) == 1
    messages = [e["message"] for e in events(sim, reason="ScalingReplicaSet", name_prefix="web-api")]
    assert any(re.search(r"Scaled up replica set web-api-\w+ from 2 to 5", m) for m in messages)
    assert any(re.search(r"Scaled down replica set web-api-\w+ from 5 to 1", m) for m in messages)
    assert len(events(sim, reason="SuccessfulDelete", name_prefix="web-api")) == 4


def _trace(seed: int) -> tuple[list[str], list[tuple]]:
    sim = make_sim(seed=seed)
    postgres(sim)
    sim.store.create(DEPLOYMENTS, web_api(replicas=3, memory="64Mi"))  # OOM loop: plenty of events
    sim.step(200)
    names = sorted(p["metadata"]["name"] for p in sim.store.list(PODS)[0])
    uid = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
    seq = [(t, r, n, uid.sub("<uid>", m)) for t, r, n, m in sim.recorder.recorded]
    return names, seq


def test_same_seed_same_pod_names_and_event_sequence():
    names_a, events_a = _trace(7)
    names_b, events_b = _trace(7)
    assert names_a == names_b
    assert events_a == events_b
    names_c, _ = _trace(8)
    assert names_c != names_a


def test_background_loop_runs_faster_than_wall_time():
    sim = make_sim()
    sim.clock.factor = 100.0
    sim.store.create(DEPLOYMENTS, web_api(replicas=1, env=[]))  # crashes: KeyError DATABASE_URL
    sim.start()
    try:
        start = sim.clock.elapsed
        t0 = time.monotonic()
        ok = sim.wait_until(
            lambda: any(
                status_of(p).get("restartCount", 0) >= 2
                for p in pods(sim, "web-api")
                if p["status"].get("containerStatuses")
            ),
            300,
        )
        wall = time.monotonic() - t0
        assert ok
        assert sim.clock.elapsed - start > wall * 10  # simulated time outran wall time
    finally:
        sim.close()
    assert not sim.running
