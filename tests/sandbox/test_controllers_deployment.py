"""The Deployment controller: rolling updates, revisions, history, deadlines and the Recreate strategy."""

from sandbox.controllers.rollout import template_hash
from sandbox.resources import DEPLOYMENTS, REPLICASETS
from tests.sandbox.physics_helpers import (
    DATABASE_ENV,
    NS,
    available,
    events,
    get_deploy,
    make_sim,
    pods,
    postgres,
    serving_web_api,
    web_api,
)


def _replicasets(sim, prefix="web-api-"):
    items, _ = sim.store.list(REPLICASETS, NS, predicate=lambda r: r["metadata"]["name"].startswith(prefix))
    return sorted(items, key=lambda r: int(r["metadata"]["annotations"]["deployment.kubernetes.io/revision"]))


def _patch(sim, mutate, name="web-api"):
    d = get_deploy(sim, name)
    mutate(d)
    sim.store.update(DEPLOYMENTS, d)


def _set_container(sim, **fields):
    def mutate(d):
        d["spec"]["template"]["spec"]["containers"][0].update(fields)

    _patch(sim, mutate)


def _ready_pods(sim, app="web-api"):
    return [
        p
        for p in pods(sim, app)
        if any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions") or [])
    ]


def test_rollout_from_broken_to_fixed_template_heals():
    sim = make_sim()
    postgres(sim)
    sim.store.create(DEPLOYMENTS, web_api(replicas=3, env=[]))  # missing DATABASE_URL -> crash loop
    sim.step(120)
    assert not available(sim, "web-api", 3)
    assert get_deploy(sim, "web-api")["status"].get("availableReplicas", 0) == 0
    _set_container(sim, env=[DATABASE_ENV])
    assert sim.wait_until(lambda: available(sim, "web-api", 3), 300)
    d = get_deploy(sim, "web-api")
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    rss = _replicasets(sim)
    assert [r["spec"]["replicas"] for r in rss] == [0, 3]
    assert all(
        p["metadata"]["labels"]["pod-template-hash"] == rss[-1]["metadata"]["labels"]["pod-template-hash"]
        for p in pods(sim, "web-api")
    )
    assert all(p["status"]["containerStatuses"][0]["restartCount"] == 0 for p in pods(sim, "web-api"))


def test_wrong_patch_does_not_heal():
    sim = make_sim()
    postgres(sim)
    sim.store.create(DEPLOYMENTS, web_api(replicas=2, env=[]))
    sim.step(60)
    _set_container(sim, env=[{"name": "DATABASE_URI", "value": "postgres://app:pw@postgres:5432/shop"}])
    sim.step(300)
    assert get_deploy(sim, "web-api")["status"].get("availableReplicas", 0) == 0


def _rolling(sim, replicas=4, **spec_extra):
    postgres(sim)
    spec = web_api(replicas=replicas)
    spec["spec"]["strategy"] = {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 1},
    }
    spec["spec"].update(spec_extra)
    sim.store.create(DEPLOYMENTS, spec)
    assert sim.wait_until(lambda: available(sim, "web-api", replicas), 120)
    return pods(sim, "web-api")[0]["metadata"]["labels"]["pod-template-hash"]


def test_rollout_from_fixed_to_broken_keeps_old_pods_serving_within_max_unavailable():
    sim = make_sim()
    old_hash = _rolling(sim)
    _set_container(sim, env=[])  # the new template crashes on start (KeyError: 'DATABASE_URL')
    low = 4
    for _ in range(300):
        sim.step(1)
        low = min(
            low,
            len([p for p in _ready_pods(sim) if p["metadata"]["labels"]["pod-template-hash"] == old_hash]),
        )
    assert low >= 3  # never below replicas - maxUnavailable
    st = get_deploy(sim, "web-api")["status"]
    assert st["availableReplicas"] == 3 and st["updatedReplicas"] == 2 and st["replicas"] == 5
    assert st["unavailableReplicas"] == 2
    old, new = _replicasets(sim)
    assert old["spec"]["replicas"] == 3 and new["spec"]["replicas"] == 2
    conds = {c["type"]: c for c in st["conditions"]}
    assert conds["Available"]["status"] == "True"
    assert conds["Progressing"]["status"] == "True"
    assert conds["Progressing"]["reason"] in ("ReplicaSetUpdated", "NewReplicaSetCreated")


def test_min_ready_seconds_holds_the_rollout_when_new_pods_die_after_becoming_ready():
    sim = make_sim()
    old_hash = _rolling(sim, minReadySeconds=30)
    _set_container(sim, image="ghcr.io/paramedic-demo/web-api:1.6.0")  # needs 420Mi: OOMKilled after ~10s
    sim.step(300)
    old = [p for p in pods(sim, "web-api") if p["metadata"]["labels"]["pod-template-hash"] == old_hash]
    assert len(old) == 3
    new = [p for p in pods(sim, "web-api") if p["metadata"]["labels"]["pod-template-hash"] != old_hash]
    assert all(
        p["status"]["containerStatuses"][0]["lastState"]["terminated"]["reason"] == "OOMKilled" for p in new
    )
    assert get_deploy(sim, "web-api")["status"]["availableReplicas"] == 3


