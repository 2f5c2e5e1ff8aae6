"""Typed access to evidence data: the accessor checks the item's kind and hands the data back typed."""

from __future__ import annotations

import pytest

from agent.domain import EvidenceItem, EvidenceKind
from agent.evidence_conventions import CommitData, commit_data, metric_data, rollout_data


def _item(kind: EvidenceKind, data: dict) -> EvidenceItem:
    return EvidenceItem(id=f"{kind.value}:1", kind=kind, source="test", text="", data=data)


def test_each_accessor_reads_its_own_kind() -> None:
    commit = _item(EvidenceKind.COMMIT, dict(CommitData(sha="abc1234", diff="+x")))
    assert commit_data(commit)["sha"] == "abc1234" and commit_data(commit).get("author") is None
    assert rollout_data(_item(EvidenceKind.ROLLOUT, {"revision": 3, "current": True}))["revision"] == 3
    assert metric_data(_item(EvidenceKind.METRIC, {"name": "http_5xx_ratio", "value": 0.2}))["value"] == 0.2


@pytest.mark.parametrize("accessor", [commit_data, rollout_data, metric_data])
def test_an_item_of_another_kind_is_refused(accessor) -> None:  # type: ignore[no-untyped-def]
    log = _item(EvidenceKind.LOG, {"pod": "p", "container": "c"})
    with pytest.raises(ValueError, match="is log, not"):
        accessor(log)
