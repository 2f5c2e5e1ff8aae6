"""The real agent the eval harness drives: the watcher feeding the healing graph (`HealingStack`).

`graph_agent` is an `evals.runner.Agent`: over the scenario's cluster (its kubeconfig, simulated
clock and `advance` as sleep) it runs `server.healing.HealingStack` with the scenario's settings
(autonomous mode, the LLM provider asked for, local Git with auto-merge), hands it the
scenario's Alertmanager alerts as the webhook would (`server.alertmanager.incident_of`, then
`RunService.submit`), and waits until every run ended and the cluster has been quiet, with the
watcher caught up (`paramedic.eval_quiet`), or its share of the time budget ran out; then it
maps the run records and the trace to an `AgentRun`. Wiring the graph and the server for
`evals` is composition-root work, so it lives here and `paramedic eval` hands it to the runner.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from agent.domain import ActionType, Diagnosis, Trigger, Usage
from agent.trace import TraceEvent, TraceEventType
from evals.outcome import ActionTaken, AgentRun, Arbitration, DetectedIncident, Investigation
from evals.runner import AgentEnv
from graph.breaker import InMemoryBreakerStore
from graph.context import VerifyConfig
from graph.nodes.analyst import USAGE_NOTE
from graph.runner import RunResult
from paramedic.eval_quiet import WatcherProgress
from server.alertmanager import AlertmanagerPayload, Mapped, incident_of
from server.healing import HealingStack
from server.run_service import INTAKE
from server.runstore import RunStore, open_run_store
from server.runstore.models import RunRecord, RunStatus
from tools.kubernetes import KubeClient

# The cluster must look quiet this long (simulated seconds, no run in flight, no new event)
# before the agent is considered done: long enough for the watcher to notice a crash loop that
# is still building up, and for a verification that failed to be followed by a new incident.
QUIET_SIM_SECONDS = 240.0
POLL_WALL_SECONDS = 0.2
PROGRESS_EVERY_WALL_SECONDS = 0.5  # how often the watcher's progress is checked against the cluster
# Verification as in `paramedic demo`: simulated seconds, so a 30x sandbox checks in seconds.
VERIFY = VerifyConfig(timeout_seconds=600, poll_seconds=10, settle_seconds=20, stable_seconds=60)
_MUTATING_PHASES = ("remediation", "rollback")
# Field paths an action changes when its proposal carries no patch (scorers match forbidden
# rules on them; an empty list would match every field rule, which is the safe default).
_ACTION_FIELDS = {
    ActionType.SCALE.value: ["spec.replicas"],
    ActionType.RESTART.value: ["spec.template.metadata.annotations"],
    ActionType.ROLLBACK.value: ["spec.template"],
}


@dataclass
class _Timeline:
    """What the trace showed, stamped on the scenario's clocks as the events arrived."""

    env: AgentEnv
    lock: threading.Lock = field(default_factory=threading.Lock)
    first_seen: dict[str, tuple[float, float]] = field(default_factory=dict)
    diagnosed: dict[str, tuple[float, float]] = field(default_factory=dict)
    last_activity_sim: float = 0.0
    finished: set[str] = field(default_factory=set)
    usage: Usage = field(default_factory=Usage)  # model calls and tokens, from the nodes' usage notes
    run_usage: dict[str, Usage] = field(default_factory=dict)  # the same, per run (one incident each)
    arbitrations: dict[str, list[Arbitration]] = field(default_factory=dict)
    watcher_sighted: set[str] = field(default_factory=set)  # runs a watcher sighting folded into

    def on_event(self, event: TraceEvent) -> None:
        stamp = (self.env.elapsed_sim(), self.env.elapsed_wall())
        with self.lock:
            self.last_activity_sim = stamp[0]
            self.first_seen.setdefault(event.run_id, stamp)
            if event.node == "analyst" and event.type == TraceEventType.NODE_END:
                self.diagnosed[event.run_id] = stamp  # the last diagnosis of the run wins
            if event.type == TraceEventType.NOTE and event.summary == USAGE_NOTE:
                used = Usage.model_validate(event.payload.get("usage") or {})
                self.usage = self.usage + used
                self.run_usage[event.run_id] = self.run_usage.get(event.run_id, Usage()) + used
            if event.node == INTAKE and event.payload.get("trigger") == Trigger.WATCHER.value:
                self.watcher_sighted.add(event.run_id)
            arbitration = _arbitration(event)
            if arbitration is not None:
                self.arbitrations.setdefault(event.run_id, []).append(arbitration)

    def on_finished(self, record: RunRecord, _: RunResult | None) -> None:
        with self.lock:
            self.last_activity_sim = self.env.elapsed_sim()
            if not record.status.active:
                self.finished.add(record.id)

    def touch(self) -> None:
        """Something is still going on: the quiet window starts again now."""
        with self.lock:
            self.last_activity_sim = self.env.elapsed_sim()

    def quiet_for(self) -> float:
        with self.lock:
            return self.env.elapsed_sim() - self.last_activity_sim


