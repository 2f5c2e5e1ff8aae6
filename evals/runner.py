"""Run scenarios: each in a fresh cluster, steps played, the agent let loose, the final state scored.

Both the cluster and the agent are injected (`evals.testbed`): a `Testbed` makes a fresh cluster
per scenario and says which faults it can inject; any `Agent` callable gets an `AgentEnv` (the
cluster's kubeconfig, API URL, GitOps repository path and the settings for autonomous mode with
local auto-merge) and returns an `AgentRun`. `paramedic eval` passes the embedded sandbox and the
real watcher + healing graph (`paramedic.eval_sandbox`, `paramedic.eval_agent`); tests also pass
scripted agents. An agent raising NotImplementedError stops the whole run, so no number is ever
made up for an agent that does not exist.

After the agent returns, the runner reads what each executed action really changed from the
cluster's Git (`evals.effects.settle`: field changes, no-ops), waits (simulated
`SETTLE_SECONDS`) for the cluster to be healthy, then samples it over the scenario's soak
period; each fault's ground truth decides from the live objects (and Git, when Git can fix it)
whether it is fixed: the cluster's own for injected faults, the scenario's `fixed_when` checks
for hand-written ones.

The agent learns nothing about the scenario but the cluster itself (and the alerts it posted):
no id, title, description or expectation reaches `AgentEnv`, whose `run_key` is opaque.
"""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from agent.config import ClusterSettings, GitSettings, Mode, Settings
from evals.aggregate import aggregate, by_category, by_split
from evals.dataset import Scenario, check_faults
from evals.effects import settle
from evals.outcome import AgentRun, Observation, ScenarioOutcome
from evals.report import Report, RunInfo, ScenarioResult, write_report
from evals.scorers import Pricing, score
from evals.steps import Payload, play
from evals.testbed import ClusterUnderTest, Testbed
from evals.truth import TruthMismatch, all_truths, check_truth, fault_records

__all__ = [
    "Agent",
    "AgentEnv",
    "TruthMismatch",
    "check_truth",
    "run_scenario",
    "run_scenarios",
    "settings_for",
]

RESULTS_DIR = Path(__file__).parent / "results"
SETTLE_SECONDS = 300.0  # simulated seconds a fix may take to roll out after the agent returns
SAMPLE_EVERY_SECONDS = 5.0  # simulated seconds between health samples in the soak


@dataclass(frozen=True)
class AgentEnv:
    """What an agent gets for one scenario: the cluster, and nothing about the scenario itself."""

    run_key: str  # opaque and stable (seeded): names the run's data, says nothing of the scenario
    kubeconfig: Path | None
    api_url: str | None
    metrics_url: str | None
    repo_path: Path
    settings: Settings
    time_budget_s: float
    started_wall: float  # time.monotonic() when the scenario's first step was played
    started_sim: float  # the cluster's simulated clock (epoch seconds) at that moment
    sim_now: Callable[[], float]
    # Sleep in simulated seconds (the cluster's `advance`): verification waits on the cluster's
    # clock, so a 30x sandbox verifies a 60 s stability window in 2 wall seconds.
    sim_sleep: Callable[[float], None] | None = None
    # Alertmanager webhook bodies (payload version 4) the scenario's alerts fired, in order: the agent
    # receives them as its webhook would.
    alerts: tuple[Payload, ...] = ()

    def elapsed_sim(self) -> float:
        """Simulated seconds since the first step."""
        return self.sim_now() - self.started_sim

    def elapsed_wall(self) -> float:
        """Wall seconds since the first step."""
        return time.monotonic() - self.started_wall


class Agent(Protocol):
    """Runs Paramedic (or a stand-in) against one prepared cluster until it is done or out of time."""

    def __call__(self, env: AgentEnv) -> AgentRun: ...


def scenario_seed(seed: int, scenario_id: str) -> int:
    """A stable per-scenario seed: the same run seed gives every scenario the same cluster."""
    return zlib.crc32(f"{seed}/{scenario_id}".encode()) & 0x7FFFFFFF


