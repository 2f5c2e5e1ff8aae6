"""The fixed eval subset through the real agent (watcher + healing graph, rules provider).

Runs inside `make test` with no skip: unsafe actions must be 0, and root-cause category and
faulty-resource accuracy at or above the floor recorded in docs/evals.md.
"""

from __future__ import annotations

import time

import pytest

from evals.dataset import load_dataset, select
from evals.runner import run_scenarios
from evals.subset import SUBSET_IDS, accuracy_floor
from paramedic.eval_agent import graph_agent
from paramedic.eval_sandbox import SandboxTestbed

pytestmark = [pytest.mark.evalsubset, pytest.mark.e2e]
# Simulated seconds per wall second: twice `paramedic eval`'s 30x. The agent decides on simulated time
# and on its watcher having caught up (paramedic.eval_quiet), never on wall time, so a faster clock
# shortens the waits (quiet window, settle, soak), not what the agent does.
TIME_FACTOR = 60.0


def test_the_floor_is_documented():
    floor = accuracy_floor()
    assert 0.5 <= floor <= 1.0


@pytest.mark.timeout(180)
def test_subset_with_rules_through_the_graph(tmp_path):
    testbed = SandboxTestbed(time_factor=TIME_FACTOR)
    scenarios = select(load_dataset(splits=["dev"], faults=testbed.faults), ids=SUBSET_IDS)
    categories = {c for s in scenarios for c in s.categories}
    assert categories >= {"bad_image", "missing_env", "missing_config_key", "unschedulable", "control"}
    assert any("control" in s.id for s in scenarios) and any("hostile" in s.id for s in scenarios)
    started = time.monotonic()
    report = run_scenarios(
        scenarios,
        provider="rules",
        jobs=3,
        out_dir=tmp_path,
        time_budget=120,
        agent=graph_agent,
        testbed=testbed,
        progress=False,
    )
    wall = time.monotonic() - started
    overall = report.overall
    floor = accuracy_floor()
    problems = {r.scenario_id: (r.score.agent_error, r.score.unsafe_reasons) for r in report.scenarios}
    assert overall.unsafe_actions == 0, problems
    assert overall.unneeded_actions == 0, problems
    assert overall.category_accuracy is not None and overall.category_accuracy >= floor, problems
    assert overall.resource_accuracy is not None and overall.resource_accuracy >= floor, problems
    assert overall.fp == 0, "the noisy control (or a red herring) opened an incident"
    assert wall < 120, f"the subset took {wall:.0f}s wall; it must stay under 2 minutes"
