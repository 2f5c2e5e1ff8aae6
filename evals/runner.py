"""Run scenarios: each in a fresh sandbox, steps played, the agent let loose, the final state scored.

The agent is injectable: any `Agent` callable gets an `AgentEnv` (the sandbox's kubeconfig, API
URL, GitOps repository path and the settings for autonomous mode with local auto-merge) and
returns an `AgentRun`. `graph_agent` is the real watcher + healing graph (wired in `agent.cli.eval`);
tests also pass scripted agents. An agent raising NotImplementedError stops the whole run, so
no number is ever made up for an agent that does not exist.

After the agent returns, the runner waits (simulated `settle_seconds`) for the sandbox to be
healthy, then samples it over the scenario's soak period; each fault's ground truth decides
from the live objects (and Git, when Git can fix it) whether it is fixed.
"""

from __future__ import annotations

import fnmatch
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
from evals.dataset import Scenario
from evals.outcome import AgentRun, FaultRecord, ForbiddenRule, Observation, ScenarioOutcome
from evals.report import Report, RunInfo, ScenarioResult, write_report
from evals.scorers import Pricing, score
from evals.steps import play
from sandbox.apps import REPO_FOLDER
from sandbox.cluster import Sandbox
from sandbox.faults import InjectedFault, object_id
from sandbox.faults.yamledit import ManifestFiles
from sandbox.resources import CONFIGMAPS, DEPLOYMENTS, NODES

RESULTS_DIR = Path(__file__).parent / "results"
DEFAULT_TIME_FACTOR = 30.0
SETTLE_SECONDS = 300.0  # simulated seconds a fix may take to roll out after the agent returns
SAMPLE_EVERY_SECONDS = 5.0  # simulated seconds between health samples in the soak


class TruthMismatch(RuntimeError):
    """A scenario's ground truth disagrees with what the sandbox injected (a dataset bug)."""


@dataclass(frozen=True)
class AgentEnv:
    """What an agent gets for one scenario."""

    scenario_id: str
    kubeconfig: Path | None
    api_url: str | None
    metrics_url: str | None
    repo_path: Path
    settings: Settings
    time_budget_s: float
    started_wall: float  # time.monotonic() when the scenario's first step was played
    started_sim: float  # the sandbox's simulated clock (epoch seconds) at that moment
    sim_now: Callable[[], float]
    # Sleep in simulated seconds (the sandbox's `advance`): verification waits on the sandbox's
    # clock, so a 30x sandbox verifies a 60 s stability window in 2 wall seconds.
    sim_sleep: Callable[[float], None] | None = None

    def elapsed_sim(self) -> float:
        """Simulated seconds since the first step."""
        return self.sim_now() - self.started_sim

    def elapsed_wall(self) -> float:
        """Wall seconds since the first step."""
        return time.monotonic() - self.started_wall


class Agent(Protocol):
    """Runs Paramedic (or a stand-in) against one prepared sandbox until it is done or out of time."""

    def __call__(self, env: AgentEnv) -> AgentRun: ...


def graph_agent(env: AgentEnv) -> AgentRun:
    """The real path: the watcher feeding the healing graph in autonomous mode with local auto-merge.

    Builds `server.healing.HealingStack` over `env.kubeconfig` with `env.settings` (llm provider,
    local Git at `env.repo_path`, auto-merge), watches until every run ended and the cluster has
    been quiet, or `env.time_budget_s` runs out, and maps the run records and trace to an
    `AgentRun`. The wiring lives in `agent.cli.eval` (the CLI is the composition root, the only
    place allowed to import the graph and server layers); it is imported lazily so `evals`
    never imports those layers itself, and the rest of `evals` works without them.
    """
    from agent.cli.eval import run_graph_agent

    return run_graph_agent(env)


SandboxFactory = Callable[[int], Sandbox]


def default_sandbox(seed: int) -> Sandbox:
    """A background sandbox (simulated time at 30x wall time), API server on a free loopback port."""
    return Sandbox(seed=seed, time_factor=DEFAULT_TIME_FACTOR)


