from __future__ import annotations

from typing import Any

import pytest

from agent.domain import WorkloadRef
from server.watcher.owner_resolver import OwnerResolver
from tests.server.watcher import objects as o
from tools.result import ToolFailure

Obj = dict[str, Any]


def _owned(kind: str, name: str, namespace: str = "shop", owner: tuple[str, str] | None = None) -> Obj:
    metadata: Obj = {"name": name, "namespace": namespace, "uid": f"uid-{name}"}
    if owner:
        metadata["ownerReferences"] = [
            {
                "apiVersion": "apps/v1",
                "kind": owner[0],
                "name": owner[1],
                "uid": f"uid-{owner[1]}",
                "controller": True,
            }
        ]
    return {"kind": kind, "metadata": metadata}


class FakeApi:
    """Objects by (kind, namespace, name), counting reads; `fail` makes every read a ToolFailure."""

    def __init__(self, *objects: Obj, fail: bool = False) -> None:
        self.objects = {
            (obj["kind"], obj["metadata"]["namespace"], obj["metadata"]["name"]): obj for obj in objects
        }
        self.reads: list[tuple[str, str, str]] = []
        self.fail = fail

    def read(self, kind: str, namespace: str, name: str) -> Obj | None:
        self.reads.append((kind, namespace, name))
        if self.fail:
            raise ToolFailure("get replicaset: cannot reach the API server")
        return self.objects.get((kind, namespace, name))


def test_pod_resolves_through_its_replicaset_to_the_deployment_and_is_cached() -> None:
    api = FakeApi(_owned("ReplicaSet", "web-api-7d9f8c6b5", owner=("Deployment", "web-api")))
    resolver = OwnerResolver(api.read)
    expected = WorkloadRef(namespace="shop", kind="Deployment", name="web-api")
    assert resolver.workload_of(o.pod()) == expected
    assert resolver.workload_of(o.pod(name="web-api-7d9f8c6b5-other")) == expected
    assert api.reads == [("ReplicaSet", "shop", "web-api-7d9f8c6b5")]


def test_replicaset_without_an_owner_is_the_workload() -> None:
    api = FakeApi(_owned("ReplicaSet", "web-api-7d9f8c6b5"))
    assert OwnerResolver(api.read).workload_of(o.pod()) == WorkloadRef(
        namespace="shop", kind="ReplicaSet", name="web-api-7d9f8c6b5"
    )


@pytest.mark.parametrize("fail", [True, False])
def test_unreadable_or_missing_replicaset_falls_back_to_the_template_hash_naming(fail: bool) -> None:
    api = FakeApi(fail=fail)
    resolver = OwnerResolver(api.read)
    assert resolver.workload_of(o.pod()) == WorkloadRef(namespace="shop", kind="Deployment", name="web-api")
    resolver.workload_of(o.pod())
    assert len(api.reads) == 2  # failures are not cached: the next pod event asks again


def test_replicaset_with_a_foreign_name_and_no_object_stays_a_replicaset() -> None:
    pod = o.pod(rs="legacy-rs", template_hash="abc12")
    assert OwnerResolver(FakeApi().read).workload_of(pod) == WorkloadRef(
        namespace="shop", kind="ReplicaSet", name="legacy-rs"
    )


def test_replaced_replicaset_of_the_same_name_is_not_trusted() -> None:
    other = _owned("ReplicaSet", "web-api-7d9f8c6b5", owner=("Deployment", "impostor"))
    other["metadata"]["uid"] = "a-different-uid"
    assert OwnerResolver(FakeApi(other).read).workload_of(o.pod()) == WorkloadRef(
        namespace="shop", kind="Deployment", name="web-api"
    )


def test_job_of_a_cronjob_targets_the_cronjob() -> None:
    api = FakeApi(_owned("Job", "report-29155000", owner=("CronJob", "report")))
    pod = o.pod(name="report-29155000-abcde")
    pod["metadata"]["ownerReferences"] = [
        {"kind": "Job", "name": "report-29155000", "uid": "uid-report-29155000", "controller": True}
    ]
    assert OwnerResolver(api.read).workload_of(pod) == WorkloadRef(
        namespace="shop", kind="CronJob", name="report"
    )


def test_statefulset_and_bare_pods_need_no_reads() -> None:
    api = FakeApi()
    pod = o.pod(name="postgres-0")
    pod["metadata"]["ownerReferences"] = [
        {"kind": "StatefulSet", "name": "postgres", "uid": "u", "controller": True}
    ]
    resolver = OwnerResolver(api.read)
    assert resolver.workload_of(pod) == WorkloadRef(namespace="shop", kind="StatefulSet", name="postgres")
    assert resolver.workload_of(o.pod(name="debug", rs=None)) == WorkloadRef(
        namespace="shop", kind="Pod", name="debug"
    )
    assert api.reads == []


def test_nameless_objects_resolve_to_nothing() -> None:
    assert OwnerResolver(FakeApi().read).workload_of({"metadata": {"namespace": "shop"}}) is None


def test_cache_is_bounded() -> None:
    objs = [_owned("ReplicaSet", f"app{i}-hash{i}", owner=("Deployment", f"app{i}")) for i in range(5)]
    resolver = OwnerResolver(FakeApi(*objs).read, max_entries=3)
    for i in range(5):
        resolver.workload_of(o.pod(name=f"app{i}-hash{i}-x", rs=f"app{i}-hash{i}", template_hash=f"hash{i}"))
    assert len(resolver) == 3
