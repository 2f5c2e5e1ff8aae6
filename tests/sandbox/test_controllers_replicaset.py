"""The ReplicaSet controller and the scheduler, driven directly through the store."""

from sandbox.resources import PODS, REPLICASETS
from tests.manifests import selecting_spec
from tests.sandbox.physics_helpers import NS, events, make_sim


def _rs(name="solo", replicas=3, image="nginx:1.27", memory="64Mi"):
    container = {"name": "c", "image": image, "resources": {"requests": {"memory": memory, "cpu": "100m"}}}
    return {"metadata": {"name": name, "namespace": NS}, "spec": selecting_spec(name, [container], replicas)}


def _owned(sim, name="solo"):
    rs = sim.store.get(REPLICASETS, NS, name)
    items, _ = sim.store.list(
        PODS,
        NS,
        predicate=lambda p: any(
            r["uid"] == rs["metadata"]["uid"] for r in p["metadata"].get("ownerReferences") or []
        ),
    )
    return items


def test_replicaset_creates_pods_and_replaces_deleted_ones():
    sim = make_sim()
    sim.store.create(REPLICASETS, _rs())
    sim.step(20)
    owned = _owned(sim)
    assert len(owned) == 3
    assert all(
        p["metadata"]["name"].startswith("solo-") and len(p["metadata"]["name"]) == len("solo-") + 5
        for p in owned
    )
    assert all(
        p["spec"]["restartPolicy"] == "Always"
        and p["spec"]["containers"][0]["imagePullPolicy"] == "IfNotPresent"
        for p in owned
    )
    victim = owned[0]["metadata"]["name"]
    sim.store.delete(PODS, NS, victim)
    sim.step(20)
    owned = _owned(sim)
    assert len(owned) == 3 and victim not in {p["metadata"]["name"] for p in owned}
    st = sim.store.get(REPLICASETS, NS, "solo")["status"]
    assert st["replicas"] == 3 and st["readyReplicas"] == 3 and st["availableReplicas"] == 3
    assert len(events(sim, reason="SuccessfulCreate", name_prefix="solo")) == 4
    killing = events(sim, reason="Killing", name_prefix=victim)
    assert killing and killing[0]["message"] == "Stopping container c"


def test_scale_down_removes_unready_pods_first():
    sim = make_sim()
    sim.store.create(REPLICASETS, _rs(replicas=2))
    sim.step(20)
    rs = sim.store.get(REPLICASETS, NS, "solo")
    rs["spec"]["replicas"] = 3
    sim.store.update(REPLICASETS, rs)
    sim.step(0)  # the new pod exists but is not scheduled yet... then scale back down at once
    newest = max(
        _owned(sim), key=lambda p: p["metadata"]["creationTimestamp"] + p["metadata"]["resourceVersion"]
    )
    assert (
        not newest["status"].get("containerStatuses") or not newest["status"]["containerStatuses"][0]["ready"]
    )
    rs = sim.store.get(REPLICASETS, NS, "solo")
    rs["spec"]["replicas"] = 2
    sim.store.update(REPLICASETS, rs)
    sim.step(5)
    names = {p["metadata"]["name"] for p in _owned(sim)}
    assert newest["metadata"]["name"] not in names and len(names) == 2


def test_scheduler_spreads_pods_and_respects_allocatable():
    sim = make_sim(nodes=2)
    sim.store.create(REPLICASETS, _rs(replicas=4, memory="3Gi"))
    sim.step(30)
    owned = _owned(sim)
    bound = [p for p in owned if p["spec"].get("nodeName")]
    assert len(bound) == 4
    assert sorted(p["spec"]["nodeName"] for p in bound) == ["sandbox-worker-1"] * 2 + ["sandbox-worker-2"] * 2
    rs = sim.store.get(REPLICASETS, NS, "solo")
    rs["spec"]["replicas"] = 5
    sim.store.update(REPLICASETS, rs)
    sim.step(30)
    pending = [p for p in _owned(sim) if not p["spec"].get("nodeName")]
    assert len(pending) == 1
    msg = events(sim, reason="FailedScheduling", name_prefix="solo")[0]["message"]
    assert msg.startswith("0/2 nodes are available: 2 Insufficient memory.")
    # Capacity frees up: the pending pod is bound without waiting for the periodic retry.
    sim.store.delete(PODS, NS, next(p for p in _owned(sim) if p["spec"].get("nodeName"))["metadata"]["name"])
    rs = sim.store.get(REPLICASETS, NS, "solo")
    rs["spec"]["replicas"] = 4
    sim.store.update(REPLICASETS, rs)
    sim.step(1)
    assert all(p["spec"].get("nodeName") for p in _owned(sim))


def test_missing_replicaset_key_is_harmless():
    sim = make_sim()
    sim.replicasets.sync(("nowhere", "nothing"))
    sim.step(1)
    assert sim.store.find(REPLICASETS, "nowhere", "nothing") is None
    assert not sim.errors
