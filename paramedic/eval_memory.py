"""Does memory help? An eval agent that carries incident memory from scenario to scenario, and a
replay of a scenario set twice through it.

`MemoryCarrier` wraps an eval agent (paramedic.eval_agent.graph_agent): each scenario's fresh run
store starts with the memory every earlier scenario left (imported from a shared JSON Lines file,
as `paramedic memory import` would), and leaves its own (exported back). It also counts the runs
whose analyst recalled past incidents (the "similar past incidents" trace note with at least one).
`replay_twice` runs a scenario set twice through one carrier: the first pass fills the memory
from nothing, the second recalls it. Both reports are ordinary eval reports.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.trace import TraceEventType
from evals.report import Report
from evals.runner import Agent, AgentEnv, AgentRun
from graph.memory.recall import SIMILAR_NOTE
from server.memory_transfer import export_lines, read_entries
from server.runstore import RunStore, open_run_store


def _recalls(store: RunStore) -> list[dict[str, Any]]:
    """Per run of the store: the past run ids its analyst cited as similar incidents."""
    cited: list[dict[str, Any]] = []
    for run in store.list_runs(limit=500).items:
        past: list[str] = []
        for event in store.run_trace(run.id):
            if event.type is TraceEventType.NOTE and event.payload.get("kind") == SIMILAR_NOTE:
                past.extend(
                    str(s.get("run_id")) for s in event.payload.get("similar") or [] if isinstance(s, dict)
                )
        cited.append({"run_id": run.id, "cited": sorted(set(past))})
    return cited


@dataclass
class MemoryCarrier:
    """An eval agent that starts each scenario with the shared memory and adds to it afterwards."""

    agent: Agent
    shared: Path
    recalls: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # scenario id -> runs' citations
    origin: dict[str, str] = field(default_factory=dict)  # run id -> the scenario it ran in (every pass)
    remembered: dict[str, int] = field(default_factory=dict)  # scenario id -> memory entries its runs left
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def __name__(self) -> str:  # the report names the agent
        return f"{getattr(self.agent, '__name__', 'agent')}+memory"

    def __call__(self, env: AgentEnv) -> AgentRun:
        url = env.settings.model_copy(update={"storage_url": None}).resolved_storage_url()
        env.settings.data_dir.mkdir(parents=True, exist_ok=True)
        with self._lock:
            known = (
                read_entries(self.shared.read_text(encoding="utf-8").splitlines())
                if self.shared.exists()
                else []
            )
        with open_run_store(url) as store:
            for entry in known:
                store.remember(entry)
        run = self.agent(env)
        with open_run_store(url) as store:
            self.recalls[env.scenario_id] = _recalls(store)
            self.origin.update({r["run_id"]: env.scenario_id for r in self.recalls[env.scenario_id]})
            lines = list(export_lines(store))
            own = {r["run_id"] for r in self.recalls[env.scenario_id]}
            self.remembered[env.scenario_id] = sum(1 for e in store.memory_entries() if e.run_id in own)
        with self._lock:
            self.shared.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
        return run

    def cited_scenarios(self, scenario_id: str) -> set[str]:
        """The scenarios whose runs `scenario_id`'s runs recalled (in the latest pass)."""
        return {self.origin.get(c, "?") for r in self.recalls.get(scenario_id, []) for c in r["cited"]}

    def cited_runs(self) -> int:
        """How many runs (so far) recalled at least one past incident."""
        return sum(1 for runs in self.recalls.values() for r in runs if r["cited"])


@dataclass(frozen=True)
class ReplayResult:
    """Two passes over one scenario set with one memory."""

    first: Report
    second: Report
    first_cited: int  # runs that recalled a past incident in the first pass
    second_cited: int
    second_recalls: dict[str, list[dict[str, Any]]]
    second_cited_scenarios: dict[str, set[str]]  # per scenario: whose runs its second-pass runs recalled
    first_remembered: dict[str, int]  # per scenario: memory entries its first-pass runs left


def replay_twice(run_pass: Any, agent: Agent, shared: Path) -> ReplayResult:
    """`run_pass(agent) -> Report` twice with one memory; the citations of each pass."""
    carrier = MemoryCarrier(agent, shared)
    first = run_pass(carrier)
    first_cited = carrier.cited_runs()
    first_remembered = dict(carrier.remembered)
    carrier.recalls.clear()
    second = run_pass(carrier)
    cited_scenarios = {scenario_id: carrier.cited_scenarios(scenario_id) for scenario_id in carrier.recalls}
    return ReplayResult(
        first,
        second,
        first_cited,
        carrier.cited_runs(),
        dict(carrier.recalls),
        cited_scenarios,
        first_remembered,
    )