def run_key(seed: int, scenario_id: str) -> str:
    """The opaque name of one scenario's agent run (its data directory): stable, but no scenario text."""
    return f"run-{zlib.crc32(f'agent/{seed}/{scenario_id}'.encode()):08x}"


def settings_for(
    provider: str, base: Settings | None, *, kubeconfig: Path | None, repo_path: Path, data_dir: Path
) -> Settings:
    """The settings an agent runs with: autonomous mode, the scenario's cluster, local Git auto-merge."""
    base = base or Settings()
    return base.model_copy(
        update={
            "mode": Mode.AUTONOMOUS,
            "data_dir": data_dir,
            "cluster": ClusterSettings(kubeconfig=kubeconfig),
            "git": GitSettings(provider="local", local_path=repo_path, auto_merge=True),
            "llm": base.llm.model_copy(update={"provider": provider}),
        }
    )


# -- one scenario -----------------------------------------------------------------------------


def _call_agent(agent: Agent, env: AgentEnv) -> tuple[AgentRun, bool]:
    """The agent's run and whether it ran out of time; NotImplementedError propagates."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["run"] = agent(env)
        except BaseException as exc:  # handed to the caller's thread below
            box["error"] = exc

    thread = threading.Thread(target=target, name=f"agent-{env.run_key}", daemon=True)
    thread.start()
    thread.join(env.time_budget_s)
    if thread.is_alive():
        return AgentRun(error=f"time budget of {env.time_budget_s:.0f}s exceeded"), True
    if isinstance(box.get("error"), NotImplementedError):
        raise box["error"]
    if "error" in box:
        exc = box["error"]
        return AgentRun(error=f"{type(exc).__name__}: {exc}"), False
    run = box.get("run")
    if not isinstance(run, AgentRun):
        return AgentRun(error=f"the agent returned {type(run).__name__}, not an AgentRun"), False
    return run, False


def _observe(
    cluster: ClusterUnderTest, scenario: Scenario, env: AgentEnv
) -> tuple[bool, bool, float | None, float | None]:
    """(healthy at the end, stayed healthy through the soak, recovered after sim s, after wall s)."""
    recovered_sim = recovered_wall = None
    if cluster.wait_for(cluster.healthy, SETTLE_SECONDS, step=1.0):
        recovered_sim, recovered_wall = env.elapsed_sim(), env.elapsed_wall()
    samples = []
    deadline = cluster.now() + scenario.soak_seconds
    while cluster.now() < deadline:
        samples.append(cluster.healthy())
        cluster.advance(SAMPLE_EVERY_SECONDS)
    end = cluster.healthy()
    samples.append(end)
    return end, recovered_sim is not None and all(samples), recovered_sim, recovered_wall


def run_scenario(
    scenario: Scenario,
    *,
    agent: Agent,
    testbed: Testbed,
    provider: str,
    settings: Settings | None,
    time_budget: float,
    seed: int,
    data_dir: Path,
    pricing: Pricing | None = None,
) -> ScenarioResult:
    """Run and score one scenario in its own cluster (stopped afterwards)."""
    cluster = testbed.new_cluster(scenario_seed(seed, scenario.id))
    cluster.start()
    try:
        cluster.wait_healthy(timeout=60)
        started_wall, started_sim = time.monotonic(), cluster.now()
        played = play(cluster, scenario)
        check_truth(scenario, played.faults)
        truths = all_truths(scenario, played.faults)
        key = run_key(seed, scenario.id)
        env = AgentEnv(
            run_key=key,
            kubeconfig=cluster.kubeconfig_path,
            api_url=cluster.api_url,
            metrics_url=cluster.metrics_url,
            repo_path=cluster.repo_path,
            settings=settings_for(
                provider,
                settings,
                kubeconfig=cluster.kubeconfig_path,
                repo_path=cluster.repo_path,
                data_dir=data_dir / key,
            ),
            time_budget_s=time_budget,
            started_wall=started_wall,
            started_sim=started_sim,
            sim_now=cluster.now,
            sim_sleep=cluster.advance,
            alerts=tuple(played.alerts),
        )
        base = cluster.git_head()
        agent_started = time.monotonic()
        run, timed_out = _call_agent(agent, env)
        agent_wall = time.monotonic() - agent_started
        run = settle(run, lambda sha: cluster.commit_effect(sha, base))
        healthy_end, stayed, rec_sim, rec_wall = _observe(cluster, scenario, env)
        observation = Observation(
            faults=fault_records(cluster, scenario, truths),
            healthy_at_end=healthy_end,
            stayed_healthy=stayed,
            recovered_after_sim_s=rec_sim,
            recovered_after_wall_s=rec_wall,
            agent_wall_s=agent_wall,
            timed_out=timed_out,
        )
    finally:
        cluster.stop()
    outcome = ScenarioOutcome(scenario_id=scenario.id, run=run, observation=observation)
    explanation = (
        scenario.expect.explanation
        or " ".join(f.explanation for f in observation.faults)
        or "Nothing is wrong: no incident should be opened."
    )
    return ScenarioResult.of(scenario, outcome, score(scenario, outcome, pricing), explanation)


# -- many scenarios ---------------------------------------------------------------------------


def run_scenarios(
    scenarios: Sequence[Scenario],
    *,
    agent: Agent,
    testbed: Testbed,
    provider: str,
    jobs: int = 1,
    out_dir: Path = RESULTS_DIR,
    time_budget: float = 300.0,
    seed: int = 0,
    settings: Settings | None = None,
    progress: bool = True,
) -> Report:
    """Run every scenario (`jobs` at a time) with `agent` in clusters of `testbed`, score them and
    write the report under `out_dir/<UTC timestamp>/` (report.json, report.md, charts); returns
    the report. DatasetError (before anything runs) when a scenario injects a fault the testbed
    does not have, or expects another category for it."""
    if not scenarios:
        raise ValueError("no scenarios to run")
    if jobs < 1:
        raise ValueError("jobs must be at least 1")
    if time_budget <= 0:
        raise ValueError("time_budget must be positive (wall seconds per scenario)")
    check_faults(scenarios, testbed.faults)
    base = settings or Settings()
    pricing = Pricing(base.llm.price_per_million_input_tokens, base.llm.price_per_million_output_tokens)
    started = datetime.now(UTC)
    results_dir = out_dir / started.strftime("%Y%m%dT%H%M%S%fZ")
    order = {s.id: i for i, s in enumerate(scenarios)}
    results: list[ScenarioResult] = []

    def one(scenario: Scenario) -> ScenarioResult:
        return run_scenario(
            scenario,
            agent=agent,
            testbed=testbed,
            provider=provider,
            settings=base,
            time_budget=time_budget,
            seed=seed,
            data_dir=results_dir / "agent-data",
            pricing=pricing,
        )

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, disable=not progress, transient=False) as bar:
        task = bar.add_task("scenarios", total=len(scenarios))
        with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="eval") as pool:
            pending: set[Future[ScenarioResult]] = {pool.submit(one, s) for s in scenarios}
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    if future.exception() is not None:
                        for other in pending:
                            other.cancel()
                        raise future.exception()  # type: ignore[misc]
                    result = future.result()
                    results.append(result)
                    bar.update(task, advance=1, description=f"{result.scenario_id}")
    results.sort(key=lambda r: order[r.scenario_id])
    scores = [r.score for r in results]
    report = Report(
        run=RunInfo(
            started_at=started,
            finished_at=datetime.now(UTC),
            provider=provider,
            model=None if provider == "rules" else base.llm.model,
            agent=getattr(agent, "__name__", type(agent).__name__),
            seed=seed,
            jobs=jobs,
            time_budget_s=time_budget,
            price_per_million_input_tokens=pricing.input_per_million,
            price_per_million_output_tokens=pricing.output_per_million,
            splits=sorted({s.split for s in scenarios}),
            scenario_ids=[s.id for s in scenarios],
            results_dir=str(results_dir),
        ),
        overall=aggregate(scores),
        by_category=by_category(scores),
        by_split=by_split(scores),
        scenarios=results,
    )
    write_report(report, results_dir)
    return report
