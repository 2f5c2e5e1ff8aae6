"""The real eval agent's mapping of run records to what the scorers read (the end-to-end runs are in
tests/evals/test_subset.py and test_llm_providers.py)."""

from __future__ import annotations

from paramedic.eval_agent import graph_agent, patch_fields


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
