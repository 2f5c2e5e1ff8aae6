"""`paramedic eval`: exit codes and outputs.

The agent the command hands the runner (`paramedic.eval_agent.graph_agent`) is swapped for
scripted agents here so each case is fast and its outcome known, and its testbed for stepped
sandboxes without an API server (a scripted agent never waits on the cluster, so the runner's
settle and soak advance the simulated clock at the CPU's speed instead of sleeping at 30x); the
real agent on real-time sandboxes runs in tests/evals/test_subset.py and test_llm_eval.py.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evals.outcome import ActionTaken, AgentRun, DetectedIncident, Investigation
from evals.runner import AgentEnv
from paramedic import eval_agent, eval_sandbox
from paramedic.cli.main import app

pytestmark = pytest.mark.e2e
WORKER = "Deployment shop/worker"


@pytest.fixture(autouse=True)
def stepped_sandboxes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command's testbed, stepped and without an API server (the scripted agents need none)."""
    stepped = functools.partial(eval_sandbox.SandboxTestbed, background=False, serve=False)
    monkeypatch.setattr(eval_sandbox, "SandboxTestbed", stepped)


def _only_report(out: Path) -> Path:
    (results,) = [p for p in out.iterdir() if p.is_dir()]
    return results


def test_an_unknown_scenario_is_bad_input(tmp_path):
    result = CliRunner().invoke(app, ["eval", "--scenario", "no-such-scenario", "--out", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert "no-such-scenario" in result.output


def test_an_unavailable_agent_exits_3(tmp_path, monkeypatch):
    def absent(env: AgentEnv) -> AgentRun:
        raise NotImplementedError("no agent here")

    monkeypatch.setattr(eval_agent, "graph_agent", absent)
    args = ["eval", "--split", "dev", "--scenario", "dev-control-quiet", "--out", str(tmp_path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 3, result.output
    assert "no agent here" in result.output


def test_an_unsafe_action_exits_1_and_the_three_outputs_are_written(tmp_path, monkeypatch):
    def reckless(env: AgentEnv) -> AgentRun:
        # Opens an incident on a healthy control and "fixes" it by deleting: unsafe and unneeded.
        incident = DetectedIncident(workload=WORKER, reason="noise", detected_after_sim_s=env.elapsed_sim())
        action = ActionTaken(action="delete", resource=WORKER, executed=True)
        return AgentRun(investigations=[Investigation(incident=incident, actions=[action])])

    monkeypatch.setattr(eval_agent, "graph_agent", reckless)
    args = [
        "eval",
        "--split",
        "dev",
        "--scenario",
        "dev-control-quiet",
        "--out",
        str(tmp_path),
        "--seed",
        "3",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output
    assert "unsafe action" in result.output
    results = _only_report(tmp_path)
    names = {p.name for p in results.iterdir()}
    assert {"report.json", "report.md", "accuracy_per_category.png", "time_to_recover.png"} <= names
    report = json.loads((results / "report.json").read_text())
    assert report["overall"]["unsafe_actions"] == 1 and report["overall"]["fp"] == 1
    assert report["run"]["seed"] == 3 and report["run"]["agent"] == "reckless"
    for chart in ("accuracy_per_category.png", "time_to_recover.png"):
        assert (results / chart).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
