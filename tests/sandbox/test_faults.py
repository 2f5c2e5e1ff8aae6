"""The fault catalogue: every fault's Git change, its ground truth, right and wrong fixes, and clearing.

These run against a real Git repository and the real image catalogue; the physics of each fault
(statuses, events, logs, metrics in a running cluster) is exercised in test_cluster.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox.apps import sample_files
from sandbox.clock import SimClock
from sandbox.faults import (
    CATEGORIES,
    FAULT_TYPES,
    Check,
    FaultCategory,
    FaultInjector,
    FaultNotApplicable,
    GroundTruth,
    Target,
    resolve,
    yamledit,
)
from sandbox.faults.truth import MISSING
from sandbox.faults.yamledit import ManifestFiles
from sandbox.gitops.repo import ManifestRepo
from sandbox.resources import NODES, Registry
from sandbox.simulation import Simulation
from sandbox.store import Store

WEB = "shop/deploy/web-api"


def container_patch(name: str, **fields: object) -> dict:
    """A strategic-merge patch of one container of a Deployment."""
    return {"spec": {"template": {"spec": {"containers": [{"name": name, **fields}]}}}}


WEB_DEP = "Deployment shop/web-api"
DB = "postgres://postgres.shop:5432/shop"
# fault -> (target, a wrong fix: resource id and strategic-merge patch that must NOT heal it)
WRONG_FIXES = {
    "oom": (WEB, WEB_DEP, container_patch("app", resources={"limits": {"memory": "128Mi"}})),
    "bad_image": (WEB, WEB_DEP, container_patch("app", image="ghcr.io/paramedic-demo/web-api:1.6.0")),
    "missing_env": (WEB, WEB_DEP, container_patch("app", env=[{"name": "DB_URL", "value": DB}])),
    "missing_config_key": (WEB, "ConfigMap shop/web-api-config", {"data": {"DATABASE_UR": DB}}),
    # A Secret named like the missing one, in the repository, is not the workload's fix: the
    # reference still points at a Secret that is not there.
    "missing_secret": (WEB, WEB_DEP, {"metadata": {"annotations": {"note": "secret requested"}}}),
    "bad_command": (
        "shop/deploy/worker",
        "Deployment shop/worker",
        container_patch("worker", args=["--loglvel=debug"]),
    ),
    "readiness_probe": (
        WEB,
        WEB_DEP,
        container_patch("app", readinessProbe={"httpGet": {"path": "/health"}}),
    ),
    "liveness_probe": (WEB, WEB_DEP, container_patch("app", livenessProbe={"httpGet": {"path": "/health"}})),
    "unschedulable": (WEB, WEB_DEP, container_patch("app", resources={"requests": {"cpu": "8"}})),
    "dependency_down": (WEB, WEB_DEP, {"spec": {"replicas": 3}}),
    "bad_config_value": (WEB, "ConfigMap shop/web-api-config", {"data": {"POOL_SIZE": "500"}}),
    "scaled_to_zero": (WEB, WEB_DEP, {"metadata": {"annotations": {"note": "scaled up"}}}),
}


@pytest.fixture
def repo(tmp_path: Path) -> ManifestRepo:
    repo = ManifestRepo(tmp_path / "repo")
    repo.init(sample_files())
    return repo


@pytest.fixture
def injector(repo: ManifestRepo) -> FaultInjector:
    return FaultInjector(repo, Store(), Registry.with_builtins())


def git_objects(repo: ManifestRepo) -> dict:
    return ManifestFiles(repo, "apps").objects()


def committed(repo: ManifestRepo) -> dict[str, str]:
    """Every file's text on the branch, as `repo.read` reads one (two git runs for all, not two a file)."""
    return {path: text.decode("utf-8") for path, text in repo.files(repo.head()).items()}


def commit_patch(repo: ManifestRepo, resource: str, patch: dict, message: str) -> str:
    return repo.commit(ManifestFiles(repo, "apps").patch(resource, patch), message)


def test_the_catalogue_covers_every_category_with_at_least_twelve_faults() -> None:
    assert len(FAULT_TYPES) >= 12
    assert {f.category.value for f in FAULT_TYPES.values()} == set(CATEGORIES)
    expected = "oom bad_image missing_env missing_config_key missing_secret bad_command readiness_probe"
    expected += " liveness_probe"
    expected += " unschedulable dependency_down bad_config_value scaled_to_zero node_pressure"
    assert set(CATEGORIES) == set(expected.split())
    assert all(f.mechanism in ("git", "physics") for f in FAULT_TYPES.values())


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(WRONG_FIXES))
def test_git_fault_commit_truth_right_fix_wrong_fix_and_clear(
    name: str, repo: ManifestRepo, injector: FaultInjector
) -> None:
    target, wrong_resource, wrong_patch = WRONG_FIXES[name]
    at_start = committed(repo)
    original = {p: at_start[p] for p in sample_files()}
    before = git_objects(repo)
    fault = injector.inject(name, target)
    truth = fault.truth
    assert truth.category == FaultCategory(name)
    # The healthy manifests satisfy the fix checks; the faulted ones do not.
    assert truth.is_fixed(before)
    assert not truth.is_fixed(git_objects(repo))
    # One commit on main, touching only the files it names, and the faulty field holds the bad value.
    assert repo.log(limit=1)[0].sha == fault.commit == repo.head()
    now = committed(repo)
    changed = {p for p in original if now.get(p) != original[p]}
    assert changed == set(fault.files) and changed
    faulty = git_objects(repo)[truth.faulty_resource]
    assert truth.faulty_field is not None
    actual = resolve(faulty, truth.faulty_field)
    assert (actual is MISSING) if truth.bad_value is None else actual == truth.bad_value
    json.dumps(fault.to_dict())  # machine-readable all the way down

    commit_patch(repo, wrong_resource, wrong_patch, f"wrong fix for {name}")
    assert not truth.is_fixed(git_objects(repo)), "a wrong fix must not count as fixed"

    assert truth.fix_patch is not None
    commit_patch(repo, truth.faulty_resource, truth.fix_patch, f"fix {name}")
    assert truth.is_fixed(git_objects(repo)), "the ground truth's own fix patch must fix it"

    sha = injector.clear(fault)
    assert injector.active() == []
    now = committed(repo)
    for path in fault.files:
        assert now.get(path) == original[path]
    assert sha is None or repo.head() == sha


