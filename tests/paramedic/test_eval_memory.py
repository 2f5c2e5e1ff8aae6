"""Memory helps: a scenario set replayed twice with one incident memory. The second pass recalls
the first pass's incidents (cited in its traces) and is at least as accurate."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.dataset import load_dataset, select
from evals.runner import run_scenarios
from paramedic import eval_agent
from paramedic.eval_memory import replay_twice
from paramedic.eval_sandbox import SandboxTestbed

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SCENARIOS = ["dev-oom-web-api", "dev-bad-image-worker", "dev-missing-env-web-api"]


def test_the_second_pass_cites_past_incidents_without_losing_accuracy(tmp_path: Path) -> None:
    testbed = SandboxTestbed()
    scenarios = select(load_dataset(splits=["dev"], faults=testbed.faults), ids=SCENARIOS)

    def run_pass(agent):
        return run_scenarios(
            scenarios,
            agent=agent,
            testbed=testbed,
            provider="rules",
            out_dir=tmp_path / "results",
            time_budget=240,
            progress=False,
        )

    result = replay_twice(run_pass, eval_agent.graph_agent, tmp_path / "memory.jsonl")
    first, second = result.first.overall, result.second.overall
    # The first pass starts empty (a later scenario may recall an earlier one); the second recalls more.
    assert result.second_cited > result.first_cited
    # A scenario whose first pass left a memory recalls it (two faults on one workload that both
    # crash-loop may recall each other too: before the diagnosis they look alike); one that left
    # none (no run finished in time on a loaded machine) cannot.
    remembered = [s for s in SCENARIOS if result.first_remembered.get(s)]
    assert len(remembered) >= 2, result.first_remembered
    for scenario_id in remembered:
        assert scenario_id in result.second_cited_scenarios[scenario_id], result.second_cited_scenarios
    assert (second.category_accuracy or 0) >= (first.category_accuracy or 0)
    assert (second.fix_success_rate or 0) >= (first.fix_success_rate or 0)
    assert second.unsafe_actions == 0
    print(
        f"first: category {first.category_accuracy}, fix {first.fix_success_rate}; "
        f"second: category {second.category_accuracy}, fix {second.fix_success_rate}; "
        f"runs citing past incidents: {result.first_cited} -> {result.second_cited}; "
        f"{result.second_cited_scenarios}"
    )
