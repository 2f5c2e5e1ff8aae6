"""A ParamedicWatch's mode and thresholds apply only to the watcher's incidents for that watch;
an alert or a manual trigger carrying the same labels changes nothing."""

from __future__ import annotations

import pytest

from agent.config import Mode, Thresholds
from agent.domain import Incident, Trigger
from agent.watch_labels import ACT_LABEL, ASK_LABEL, MODE_LABEL, WATCH_LABEL
from graph.overrides import effective_config
from tests.agent import evidence_samples as samples

BASE = (Mode.REPORT, Thresholds(act=0.8, ask=0.5))


def _incident(trigger: Trigger, **labels: str) -> Incident:
    return samples.incident().model_copy(update={"trigger": trigger, "labels": labels})


def test_a_watch_sets_mode_and_thresholds_for_its_incidents() -> None:
    incident = _incident(
        Trigger.WATCHER,
        **{WATCH_LABEL: "shop/web", MODE_LABEL: "autonomous", ACT_LABEL: "0.7", ASK_LABEL: "0.4"},
    )
    mode, thresholds, notes = effective_config(*BASE, incident)
    assert mode is Mode.AUTONOMOUS and thresholds == Thresholds(act=0.7, ask=0.4)
    assert len(notes) == 2 and all("shop/web" in n for n in notes)


@pytest.mark.parametrize("trigger", [Trigger.ALERT, Trigger.MANUAL])
def test_labels_on_other_triggers_are_ignored(trigger: Trigger) -> None:
    incident = _incident(trigger, **{WATCH_LABEL: "shop/web", MODE_LABEL: "autonomous", ACT_LABEL: "0.1"})
    assert effective_config(*BASE, incident) == (*BASE, [])


def test_mode_labels_without_a_watch_are_ignored() -> None:
    assert effective_config(*BASE, _incident(Trigger.WATCHER, **{MODE_LABEL: "autonomous"})) == (*BASE, [])


@pytest.mark.parametrize(
    "labels",
    [{MODE_LABEL: "yolo"}, {ACT_LABEL: "2"}, {ACT_LABEL: "0.3", ASK_LABEL: "0.6"}, {ASK_LABEL: "abc"}],
)
def test_malformed_overrides_are_refused_and_said_so(labels: dict[str, str]) -> None:
    mode, thresholds, notes = effective_config(
        *BASE, _incident(Trigger.WATCHER, **{WATCH_LABEL: "a/b", **labels})
    )
    assert (mode, thresholds) == BASE
    assert notes and all(n.startswith("ignored") for n in notes)
