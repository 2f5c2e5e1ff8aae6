"""The rules' view of the evidence: items written with the contract's models read back as
observations; older, bare or wrong-typed data degrades to what can still be read."""

from __future__ import annotations

from agent.domain import EvidenceItem, EvidenceKind
from agent.reasoners.rules.evidence_view import EvidenceView
from tests.agent import evidence_samples as s
from tools.evidence.item_data import (
    CommitData,
    ConditionData,
    ContainerStatusData,
    LogData,
    ManifestData,
    NodeStatusData,
    PodStatusData,
    RolloutData,
    WorkloadStatusData,
)


def _item(id_: str, kind: EvidenceKind, data: dict, text: str = "") -> EvidenceItem:
    return EvidenceItem(id=id_, kind=kind, source=id_, text=text, data=data)


def test_items_written_with_the_contract_read_back_as_observations() -> None:
    pod = PodStatusData(
        object_kind="Pod",
        pod="web-1",
        node="node-a",
        phase="Running",
        conditions=[ConditionData(type="Ready", status="False")],
        containers=[
            ContainerStatusData(
                name="app", ready=False, restart_count=3, waiting_reason="CrashLoopBackOff", exit_code=137
            )
        ],
    )
    view = EvidenceView(
        s.evidence(
            _item("status:pod/web-1", EvidenceKind.STATUS, pod.dump()),
            _item(
                "status:deployment/web-api",
                EvidenceKind.STATUS,
                WorkloadStatusData(
                    object_kind="Deployment", name="web-api", replicas=2, ready_replicas=0
                ).dump(),
            ),
            _item(
                "status:node/node-a",
                EvidenceKind.STATUS,
                NodeStatusData(
                    object_kind="Node",
                    node="node-a",
                    allocatable={"memory": "4Gi"},
                    conditions=[ConditionData(type="MemoryPressure", status="True")],
                ).dump(),
            ),
            _item("log:web-1:app:previous", EvidenceKind.LOG, LogData(pod="web-1", container="app").dump()),
            _item("commit:ab12", EvidenceKind.COMMIT, CommitData(sha="ab12" * 10, diff="+x: 1").dump()),
            _item("rollout:2", EvidenceKind.ROLLOUT, RolloutData(revision=2, current=True).dump()),
        )
    )
    [c] = view.containers
    assert (c.pod, c.name, c.ready, c.restart_count, c.exit_code) == ("web-1", "app", False, 3, 137)
    [p] = view.pods
    assert p.node == "node-a" and p.condition("Ready").status == "False"
    assert view.workload("web-api").ready_replicas == 0 and view.unhealthy()
    assert view.nodes[0].pressures() == ["MemoryPressure"] and view.nodes[0].allocatable == {"memory": "4Gi"}
    assert view.logs[0].previous  # the id says so, though the data does not
    assert view.commits[0].changed_lines() == ["+x: 1"]
    assert view.current_revision.revision == 2 and view.previous_revision is None


def test_wrong_typed_values_read_as_absent() -> None:
    view = EvidenceView(
        s.evidence(
            _item(
                "status:pod/p",
                EvidenceKind.STATUS,
                {
                    "object_kind": "Pod",
                    "pod": 7,
                    "conditions": "Ready",
                    "containers": [{"name": "app", "restart_count": True, "ready": "no"}, "junk"],
                },
            ),
            _item("rollout:x", EvidenceKind.ROLLOUT, {"revision": "two", "template": []}),
            _item("metric:m", EvidenceKind.METRIC, {"value": "high", "samples": "1,2"}),
        )
    )
    [c] = view.containers
    assert (c.pod, c.restart_count, c.ready) == ("status:pod/p", 0, None)
    assert view.pods[0].conditions == ()
    assert view.rollouts == []  # a revision that is not a number says nothing
    assert view.metrics[0].peak is None


def test_older_and_bare_status_data_still_reads() -> None:
    view = EvidenceView(
        s.evidence(
            _item("status:pod/old", EvidenceKind.STATUS, {"pod": "old", "phase": "Pending"}),  # untagged
            _item("status:pod/bare", EvidenceKind.STATUS, {}, text="waiting ImagePullBackOff restarts 2"),
            _item("verification:1", EvidenceKind.STATUS, {"object_kind": "Verification", "healthy": False}),
        )
    )
    assert [p.phase for p in view.pods] == ["Pending"]
    [c] = view.containers  # the bare item, recognised in its text; the verification is neither
    assert (c.item_id, c.waiting_reason, c.restart_count) == ("status:pod/bare", "ImagePullBackOff", 2)


def test_manifest_kind_name_and_keys_come_from_the_manifest_when_not_given() -> None:
    body = {"kind": "ConfigMap", "metadata": {"name": "web-api-config"}, "data": {"A": "1", "B": "2"}}
    view = EvidenceView(
        s.evidence(
            _item(
                "manifest:configmap/web-api-config", EvidenceKind.MANIFEST, ManifestData(manifest=body).dump()
            )
        )
    )
    [m] = view.manifests
    assert (m.kind, m.name, m.keys) == ("ConfigMap", "web-api-config", ("A", "B"))
