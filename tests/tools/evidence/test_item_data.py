"""The evidence contract: producers write exactly the keys they set, readers never fail on bad data."""

from __future__ import annotations

import json

import pytest

from tools.evidence.item_data import (
    CommitData,
    ContainerStatusData,
    EventData,
    LogData,
    ManifestData,
    MetricData,
    NodeStatusData,
    OtherStatusData,
    PodStatusData,
    RolloutData,
    WorkloadStatusData,
    read_status,
)

GARBAGE = [None, True, 3.5, "x", [1, "a", None], {"nested": object.__name__}, -7]
MODELS = [
    PodStatusData,
    WorkloadStatusData,
    NodeStatusData,
    OtherStatusData,
    ContainerStatusData,
    EventData,
    LogData,
    MetricData,
    ManifestData,
    CommitData,
    RolloutData,
]


def test_dump_holds_only_the_keys_a_producer_set_in_declaration_order() -> None:
    pod = PodStatusData(
        object_kind="Pod",
        pod="web-1",
        node="",
        conditions=[{"type": "Ready", "status": "False"}],
        containers=[ContainerStatusData(name="app", ready=False, exit_code=137)],
        reason=None,  # None is "not shown": absent from the dump
    )
    assert pod.dump() == {
        "object_kind": "Pod",
        "pod": "web-1",
        "node": "",
        "conditions": [{"type": "Ready", "status": "False"}],
        "containers": [{"name": "app", "ready": False, "exit_code": 137}],
    }
    assert list(pod.dump()) == ["object_kind", "pod", "node", "conditions", "containers"]
    json.dumps(pod.dump())


def test_a_dump_reads_back_to_the_same_model_and_extra_keys_survive() -> None:
    data = {"sha": "ab" * 20, "files": ["a.yaml"], "reviewed_by": "ops"}
    commit = CommitData.read(data)
    assert commit.dump() == data and commit.files == ["a.yaml"]
    assert CommitData.read(commit.dump()) == commit


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_reading_garbage_never_raises_and_wrong_types_read_as_absent(model) -> None:
    for value in GARBAGE:
        data = {name: value for name in model.model_fields}
        parsed = model.read(data)
        for name, field in model.model_fields.items():
            got = getattr(parsed, name)
            assert got is None or isinstance(got, str | int | float | bool | list | dict), (name, got)
            if value is None:
                assert got == field.default


def test_lenient_reads_keep_what_the_rules_used_to_accept() -> None:
    c = ContainerStatusData.read({"restart_count": "4", "exit_code": True, "ready": "yes", "name": 5})
    assert (c.restart_count, c.exit_code, c.ready, c.name) == (4, None, None, "")
    m = MetricData.read({"value": "1.5", "limit": False, "samples": [1, "2", "x", None, True]})
    assert (m.value, m.limit, m.samples) == (1.5, None, [1.0, 2.0])
    assert LogData.read({"previous": "true"}).previous is False  # only a real true counts
    assert ManifestData.read({"keys": "A"}).keys is None and ManifestData.read({"keys": [1]}).keys == ["1"]
    assert NodeStatusData.read({"allocatable": {"cpu": 2}}).allocatable == {"cpu": "2"}
    assert RolloutData.read({"revision": "3", "template": []}).template == {}


@pytest.mark.parametrize(
    ("data", "model"),
    [
        ({"object_kind": "Pod", "pod": "p"}, PodStatusData),
        ({"pod": "p"}, PodStatusData),  # untagged (older) status data reads as a pod
        ({}, PodStatusData),
        ({"object_kind": "Deployment", "replicas": 0}, WorkloadStatusData),
        ({"object_kind": "StatefulSet"}, WorkloadStatusData),
        ({"object_kind": "Node", "node": "n"}, NodeStatusData),
        ({"object_kind": "Verification", "attempt": 1, "healthy": False}, OtherStatusData),
    ],
)
def test_status_data_is_a_union_discriminated_by_object_kind(data, model) -> None:
    parsed = read_status(data)
    assert type(parsed) is model
    assert parsed.dump() == data


def test_a_kind_that_is_not_text_reads_as_untagged() -> None:
    assert type(read_status({"object_kind": 5, "pod": "p"})) is PodStatusData
