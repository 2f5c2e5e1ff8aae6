"""The runner with a scripted agent against real sandboxes, and its seams.

The sandbox comes in through `paramedic.eval_sandbox.SandboxTestbed` (the harness itself never
imports it); a testbed stand-in shows what the runner checks before any cluster starts. The
sandboxes here are stepped (`background=False`): the scripted agents do not wait on the cluster,
and the runner's settle and soak then advance the simulated clock as fast as the CPU allows
instead of sleeping through 300 + 120 simulated seconds at 30x. The runner on a real-time
sandbox (the graph agent waiting on the wall clock) is exercised by the eval subset
(tests/evals/test_subset.py) and the LLM eval runs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.domain import Diagnosis, RootCause
from evals.dataset import DatasetError
from evals.outcome import ActionTaken, AgentRun, DetectedIncident, Investigation
from evals.report import load_report, stable_numbers
from evals.runner import AgentEnv, run_scenarios, scenario_seed
from evals.testbed import ClusterUnderTest
from paramedic.eval_sandbox import SandboxTestbed
from sandbox.faults.yamledit import ManifestFiles
from sandbox.gitops import ManifestRepo
from tests.evals.conftest import MEMORY, WEB


def scripted_agent(env: AgentEnv) -> AgentRun:
    """Finds web-api's memory limit cut in Git and restores it, as the graph would with auto-merge;
    when the limit is as shipped (a control) it finds nothing."""
    assert env.kubeconfig is not None and env.kubeconfig.exists()
    assert env.settings.git.auto_merge and env.settings.git.local_path == env.repo_path
    repo = ManifestRepo(env.repo_path)
    web = ManifestFiles(repo, "apps").objects()[WEB]
    if web["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] == "256Mi":
        return AgentRun()
    patch = {
        "spec": {
            "template": {
                "spec": {"containers": [{"name": "app", "resources": {"limits": {"memory": "256Mi"}}}]}
            }
        }
    }
    repo.commit(ManifestFiles(repo, "apps").patch(WEB, patch), "web-api: restore the memory limit")
    return AgentRun(
        investigations=[
            Investigation(
                incident=DetectedIncident(
                    workload=WEB, reason="OOMKilled", detected_after_sim_s=env.elapsed_sim()
                ),
                diagnosis=Diagnosis(
                    category=RootCause.OOM,
                    explanation="The memory limit of web-api is below what it needs; it is OOMKilled.",
                    faulty_resource=WEB,
                    faulty_field=MEMORY,
                    confidence=0.9,
                ),
                actions=[ActionTaken(action="gitops_pr", resource=WEB, fields=[MEMORY], policy="allow")],
                diagnosed_after_sim_s=env.elapsed_sim(),
            )
        ]
    )


# Stepped and without an API server: what the runner itself does, at the speed of the CPU.
STEPPED = {"background": False, "serve": False}


@pytest.mark.e2e
def test_a_do_nothing_agent_leaves_the_fault_unfixed(by_id, tmp_path):
    report = run_scenarios(
        [by_id["dev-oom-web-api"]], provider="rules", out_dir=tmp_path, time_budget=10,
        agent=lambda env: AgentRun(), testbed=SandboxTestbed(**STEPPED), progress=False,
    )  # fmt: skip
    s = report.scenarios[0].score
    assert (s.tp, s.fn) == (0, 1) and s.fix_success is False and not s.passed
    assert report.scenarios[0].outcome.observation.faults[0].fixed is False


@pytest.mark.e2e
def test_an_agent_that_does_not_exist_stops_the_run(by_id, tmp_path):

    def absent(env: AgentEnv) -> AgentRun:
        raise NotImplementedError("not wired")

    with pytest.raises(NotImplementedError, match="not wired"):
        run_scenarios([by_id["dev-control-quiet"]], provider="rules", out_dir=tmp_path, time_budget=10,
                      agent=absent, testbed=SandboxTestbed(**STEPPED), progress=False)  # fmt: skip


@pytest.mark.integration
@pytest.mark.e2e
def test_two_scenarios_with_a_scripted_agent_and_the_same_seed_gives_the_same_numbers(by_id, tmp_path):
    # One test, two runs of the same pair: the first run's report is checked in full, then the
    # second (same seed, scenarios run side by side) must give the same numbers. Stepped sandboxes
    # that still serve the API (the scripted agent checks it was handed a kubeconfig).
    scenarios = [by_id["dev-oom-web-api"], by_id["dev-control-quiet"]]
    reports = [
        run_scenarios(
            scenarios,
            provider="rules",
            out_dir=tmp_path / str(jobs),
            time_budget=60,
            seed=5,
            jobs=jobs,
            agent=scripted_agent,
            testbed=SandboxTestbed(background=False),
            progress=False,
        )
        for jobs in (1, 2)
    ]
    oom, control = reports[0].scenarios
    assert oom.score.passed, oom.score
    assert oom.outcome.observation.faults[0].fixed and oom.score.fix_success
    assert oom.score.time_to_recover_sim_s is not None
    assert control.score.tn == 1 and control.score.passed and control.outcome.observation.stayed_healthy
    results = Path(reports[0].run.results_dir)
    assert results.parent == tmp_path / "1"
    assert {p.name for p in results.iterdir()} >= {"report.json", "report.md", "time_to_recover.png"}
    assert json.loads((results / "report.json").read_text())["overall"]["tp"] == 1

    first, second = (stable_numbers(r) for r in reports)
    assert first == second
    assert first["overall"]["tp"] == 1 and first["overall"]["tn"] == 1
    # And what was written is what was returned.
    reloaded = load_report(Path(reports[1].run.results_dir) / "report.json")
    assert stable_numbers(reloaded) == second


class _NoClusters:
    """A testbed that knows only `oom`, as a category other than the dataset's, and must never be
    asked for a cluster: the runner checks the scenarios against it first."""

    def __init__(self, faults: dict[str, RootCause]) -> None:
        self.faults = faults

    def new_cluster(self, seed: int) -> ClusterUnderTest:
        raise AssertionError("a cluster was asked for before the scenarios were checked")


def test_arguments_are_checked(by_id, tmp_path):
    testbed = _NoClusters({"oom": RootCause.OOM})
    with pytest.raises(ValueError, match="no scenarios"):
        run_scenarios([], agent=scripted_agent, testbed=testbed, provider="rules", out_dir=tmp_path)
    with pytest.raises(ValueError, match="jobs"):
        run_scenarios([by_id["dev-control-quiet"]], agent=scripted_agent, testbed=testbed,
                      provider="rules", out_dir=tmp_path, jobs=0)  # fmt: skip


def test_scenarios_are_checked_against_the_testbeds_faults_before_anything_runs(by_id, tmp_path):
    unknown = _NoClusters({"oom": RootCause.OOM})  # bad_image is not among its faults
    with pytest.raises(DatasetError, match="unknown fault type 'bad_image'"):
        run_scenarios([by_id["dev-oom-web-api"], by_id["dev-bad-image-worker"]], agent=scripted_agent,
                      testbed=unknown, provider="rules", out_dir=tmp_path)  # fmt: skip
    recategorised = _NoClusters({"oom": RootCause.BAD_COMMAND})
    with pytest.raises(DatasetError, match="fault oom is category bad_command, not oom"):
        run_scenarios([by_id["dev-oom-web-api"]], agent=scripted_agent, testbed=recategorised,
                      provider="rules", out_dir=tmp_path)  # fmt: skip
    assert not list(tmp_path.iterdir()), "nothing is written for scenarios that were refused"


def test_scenario_seeds_are_stable_and_distinct():
    assert scenario_seed(0, "a") == scenario_seed(0, "a")
    assert scenario_seed(0, "a") != scenario_seed(0, "b") != scenario_seed(1, "b")