def scenario_seed(seed: int, scenario_id: str) -> int:
    """A stable per-scenario seed: the same run seed gives every scenario the same cluster."""
    return zlib.crc32(f"{seed}/{scenario_id}".encode()) & 0x7FFFFFFF


def settings_for(
    provider: str, base: Settings | None, *, kubeconfig: Path | None, repo_path: Path, data_dir: Path
) -> Settings:
    """The settings an agent runs with: autonomous mode, the sandbox's cluster, local Git auto-merge."""
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


# -- ground truth -----------------------------------------------------------------------------


def check_truth(scenario: Scenario, faults: Sequence[InjectedFault]) -> None:
    """Raise TruthMismatch when the scenario's expected faults are not what the sandbox injected."""
    if len(faults) != len(scenario.expect.faults):
        raise TruthMismatch(
            f"{scenario.id}: {len(faults)} faults injected, {len(scenario.expect.faults)} expected"
        )
    for index, (fault, want) in enumerate(zip(faults, scenario.expect.faults, strict=True)):
        truth = fault.truth
        problems = []
        if truth.category.value != want.category.value:
            problems.append(f"category {truth.category.value} != {want.category.value}")
        if not fnmatch.fnmatchcase(truth.faulty_resource, want.faulty_resource):
            problems.append(f"faulty_resource {truth.faulty_resource!r} != {want.faulty_resource!r}")
        if truth.faulty_field != want.faulty_field:
            problems.append(f"faulty_field {truth.faulty_field!r} != {want.faulty_field!r}")
        if problems:
            raise TruthMismatch(
                f"{scenario.id}, fault {index + 1} ({fault.fault_type}): {'; '.join(problems)}"
            )


def _live_objects(sandbox: Sandbox) -> dict[str, dict[str, Any]]:
    objects: dict[str, dict[str, Any]] = {}
    for rt in (DEPLOYMENTS, CONFIGMAPS, NODES):
        items, _ = sandbox.store.list(rt)
        for obj in items:
            obj.setdefault("kind", rt.kind)
            objects[object_id(obj)] = obj
    return objects


def fault_records(sandbox: Sandbox, faults: Sequence[InjectedFault]) -> list[FaultRecord]:
    """Each fault's ground truth and whether the sandbox's final state fixes it."""
    live = _live_objects(sandbox)
    git = ManifestFiles(sandbox.repo, REPO_FOLDER).objects()
    catalogue = sandbox.simulation.catalogue
    records = []
    for fault in faults:
        truth = fault.truth
        fixed = truth.is_fixed(live, catalogue) and (not truth.fix_in_git or truth.is_fixed(git, catalogue))
        records.append(
            FaultRecord(
                fault_type=fault.fault_type,
                target=str(fault.target),
                category=truth.category.value,
                faulty_resource=truth.faulty_resource,
                faulty_field=truth.faulty_field,
                symptom_workload=truth.symptoms.workload,
                explanation=truth.explanation,
                fix_in_git=truth.fix_in_git,
                forbidden=[
                    ForbiddenRule(action=f.action, resource=f.resource, field=f.field, reason=f.reason)
                    for f in truth.forbidden
                ],
                fixed=fixed,
            )
        )
    return records


# -- one scenario -----------------------------------------------------------------------------


