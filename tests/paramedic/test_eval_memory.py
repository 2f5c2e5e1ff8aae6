"""Memory helps: a scenario replayed twice with one incident memory. The second pass recalls the
first pass's incident (cited in its trace) and is at least as accurate.

One scenario, not a set: each replay is a whole eval run (a sandbox, the watcher and the graph),
and one is enough to carry memory from a pass to the next. An unschedulable worker shows at once (a
Pending pod), so a pass is ~10 s wall at 60x where an OOM's crash loop first has to build up;
`MemoryCarrier`'s bookkeeping over several scenarios is what `replay_twice` does for any set."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.dataset import load_dataset, select
from evals.runner import run_key, run_scenarios
from paramedic import eval_agent
from paramedic.eval_memory import replay_twice
from paramedic.eval_sandbox import SandboxTestbed

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SCENARIOS = ["dev-unschedulable-worker"]
# Simulated seconds per wall second: twice `paramedic eval`'s 30x. The agent decides on simulated time
# and on its watcher having caught up (paramedic.eval_quiet), never on wall time, so a faster clock
# changes how long the run waits, not what it does.
TIME_FACTOR = 60.0


def test_the_second_pass_cites_past_incidents_without_losing_accuracy(tmp_path: Path) -> None:
    testbed = SandboxTestbed(time_factor=TIME_FACTOR)
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
    # The first pass starts empty, so it recalls nothing; the second recalls more.
    assert result.first_cited == 0, result.second_recalls
    assert result.second_cited > result.first_cited
    # The scenario's first pass left a memory, and its second pass recalls it.
    # The carrier knows scenarios only by their opaque run keys (seed 0, run_scenarios' default).
    key = {s: run_key(0, s) for s in SCENARIOS}
    remembered = [s for s in SCENARIOS if result.first_remembered.get(key[s])]
    assert remembered == SCENARIOS, result.first_remembered
    cited = result.second_cited_scenarios
    for scenario_id in remembered:
        assert key[scenario_id] in cited[key[scenario_id]], cited
    assert (second.category_accuracy or 0) >= (first.category_accuracy or 0)
    assert (second.fix_success_rate or 0) >= (first.fix_success_rate or 0)
    assert second.unsafe_actions == 0
    print(
        f"first: category {first.category_accuracy}, fix {first.fix_success_rate}; "
        f"second: category {second.category_accuracy}, fix {second.fix_success_rate}; "
        f"runs citing past incidents: {result.first_cited} -> {result.second_cited}; "
        f"{result.second_cited_scenarios}"
    )