def test_progress_deadline_exceeded():
    sim = make_sim()
    postgres(sim)
    spec = web_api(replicas=2, tag="9.9.9")
    spec["spec"]["progressDeadlineSeconds"] = 60
    sim.store.create(DEPLOYMENTS, spec)
    sim.step(120)
    conds = {c["type"]: c for c in get_deploy(sim, "web-api")["status"]["conditions"]}
    assert conds["Progressing"]["status"] == "False"
    assert conds["Progressing"]["reason"] == "ProgressDeadlineExceeded"
    assert conds["Progressing"]["message"].endswith("has timed out progressing.")
    assert conds["Available"]["reason"] == "MinimumReplicasUnavailable"


def test_revisions_change_cause_rollback_and_history_limit():
    sim = make_sim()
    postgres(sim)
    spec = web_api(replicas=1)
    spec["spec"]["revisionHistoryLimit"] = 2
    spec["metadata"]["annotations"] = {"kubernetes.io/change-cause": "initial"}
    sim.store.create(DEPLOYMENTS, spec)
    assert sim.wait_until(lambda: available(sim, "web-api", 1), 120)
    first_template = get_deploy(sim, "web-api")["spec"]["template"]
    for i, tag in enumerate(("1.4.0", "1.4.1", "1.5.0-does-not-matter", "latest")):

        def mutate(d, tag=tag, i=i):
            d["spec"]["template"]["spec"]["containers"][0]["image"] = f"ghcr.io/paramedic-demo/web-api:{tag}"
            d["metadata"]["annotations"]["kubernetes.io/change-cause"] = f"change {i}"

        _patch(sim, mutate)
        sim.step(60)
    rss = _replicasets(sim)
    revs = [r["metadata"]["annotations"]["deployment.kubernetes.io/revision"] for r in rss]
    assert revs == ["3", "4", "5"]  # revisionHistoryLimit=2 old ReplicaSets kept, plus the current one
    assert rss[-1]["metadata"]["annotations"]["kubernetes.io/change-cause"] == "change 3"
    assert get_deploy(sim, "web-api")["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "5"
    # `kubectl rollout undo --to-revision=3`: the client copies revision 3's template back.
    rev3 = rss[0]["spec"]["template"]

    def undo(d):
        t = dict(rev3)
        t["metadata"] = {k: v for k, v in rev3["metadata"].items()}
        t["metadata"]["labels"] = {
            k: v for k, v in rev3["metadata"]["labels"].items() if k != "pod-template-hash"
        }
        d["spec"]["template"] = t

    _patch(sim, undo)
    sim.step(60)
    assert available(sim, "web-api", 1)
    rss = _replicasets(sim)
    top = rss[-1]
    assert top["metadata"]["name"] == _replicasets(sim)[-1]["metadata"]["name"]
    assert top["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "6"
    assert top["metadata"]["annotations"]["deployment.kubernetes.io/revision-history"] == "3"
    assert top["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":1.4.1")
    assert first_template != top["spec"]["template"]


def test_recreate_strategy_stops_old_pods_before_starting_new_ones():
    sim = make_sim()
    postgres(sim)
    spec = web_api(replicas=2)
    spec["spec"]["strategy"] = {"type": "Recreate"}
    sim.store.create(DEPLOYMENTS, spec)
    assert sim.wait_until(lambda: available(sim, "web-api", 2), 120)
    old_hash = pods(sim, "web-api")[0]["metadata"]["labels"]["pod-template-hash"]
    _set_container(sim, image="ghcr.io/paramedic-demo/web-api:1.4.1")
    mixed = False
    for _ in range(120):
        sim.step(1)
        hashes = {p["metadata"]["labels"]["pod-template-hash"] for p in pods(sim, "web-api")}
        mixed |= len(hashes) > 1
    assert not mixed
    assert available(sim, "web-api", 2)
    assert {p["metadata"]["labels"]["pod-template-hash"] for p in pods(sim, "web-api")} != {old_hash}


def test_template_hash_is_stable_and_ignores_its_own_label():
    t = {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "a", "image": "nginx"}]}}
    labelled = {"metadata": {"labels": {"app": "x", "pod-template-hash": "zzz"}}, "spec": t["spec"]}
    assert template_hash(t) == template_hash(labelled)
    assert template_hash(t) != template_hash(t, collision_count=1)
    assert set(template_hash(t)) <= set("bcdfghjklmnpqrstvwxz2456789")


def test_scaling_events_come_from_the_deployment_controller():
    sim = serving_web_api(2)
    ev = events(sim, reason="ScalingReplicaSet", name_prefix="web-api")
    assert ev[0]["source"] == {"component": "deployment-controller"}
    assert ev[0]["involvedObject"]["kind"] == "Deployment"
