"""The real eval agent's mapping of run records to what the scorers read (the end-to-end runs are in
tests/evals/test_subset.py and test_llm_providers.py)."""

from __future__ import annotations

from agent.trace import TraceEvent, TraceEventType
from paramedic.eval_agent import _Timeline, graph_agent, patch_fields
from server.run_service import INTAKE


def test_patch_fields_name_the_leaves_with_list_items_keyed_by_name() -> None:
    patch = {
        "spec": {
            "replicas": 2,
            "template": {"spec": {"containers": [{"name": "app", "image": "x", "env": [{"name": "A"}]}]}},
        }
    }
    assert sorted(patch_fields(patch)) == [
        "spec.replicas",
        "spec.template.spec.containers[app].env[A]",
        "spec.template.spec.containers[app].image",
    ]
    assert patch_fields([{"value": 1}, 3]) == ["[0].value", "[1]"]
    assert patch_fields({}) == [] and patch_fields(None) == []


def test_the_report_names_the_agent_graph_agent() -> None:
    # RunInfo.agent is the agent's __name__: reports before and after the move compare equal.
    assert graph_agent.__name__ == "graph_agent"


class _Env:
    """The two clocks the timeline stamps events with."""

    def elapsed_sim(self) -> float:
        return 12.0

    def elapsed_wall(self) -> float:
        return 1.0


def test_the_timeline_marks_runs_a_watcher_sighting_folded_into() -> None:
    # An alert opened the run first; the watcher's sighting of the workload folds into it (an intake
    # note naming its trigger): the scorers count that as the watcher's detection.
    timeline = _Timeline(env=_Env())  # type: ignore[arg-type]  # only the clocks are read
    for run_id, trigger in (("r-watched", "watcher"), ("r-alerts", "alert")):
        note = TraceEvent(run_id=run_id, type=TraceEventType.NOTE, node=INTAKE, summary="folded",
                          payload={"trigger": trigger})  # fmt: skip
        timeline.on_event(note)
    other = TraceEvent(run_id="r-other", type=TraceEventType.NOTE, node="analyst", summary="x",
                       payload={"trigger": "watcher"})  # fmt: skip
    timeline.on_event(other)
    assert timeline.watcher_sighted == {"r-watched"}