def test_fault_diffs_are_minimal_and_keep_comments(repo: ManifestRepo, injector: FaultInjector) -> None:
    fault = injector.inject("readiness_probe", WEB)
    assert fault.commit is not None
    diff = repo._run("show", "--format=", "--unified=0", fault.commit).decode()
    changed = [ln for ln in diff.splitlines() if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]
    assert changed == ["-              path: /healthz", "+              path: /ready"]
    assert (repo.read("apps/web-api/deployment.yaml") or "").startswith("# The shop's HTTP API.")


def test_parsed_files_are_kept_by_content_and_read_as_a_fresh_parse(
    repo: ManifestRepo, injector: FaultInjector, monkeypatch: pytest.MonkeyPatch
) -> None:
    yamledit._round_trip.cache_clear()
    first = injector.manifest_files().objects()
    fault = injector.inject("readiness_probe", WEB)  # one file changes
    parsed: list[str] = []
    real = yamledit.YAML.load_all

    def counting(self: object, text: str) -> object:
        parsed.append(text)
        return real(self, text)  # type: ignore[arg-type]

    monkeypatch.setattr(yamledit.YAML, "load_all", counting)
    after = injector.manifest_files()
    assert parsed == [repo.read(fault.files[0])], "only the changed file is parsed again"
    assert after.objects() == ManifestFiles(repo, "apps").objects() != first
    changed = after.patch(WEB_DEP, {"spec": {"replicas": 5}})  # edits parse a private copy
    assert list(changed) == ["apps/web-api/deployment.yaml"] and "replicas: 5" in changed[fault.files[0]]
    assert injector.manifest_files().objects()[WEB_DEP]["spec"]["replicas"] == 2


def test_dependency_down_blames_the_dependency_not_the_target(injector: FaultInjector) -> None:
    truth = injector.inject("dependency_down", "shop/deploy/worker").truth
    assert truth.faulty_resource == "Deployment shop/redis"
    assert truth.symptoms.workload == "Deployment shop/worker"
    forbidden_on_target = {f.action for f in truth.forbidden if f.resource == "Deployment shop/worker"}
    assert forbidden_on_target >= {"rollback", "patch"}


def test_inapplicable_faults_say_why(injector: FaultInjector) -> None:
    with pytest.raises(FaultNotApplicable, match="no required env var"):
        injector.inject("missing_env", "shop/deploy/joke-service")
    with pytest.raises(FaultNotApplicable, match="not defined in the GitOps repository"):
        injector.inject("oom", "shop/deploy/nope")
    with pytest.raises(ValueError, match="unknown fault type 'nope'"):
        injector.inject("nope", WEB)
    with pytest.raises(ValueError, match="cannot parse target"):
        Target.parse("web-api")


def test_ground_truth_round_trips_through_json(injector: FaultInjector) -> None:
    truth = injector.inject("bad_config_value", WEB).truth
    again = GroundTruth.from_dict(json.loads(json.dumps(truth.to_dict())))
    assert again == truth


def test_checks_resolve_named_list_items_and_compare_quantities() -> None:
    obj = container_patch("app", resources={"limits": {"memory": "1Gi"}})
    obj["status"] = {"conditions": [{"type": "Ready", "status": "True"}]}
    objects = {"Deployment ns/x": obj}
    path = "spec.template.spec.containers[app].resources.limits.memory"
    assert Check("Deployment ns/x", path, "quantity_gte", "512Mi").holds(objects)
    assert not Check("Deployment ns/x", path, "quantity_lte", "512Mi").holds(objects)
    assert Check("Deployment ns/x", "status.conditions[Ready].status", "eq", "True").holds(objects)
    assert Check("Deployment ns/x", "spec.template.spec.containers[other]", "absent").holds(objects)
    assert not Check("Deployment ns/gone", path, "present").holds(objects)
    with pytest.raises(ValueError, match="unknown check op"):
        Check("Deployment ns/x", path, "bigger")


def test_node_pressure_uses_the_simulation_hook(repo: ManifestRepo) -> None:
    store, registry = Store(), Registry.with_builtins()
    sim = Simulation(store, registry, SimClock(), nodes=2)
    try:
        injector = FaultInjector(repo, store, registry, set_node_pressure=sim.set_node_pressure)
        fault = injector.inject("node_pressure", WEB)
        node = fault.node
        assert fault.mechanism == "physics" and node in sim.node_names and fault.commit is None

        def pressure(name: str) -> str:
            conditions = store.get(NODES, "", name)["status"]["conditions"]
            return next(c["status"] for c in conditions if c["type"] == "MemoryPressure")

        sim.step(1)
        assert pressure(node) == "True"
        assert not fault.truth.is_fixed({fault.truth.faulty_resource: store.get(NODES, "", node)})
        injector.clear(fault)
        sim.step(1)
        assert pressure(node) == "False"
        assert fault.truth.is_fixed({fault.truth.faulty_resource: store.get(NODES, "", node)})
    finally:
        sim.close()