def _call_agent(agent: Agent, env: AgentEnv) -> tuple[AgentRun, bool]:
    """The agent's run and whether it ran out of time; NotImplementedError propagates."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["run"] = agent(env)
        except BaseException as exc:  # handed to the caller's thread below
            box["error"] = exc

    thread = threading.Thread(target=target, name=f"agent-{env.scenario_id}", daemon=True)
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
    sandbox: Sandbox, scenario: Scenario, env: AgentEnv
) -> tuple[bool, bool, float | None, float | None]:
    """(healthy at the end, stayed healthy through the soak, recovered after sim s, after wall s)."""
    recovered_sim = recovered_wall = None
    if sandbox.wait_for(sandbox.healthy, SETTLE_SECONDS, step=1.0):
        recovered_sim, recovered_wall = env.elapsed_sim(), env.elapsed_wall()
    samples = []
    deadline = sandbox.clock.time() + scenario.soak_seconds
    while sandbox.clock.time() < deadline:
        samples.append(sandbox.healthy())
        sandbox.advance(SAMPLE_EVERY_SECONDS)
    end = sandbox.healthy()
    samples.append(end)
    return end, recovered_sim is not None and all(samples), recovered_sim, recovered_wall


def run_scenario(
    scenario: Scenario,
    *,
    agent: Agent,
    provider: str,
    settings: Settings | None,
    time_budget: float,
    seed: int,
    data_dir: Path,
    sandbox_factory: SandboxFactory = default_sandbox,
    pricing: Pricing | None = None,
) -> ScenarioResult:
    """Run and score one scenario in its own sandbox (stopped afterwards)."""
    sandbox = sandbox_factory(scenario_seed(seed, scenario.id))
    sandbox.start()
    try:
        sandbox.wait_healthy(timeout=60)
        started_wall, started_sim = time.monotonic(), sandbox.clock.time()
        faults = play(sandbox, scenario)
        check_truth(scenario, faults)
        env = AgentEnv(
            scenario_id=scenario.id,
            kubeconfig=sandbox.kubeconfig_path,
            api_url=sandbox.url,
            metrics_url=sandbox.metrics_url,
            repo_path=sandbox.repo_path,
            settings=settings_for(
                provider,
                settings,
                kubeconfig=sandbox.kubeconfig_path,
                repo_path=sandbox.repo_path,
                data_dir=data_dir / scenario.id,
            ),
            time_budget_s=time_budget,
            started_wall=started_wall,
            started_sim=started_sim,
            sim_now=sandbox.clock.time,
            sim_sleep=sandbox.advance,
        )
        agent_started = time.monotonic()
        run, timed_out = _call_agent(agent, env)
        agent_wall = time.monotonic() - agent_started
        healthy_end, stayed, rec_sim, rec_wall = _observe(sandbox, scenario, env)
        observation = Observation(
            faults=fault_records(sandbox, faults),
            healthy_at_end=healthy_end,
            stayed_healthy=stayed,
            recovered_after_sim_s=rec_sim,
            recovered_after_wall_s=rec_wall,
            agent_wall_s=agent_wall,
            timed_out=timed_out,
        )
    finally:
        sandbox.stop()
    outcome = ScenarioOutcome(scenario_id=scenario.id, run=run, observation=observation)
    return ScenarioResult(
        scenario_id=scenario.id,
        split=scenario.split,
        title=scenario.title,
        tags=[t.value for t in scenario.tags],
        categories=scenario.categories,
        expected_explanation=scenario.expect.explanation
        or " ".join(f.explanation for f in observation.faults)
        or "Nothing is wrong: no incident should be opened.",
        outcome=outcome,
        score=score(scenario, outcome, pricing),
    )


# -- many scenarios ---------------------------------------------------------------------------


def run_scenarios(
    scenarios: Sequence[Scenario],
    *,
    provider: str,
    jobs: int = 1,
    out_dir: Path = RESULTS_DIR,
    time_budget: float = 300.0,
    seed: int = 0,
    agent: Agent = graph_agent,
    settings: Settings | None = None,
    sandbox_factory: SandboxFactory = default_sandbox,
    progress: bool = True,
) -> Report:
    """Run every scenario (`jobs` at a time), score them and write the report under
    `out_dir/<UTC timestamp>/` (report.json, report.md, charts); returns the report."""
    if not scenarios:
        raise ValueError("no scenarios to run")
    if jobs < 1:
        raise ValueError("jobs must be at least 1")
    if time_budget <= 0:
        raise ValueError("time_budget must be positive (wall seconds per scenario)")
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
            provider=provider,
            settings=base,
            time_budget=time_budget,
            seed=seed,
            data_dir=results_dir / "agent-data",
            sandbox_factory=sandbox_factory,
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
