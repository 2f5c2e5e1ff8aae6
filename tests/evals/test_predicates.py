"""Hand-written fix checks over plain objects (pure)."""

from __future__ import annotations

import pytest

from evals.expectations import AnyOf, FixCheck
from evals.predicates import MISSING, compare, fixed, resolve, workload_healthy

WEB = "Deployment shop/web-api"
OBJ = {
    "kind": "Deployment",
    "metadata": {"generation": 3},
    "spec": {
        "replicas": 2,
        "template": {"spec": {"containers": [{"name": "app", "env": [{"name": "DB_HOST", "value": "pg"}],
                                              "resources": {"limits": {"memory": "256Mi"}}}]}},
    },
    "status": {"observedGeneration": 3, "replicas": 2, "readyReplicas": 2, "updatedReplicas": 2,
               "availableReplicas": 2},
}  # fmt: skip


def test_paths_select_list_items_by_name_or_index():
    assert resolve(OBJ, "spec.template.spec.containers[app].env[DB_HOST].value") == "pg"
    assert resolve(OBJ, "spec.template.spec.containers[0].name") == "app"
    assert resolve(OBJ, "spec.template.spec.containers[other].name") is MISSING
    with pytest.raises(ValueError, match="bad field path"):
        resolve(OBJ, "spec..x")


@pytest.mark.parametrize(
    ("op", "actual", "want", "holds"),
    [
        ("quantity_gte", "256Mi", "128Mi", True),
        ("quantity_gte", "100M", "128Mi", False),
        ("quantity_lte", "0.5", "500m", True),
        ("int_gte", "3", 1, True),
        ("in", 8080, [8080, "http"], True),
        ("not_in", "x", ["y"], True),
        ("matches", "ghcr.io/a:1.2", r":1\.", True),
        ("absent", MISSING, None, True),
        ("ne", MISSING, "nvme", True),
        ("eq", MISSING, "x", False),
        ("present", MISSING, None, False),
    ],
)
def test_compare(op, actual, want, holds):
    assert compare(op, actual, want) is holds


def test_health_needs_every_pod_ready_and_up_to_date():
    assert workload_healthy(OBJ)
    assert not workload_healthy({**OBJ, "status": {**OBJ["status"], "readyReplicas": 1}})
    assert not workload_healthy({**OBJ, "status": {**OBJ["status"], "observedGeneration": 2}})
    assert not workload_healthy(None)


def test_a_check_holds_on_the_live_object_and_on_gits():
    mem = "spec.template.spec.containers[app].resources.limits.memory"
    check = FixCheck(resource=WEB, field=mem, op="quantity_gte", value="200Mi")
    git_cut = {WEB: {**OBJ, "spec": {"template": {"spec": {"containers": [
        {"name": "app", "resources": {"limits": {"memory": "48Mi"}}}]}}}}}  # fmt: skip
    assert fixed([check], {WEB: OBJ}, {WEB: OBJ})
    assert not fixed([check], {WEB: OBJ}, git_cut)  # Git would bring the fault back
    assert fixed([check.model_copy(update={"in_git": False})], {WEB: OBJ}, git_cut)
    secret = FixCheck(resource="Secret shop/s", field="data.k", op="present", in_git=False)
    either = AnyOf(any=[secret, check])
    assert fixed([either, FixCheck(resource=WEB, op="healthy")], {WEB: OBJ}, {})


def test_malformed_checks_are_refused():
    with pytest.raises(ValueError, match="needs a field"):
        FixCheck(resource=WEB, op="eq", value=1)
    with pytest.raises(ValueError, match="takes no field"):
        FixCheck(resource=WEB, op="healthy", field="x")
    with pytest.raises(ValueError, match="needs a list"):
        FixCheck(resource=WEB, field="x", op="in", value=1)
