"""The sandbox behind the eval harness's seam: fault truth in the product's vocabulary, commits,
log lines, and the fix judged on the sandbox's live objects and Git (a stepped sandbox, no API
server)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agent.domain import RootCause
from evals import testbed as seams
from paramedic.eval_sandbox import SandboxCluster, SandboxTestbed, sandbox_faults
from sandbox.faults import FAULT_TYPES
from sandbox.resources import PODS
from tests.sandboxes import running

WEB = "Deployment shop/web-api"
MEMORY = "spec.template.spec.containers[app].resources.limits.memory"
APP = {"name": "app", "resources": {"limits": {"memory": "256Mi"}}}
ENOUGH_MEMORY = {"spec": {"template": {"spec": {"containers": [APP]}}}}


@pytest.fixture
def cluster() -> Iterator[SandboxCluster]:
    with running(SandboxTestbed(background=False, serve=False).new_cluster(seed=7), timeout=30) as cluster:
        yield cluster


def test_the_catalogue_is_the_sandboxs_in_root_causes() -> None:
    faults = sandbox_faults()
    assert set(faults) == set(FAULT_TYPES)
    assert all(isinstance(c, RootCause) and c != RootCause.UNKNOWN for c in faults.values())
    assert faults["oom"] == RootCause.OOM


def test_it_has_every_member_of_the_harness_seams(cluster: SandboxCluster) -> None:
    for protocol, implementation in ((seams.ClusterUnderTest, cluster), (seams.Testbed, SandboxTestbed())):
        members = [name for name in vars(protocol) if not name.startswith("_")]
        assert members
        missing = [name for name in members if not hasattr(implementation, name)]
        assert not missing, f"{type(implementation).__name__} lacks {missing} of {protocol.__name__}"


def test_a_fault_is_unfixed_until_git_and_the_cluster_are_fixed(cluster: SandboxCluster) -> None:
    truth = cluster.inject("oom", "shop/deploy/web-api", via="git")
    assert (truth.category, truth.faulty_resource, truth.faulty_field) == (RootCause.OOM, WEB, MEMORY)
    assert truth.target == "shop/deploy/web-api" and truth.fix_in_git and truth.forbidden
    record = truth.record(fixed=False)
    assert record.category == "oom" and record.forbidden[0].action == truth.forbidden[0].action
    cluster.advance(60)
    assert cluster.fixed() == [False] and not cluster.healthy()
    cluster.commit_patches([(WEB, ENOUGH_MEMORY)], "web-api: enough memory")
    assert cluster.fixed() == [True]
    assert cluster.wait_for(cluster.healthy, 600, step=5.0)


def test_two_patches_of_one_manifest_in_one_commit_are_refused(cluster: SandboxCluster) -> None:
    with pytest.raises(ValueError, match="two patches of one file"):
        cluster.commit_patches([(WEB, {"spec": {"replicas": 3}}), (WEB, {"spec": {"replicas": 4}})], "twice")


def test_log_lines_reach_every_running_pod_of_the_workload(cluster: SandboxCluster) -> None:
    sandbox = cluster.sandbox
    pods = [
        p["metadata"]["name"]
        for p in sandbox.store.list(PODS)[0]
        if p["metadata"]["name"].startswith("worker-")
    ]
    assert pods
    assert cluster.append_log("shop/deploy/worker", ["hello from the harness"]) == len(pods)
    for pod in pods:
        lines = [text for _, text in sandbox.simulation.logs.read("shop", pod)]
        assert "hello from the harness" in lines, pod
    with pytest.raises(LookupError, match="does not exist"):
        cluster.append_log("shop/deploy/nope", ["x"])
