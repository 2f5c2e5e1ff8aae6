"""The verification node: did the workload recover after this attempt's change?

It waits `settle_seconds` (a merged change needs a GitOps sync before it is live), then polls the
workload until a deadline. Recovered means: healthy (graph/workload_health) continuously for
`stable_seconds` with no container restarting in that time and, where Prometheus measures the
workload's HTTP traffic, a 5xx ratio at or under `max_error_ratio`. When the run followed a
dependency, the dependency (the workload changed) must recover first, then the incident's own
workload, the one whose users were hurt, is held to the same test. A followed Service recovers when
it has ready endpoints (its selector matches ready pods), held for `stable_seconds` too. Time is
`ctx.clock` and `ctx.sleep`, so a stepped sandbox runs verification in simulated time.

Contract with the route after it (graph/edges): healthy -> `outcome=healed` (and a success on the
target breaker); unhealthy -> an unhealthy record, and `attempt` bumped only when another attempt
is within the budget and the breaker allows it (the analyst then sees what verification saw).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from langgraph.runtime import Runtime

from agent.domain import WorkloadRef
from graph.breaker import target_key
from graph.cluster_access import Cluster
from graph.context import HealingContext
from graph.metric_evidence import error_ratio
from graph.service_evidence import SERVICE_KIND
from graph.state import HealingState, RunOutcome, VerificationRecord, current_attempt, incident_of, subject_of
from graph.tracing import NodeTrace
from graph.workload_health import Health, judge, judge_service

NODE = "verification"


@dataclass(frozen=True)
class Verdict:
    """What polling concluded."""

    healthy: bool
    detail: str
    waited_seconds: float


def _watch(
    ctx: HealingContext, cluster: Cluster, target: WorkloadRef, tracer: NodeTrace, settle: bool = True
) -> Verdict:
    """Poll the workload until it is stably healthy or the deadline passes."""
    config = ctx.verify
    started = ctx.clock().timestamp()
    if settle and config.settle_seconds:
        ctx.sleep(config.settle_seconds)
    deadline = ctx.clock().timestamp() + config.timeout_seconds
    stable_since: float | None = None
    last_restarts: dict[str, int] = {}
    detail = "not checked"
    while True:
        now = ctx.clock().timestamp()
        snapshot = _snapshot(cluster, target, tracer)
        if isinstance(snapshot, str):
            stable_since, detail = None, snapshot
        else:
            health, restarts = snapshot
            grew = sorted(n for n, r in restarts.items() if r > last_restarts.get(n, r))
            last_restarts = restarts
            if not health.healthy:
                stable_since, detail = None, health.detail
            elif grew:
                stable_since, detail = None, f"restart count rose in {', '.join(grew)}"
            else:
                stable_since = now if stable_since is None else stable_since
                detail = f"{health.detail} for {now - stable_since:.0f}s"
                if now - stable_since >= config.stable_seconds:
                    ratio, why = error_ratio(ctx.prometheus, target, sink=tracer.sink)
                    if ratio is None or ratio <= config.max_error_ratio:
                        metric = f"5xx ratio {ratio:.1%}" if ratio is not None else f"error ratio: {why}"
                        return Verdict(True, f"{detail}, restarts stable, {metric}", now - started)
                    detail = (
                        f"{health.detail} but the 5xx ratio is {ratio:.1%} (> {config.max_error_ratio:.0%})"
                    )
        if now >= deadline:
            waited = now - started
            return Verdict(False, f"not recovered after {waited:.0f}s: {detail}", waited)
        ctx.sleep(config.poll_seconds)


def _snapshot(
    cluster: Cluster, target: WorkloadRef, tracer: NodeTrace
) -> tuple[Health, dict[str, int]] | str:
    """The target's health now and its pods' restart counts, or why they could not be read. A Service
    (a run that followed one) is judged by its ready endpoints; its pods' restarts are their own."""
    if target.kind == SERVICE_KIND:
        service = cluster.service(target, sink=tracer.sink)
        if not service.ok or service.data is None:
            return f"status unavailable: {service.error}"
        return judge_service(service.data), {}
    result = cluster.status(target, sink=tracer.sink)
    if not result.ok or result.data is None:
        return f"status unavailable: {result.error}"
    return judge(result.data), {p.name: p.restarts for p in result.data.pods if not p.deleting}


def verification(state: HealingState, runtime: Runtime[HealingContext]) -> dict[str, Any]:
    """The verification node over the context's cluster, Prometheus and clock."""
    ctx = runtime.context
    attempt = current_attempt(state)
    if any(v["attempt"] == attempt for v in state.get("verifications") or []):
        return {}  # replayed: this attempt was already judged
    target, victim = subject_of(state), incident_of(state).target
    tracer = NodeTrace(state["run_id"], NODE, ctx.emit)
    tracer.start(attempt=attempt, target=str(target))
    if ctx.cluster is None:
        verdict = Verdict(False, "no cluster configured to verify against", 0.0)
    else:
        verdict = _watch(ctx, ctx.cluster, target, tracer)
        if verdict.healthy and victim != target:
            after = _watch(ctx, ctx.cluster, victim, tracer, settle=False)
            verdict = Verdict(
                after.healthy,
                f"{target}: {verdict.detail}; {victim}: {after.detail}",
                verdict.waited_seconds + after.waited_seconds,
            )
    record = VerificationRecord(
        attempt=attempt,
        healthy=verdict.healthy,
        detail=verdict.detail,
        checked_at=ctx.clock().isoformat(),
    )
    tracer.verification(verdict.healthy, verdict.detail, attempt)
    update: dict[str, Any] = {"verifications": [record]}
    key = target_key(target)
    if verdict.healthy:
        ctx.breakers.target.record_success(key)
        update["outcome"] = RunOutcome.HEALED.value
        update["outcome_reason"] = f"recovered after attempt {attempt}: {verdict.detail}"
    elif attempt < ctx.max_attempts and ctx.breakers.target.allows(key):
        update["attempt"] = attempt + 1
        tracer.note(
            f"attempt {attempt} did not heal the workload; trying again ({attempt + 1}/{ctx.max_attempts})"
        )
    else:
        tracer.note(f"attempt {attempt} did not heal the workload and the budget is spent; rolling back")
    tracer.end(("healed: " if verdict.healthy else "unhealthy: ") + verdict.detail)
    return update
