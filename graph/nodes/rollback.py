"""The rollback node: take back every change this run made, newest first, before escalating.

A fix that did not heal the workload is a change nobody asked for; leaving it in place would
stack a failed experiment on top of the original fault. Each applied remediation entry carries
how to undo it (`undo`): a merged pull request is reverted by another pull request (merged when
auto-merge is on), a direct write is rolled out back to the revision it replaced. Each undo
writes one audit entry (phase "rollback", `undoes` = the entry it takes back).

Idempotent: an entry already undone (a rollback entry names it) is skipped on a replay.
"""

from __future__ import annotations

from typing import Any, Final

from langgraph.runtime import Runtime

from agent.domain import Incident, Rollback, WorkloadRef
from graph.action_records import ActionEntry, EntryBase, entries, make_entry, succeeded
from graph.context import HealingContext
from graph.direct_change import apply_direct
from graph.gitops_change import propose_revert
from graph.policies import RemediationPolicy
from graph.state import HealingState, incident_of
from graph.tracing import NodeTrace
from tools.gitops.records import PullRequestSpec, Workload

NODE = "rollback"
PHASE: Final = "rollback"


def to_undo(state: HealingState) -> list[ActionEntry]:
    """The run's live remediation entries not yet taken back, newest first."""
    undone = {e.get("undoes") for e in entries(state, phase=PHASE)}
    live = [e for e in entries(state, phase="remediation") if succeeded(e) and e.get("applied")]
    return [e for e in reversed(live) if e["id"] not in undone]


def _entry_target(entry: ActionEntry, incident: Incident) -> WorkloadRef:
    """The workload an entry changed: its own target (a followed dependency's, maybe), else the incident's."""
    try:
        return WorkloadRef.parse(str(entry.get("target") or ""))
    except ValueError:
        return incident.target


class _UndoBase(EntryBase):
    # an undo entry is keyed by, and points at, the entry it takes back
    key: str
    why: str
    undoes: str


def _undo_one(ctx: HealingContext, incident: Incident, entry: ActionEntry, tracer: NodeTrace) -> ActionEntry:
    target = _entry_target(entry, incident)
    undo = entry.get("undo") or {}
    base: _UndoBase = {
        "run_id": tracer.run_id,
        "attempt": entry["attempt"],
        "phase": PHASE,
        "target": str(target),
        "who": ctx.actor,
        "at": ctx.clock(),
        "key": entry["id"],
        "undoes": entry["id"],
        "why": f"attempt {entry['attempt']}'s {entry['action']} did not heal the workload",
    }
    manifest = ctx.cluster.manifest(target, sink=tracer.sink) if ctx.cluster else None
    body = manifest.data.body if manifest and manifest.ok and manifest.data else None
    guard = RemediationPolicy(ctx.decision.policy, body)
    kind = undo.get("kind")
    if kind == "revert" and undo.get("commit"):
        sha = str(undo["commit"])
        if ctx.repo is None:
            return make_entry(
                **base,
                action="revert_commit",
                what=f"revert {sha[:12]}",
                status="unavailable",
                detail="no GitOps repository",
            )
        spec = PullRequestSpec(
            title=f"paramedic: roll back {entry['action']} on {target.kind}/{target.name}",
            root_cause=f"the change in {sha[:12]} did not heal the workload; reverting it before escalating",
            fingerprint=f"{incident.fingerprint}-rollback-{entry['id']}",
            labels=("paramedic", "rollback"),
        )
        change = propose_revert(
            ctx.repo,
            Workload(target.kind, target.name, target.namespace),
            sha,
            spec=spec,
            guard=guard,
            merge=ctx.merge,
        )
        for step in change.steps:
            tracer.note(step)
        return make_entry(
            **base,
            action="revert_commit",
            what=f"revert {sha[:12]} by pull request",
            status="ok" if change.ok else "error",
            detail=change.detail,
            diff=change.diff,
            **change.entry_fields(undoable=False),
        )
    if kind == "rollout_undo" and ctx.cluster is not None:
        revision = undo.get("revision")
        undone = apply_direct(
            ctx.cluster, target, Rollback(revision=revision), guard, at=ctx.clock(), sink=tracer.sink
        )
        return make_entry(
            **base,
            action="rollback",
            what=f"rollout undo to revision {revision}",
            **undone.entry_fields(),
            applied=undone.ok,
        )
    return make_entry(
        **base,
        action="none",
        what="nothing",
        status="unavailable",
        detail=f"no way to undo {entry['action']} was recorded",
    )


def rollback(state: HealingState, runtime: Runtime[HealingContext]) -> dict[str, Any]:
    """The rollback node: the context's repository for reverts, its cluster for rollout undo."""
    ctx = runtime.context
    incident = incident_of(state)
    tracer = NodeTrace(state["run_id"], NODE, ctx.emit)
    pending = to_undo(state)
    if pending:
        ctx.guard(state["run_id"])  # still this process's run: nobody else has taken it over
    tracer.start(changes=len(pending))
    written: list[ActionEntry] = []
    for entry in pending:
        done = _undo_one(ctx, incident, entry, tracer)
        tracer.action(done)
        written.append(done)
    summary = ", ".join(f"{e['action']}: {e['result']['status']}" for e in written) or "nothing to undo"
    tracer.end(summary)
    return {"actions": written} if written else {}