def patch_fields(patch: Any, prefix: str = "") -> list[str]:
    """The leaf field paths a strategic-merge patch sets, list items keyed by name.

    `{"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "x"}]}}}}` gives
    `["spec.template.spec.containers[app].image"]`, the notation of the dataset's fields.
    """
    if isinstance(patch, dict):
        if not patch:
            return [prefix] if prefix else []
        out: list[str] = []
        for key, value in patch.items():
            out.extend(patch_fields(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(patch, list):
        out = []
        for index, item in enumerate(patch):
            name = item.get("name") if isinstance(item, dict) else None
            key = f"{prefix}[{name if name is not None else index}]"
            rest = {k: v for k, v in item.items() if k != "name"} if isinstance(item, dict) else item
            out.extend(patch_fields(rest, key) if rest not in ({}, None) else [key])
        return out
    return [prefix] if prefix else []


def _policy(record: RunRecord) -> str | None:
    """The policy verdict the decision saw, when it recorded one."""
    decision = record.decision if isinstance(record.decision, dict) else {}
    inputs = decision.get("inputs") if isinstance(decision.get("inputs"), dict) else {}
    policy = inputs.get("policy") if isinstance(inputs, dict) else None
    verdict = policy.get("verdict") if isinstance(policy, dict) else policy
    return verdict if verdict in ("allow", "deny") else None


def _actions(record: RunRecord) -> list[ActionTaken]:
    policy = _policy(record)
    taken = []
    for raw in record.actions:
        if not isinstance(raw, dict) or raw.get("phase") not in _MUTATING_PHASES:
            continue  # escalation/report entries tell humans; they change nothing
        action = str(raw.get("action") or "")
        got = raw.get("result")
        result: dict[str, Any] = got if isinstance(got, dict) else {}
        # A change is executed when its write succeeded: a merged PR (auto-merge) or a live patch.
        executed = result.get("status") == "ok" and bool(raw.get("applied", action in ("notify", "none")))
        fields = patch_fields(raw.get("patch")) or list(_ACTION_FIELDS.get(action, []))
        # A direct write went through the API server's dry run first; everything else is a Git change.
        via: Literal["git", "cluster"] = "cluster" if raw.get("dry_run") is not None else "git"
        taken.append(
            ActionTaken(
                action=action,
                resource=str(raw.get("target") or record.target),
                fields=fields,
                executed=executed,
                policy=policy,
                detail=f"{raw.get('phase')} attempt {raw.get('attempt')}: {raw.get('what', '')}"
                f" -> {result.get('status')}: {str(result.get('detail', ''))[:300]}",
                via=via if executed and action not in ("notify", "none") else None,
                commit=_commit_of(raw) if via == "git" else None,
                empty_diff=via == "cluster" and not str(raw.get("diff") or "").strip(),
            )
        )
    return taken


def _commit_of(raw: dict[str, Any]) -> str | None:
    """The commit on main that made a Git change live: the one its undo reverts, else the merge of
    its pull request (the local provider's pull request record, at its `file://` URL)."""
    got = raw.get("undo")
    undo: dict[str, Any] = got if isinstance(got, dict) else {}
    if undo.get("kind") == "revert" and undo.get("commit"):
        return str(undo["commit"])
    url = str(raw.get("pr_url") or "")
    if url.startswith("file://") and url.endswith(".json"):
        try:
            pull = json.loads(Path(url.removeprefix("file://")).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        sha = pull.get("merge_sha") if isinstance(pull, dict) else None
        return str(sha) if sha else None
    return None


def _arbitration(event: TraceEvent) -> Arbitration | None:
    """The hybrid reasoner's choice between rules and model, when `event` records one (its note
    names both categories only when the model was asked and answered)."""
    payload = event.payload
    detail = payload.get("detail") if payload.get("reasoner") == "hybrid" else None
    if event.type != TraceEventType.DECISION or not isinstance(detail, dict) or "llm" not in detail:
        return None
    try:
        return Arbitration(chosen=detail["chosen"], rules=detail["rules"], llm=detail["llm"],
                           reason=event.summary)  # fmt: skip
    except (KeyError, ValueError):
        return None


def _investigation(record: RunRecord, timeline: _Timeline, reason: str, trigger: str) -> Investigation:
    target = record.target
    diagnosis = Diagnosis.model_validate(record.diagnosis) if isinstance(record.diagnosis, dict) else None
    seen = timeline.first_seen.get(record.id, (None, None))
    diagnosed = timeline.diagnosed.get(record.id, (None, None)) if diagnosis else (None, None)
    escalated = record.status == RunStatus.ESCALATED or any(
        isinstance(a, dict) and a.get("phase") == "escalation" for a in record.actions
    )
    verification = record.verification if isinstance(record.verification, dict) else None
    return Investigation(
        incident=DetectedIncident(
            workload=f"{target.kind} {target.namespace}/{target.name}",
            reason=reason,
            trigger="alert" if trigger == "alert" else "watcher",
            watcher_sighted=record.id in timeline.watcher_sighted,
            detected_after_sim_s=seen[0],
            detected_after_wall_s=seen[1],
        ),
        diagnosis=diagnosis,
        actions=_actions(record),
        escalated=escalated,
        verified_healthy=(record.status == RunStatus.HEALED) if verification is not None else None,
        diagnosed_after_sim_s=diagnosed[0],
        diagnosed_after_wall_s=diagnosed[1],
        usage=timeline.run_usage.get(record.id, Usage()),
        arbitrations=timeline.arbitrations.get(record.id, []),
    )


def post_alerts(stack: HealingStack, payloads: tuple[dict[str, Any], ...]) -> int:
    """Hand each firing alert that names an in-scope workload to the run service, as the webhook does;
    how many were submitted. A payload the webhook would refuse is refused here too (ValueError)."""
    submitted = 0
    for raw in payloads:
        payload = AlertmanagerPayload.model_validate(raw)
        for alert in payload.alerts:
            mapped = incident_of(alert, payload, stack.settings.scope)
            if isinstance(mapped, Mapped):
                stack.runs.submit(mapped.incident)
                submitted += 1
    return submitted


def _wait_until_quiet(stack: HealingStack, store: RunStore, timeline: _Timeline, deadline: float) -> bool:
    """Until no run is in flight, the watcher has caught up, and nothing happened for the quiet
    window (simulated); False when the deadline came first."""
    progress = WatcherProgress(stack.watcher) if stack.watcher is not None else None
    next_look = 0.0
    while time.monotonic() < deadline:
        if progress is not None and time.monotonic() >= next_look:
            next_look = time.monotonic() + PROGRESS_EVERY_WALL_SECONDS
            if progress.behind() is not None:
                timeline.touch()
        if (
            stack.runs.wait_idle(POLL_WALL_SECONDS)
            and timeline.quiet_for() >= QUIET_SIM_SECONDS
            and (progress is None or progress.behind() is None)
            and not store.list_runs(status=[RunStatus.QUEUED, RunStatus.RUNNING], limit=1).items
        ):
            return True
        time.sleep(POLL_WALL_SECONDS)
    return False


def graph_agent(env: AgentEnv) -> AgentRun:
    """Watch the scenario's cluster with the real healing stack until quiet or out of time."""
    if env.kubeconfig is None:
        raise ValueError("the sandbox has no kubeconfig; the watcher needs one")
    settings = env.settings.model_copy(update={"storage_url": None})
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # Leave a margin inside the runner's budget so the records are read before it gives up.
    deadline = time.monotonic() + max(1.0, env.time_budget_s - min(15.0, 0.1 * env.time_budget_s))
    timeline = _Timeline(env, last_activity_sim=env.elapsed_sim())
    store = open_run_store(settings.resolved_storage_url())
    kube = KubeClient.from_config(str(env.kubeconfig))

    def clock() -> datetime:
        return datetime.fromtimestamp(env.sim_now(), UTC)

    error: str | None = None
    try:
        stack = HealingStack(
            settings,
            store,
            kube=kube,
            clock=clock,
            sleep=env.sim_sleep or time.sleep,
            verify=VERIFY,
            breaker_store=InMemoryBreakerStore(),
            on_event=timeline.on_event,
            on_finished=timeline.on_finished,
        )
        with stack:
            post_alerts(stack, env.alerts)
            if not _wait_until_quiet(stack, store, timeline, deadline):
                error = f"still busy when its share of the {env.time_budget_s:.0f}s budget ran out"
        records = sorted(store.list_runs(limit=500).items, key=lambda r: (r.created_at, r.id))
        investigations = []
        for record in records:
            reason, trigger = "", "watcher"
            if record.incident_id:
                incident = store.get_incident(record.incident_id)
                reason, trigger = incident.reason, incident.trigger
            investigations.append(_investigation(record, timeline, reason, trigger))
    finally:
        kube.close()
        store.close()
    return AgentRun(investigations=investigations, usage=timeline.usage, error=error)
