"""The remediation node: carry out the approved (or autonomously chosen) proposal, and audit it.

Where the change goes:
- a patch (GitOps PR, a rollback or scale that restates fields) goes to Git when the workload's
  manifest is there: a branch, a commit, a pull request, merged when auto-merge is on and policy
  allows merging. A change made only on the cluster would be synced away by Argo CD/Flux.
- a revert-commit is always a pull request reverting the suspect commit.
- a restart, and anything whose manifest is not in Git, is a direct write: dry run, then real.
- notify/none change nothing (the decision does not route them here; if one arrives, it is recorded).

Every attempt writes exactly one audit entry (phase "remediation"): who (the approving human or
Paramedic), what, why, the diff, the dry run, the result, whether it is live (`applied`) or waits
for a merge (`pending_merge`), the pull request, and how to undo it. It counts against the
target's circuit breaker whether or not it worked: a failing fix is an attempt too.

Idempotent: a replayed node finds its own entry and does nothing; a node that crashed half way
reuses the branch and the open pull request it had made (graph/gitops_change).
"""

from __future__ import annotations

from typing import Any, Final

from langgraph.runtime import Runtime

from agent.domain import (
    ActionType,
    Diagnosis,
    DirectPatch,
    GitOpsPullRequest,
    Incident,
    ProposedRemediation,
    Restart,
    RevertCommit,
    Rollback,
    Scale,
    WorkloadRef,
)
from graph.action_records import ActionEntry, EntryBase, EntryFacts, UndoHint, entries, make_entry
from graph.breaker import target_key
from graph.cluster_access import DirectRemediation
from graph.context import HealingContext
from graph.direct_change import apply_direct
from graph.gitops_change import branch_name, propose_patch, propose_revert
from graph.policies import RemediationPolicy
from graph.state import HealingState, best_diagnosis, current_attempt, latest_evidence, subject_incident
from graph.tracing import NodeTrace
from tools.gitops.records import PullRequestSpec, Workload

NODE = "remediation"
PHASE: Final = "remediation"
# Patches that belong in Git when the manifest is there; a direct write would be drift.
_GIT_FIRST = frozenset({ActionType.GITOPS_PR, ActionType.PATCH, ActionType.ROLLBACK, ActionType.SCALE})


def _who(state: HealingState, ctx: HealingContext) -> str:
    approval = state.get("approval") or {}
    if approval.get("status") == "approved" and approval.get("by"):
        return f"{approval['by']} (approved), via {ctx.actor}"
    return ctx.actor


def _workload(target: WorkloadRef) -> Workload:
    return Workload(target.kind, target.name, target.namespace)


def _spec(
    incident: Incident, diagnosis: Diagnosis, proposal: ProposedRemediation, state: HealingState
) -> PullRequestSpec:
    evidence = latest_evidence(state)
    cited = set(diagnosis.cited_evidence)
    lines = [
        f"{i.id}: {i.text.splitlines()[0][:200]}"
        for i in (evidence.items if evidence else [])
        if i.id in cited and i.text
    ]
    title = f"paramedic: {diagnosis.category.value} in {incident.target.kind}/{incident.target.name}"
    return PullRequestSpec(
        title=title,
        root_cause=diagnosis.explanation,
        fingerprint=incident.fingerprint,
        evidence=lines[:8],
        labels=("paramedic", diagnosis.category.value),
        extra=f"Proposed {proposal.action.value}: {proposal.rationale}".strip(),
    )


def remediation(state: HealingState, runtime: Runtime[HealingContext]) -> dict[str, Any]:
    """The remediation node: the context's cluster for direct writes, its repository for pull requests."""
    ctx = runtime.context
    attempt = current_attempt(state)
    run_id = state["run_id"]
    if entries(state, phase=PHASE, attempt=attempt):
        return {}  # replayed after its own write was checkpointed: nothing more to do
    ctx.guard(run_id)  # still this process's run: nobody else has taken it over
    incident = subject_incident(state)
    target = incident.target
    tracer = NodeTrace(run_id, NODE, ctx.emit)
    diagnosis = best_diagnosis(state)
    proposal = diagnosis.remediation if diagnosis else None
    tracer.start(attempt=attempt, action=proposal.action.value if proposal else None)
    now = ctx.clock()
    base: EntryBase = {
        "run_id": run_id,
        "attempt": attempt,
        "phase": PHASE,
        "target": str(target),
        "who": _who(state, ctx),
        "at": now,
    }
    if diagnosis is None or proposal is None:
        entry = make_entry(
            **base,
            action="none",
            what="nothing",
            why="no proposal",
            status="invalid",
            detail="remediation reached without a proposed remediation",
        )
        return _done(tracer, entry)
    reason = proposal.rationale or diagnosis.explanation
    why = f"{diagnosis.category.value} ({diagnosis.confidence:.0%}): {reason}"
    action = proposal.action
    if action in (ActionType.NOTIFY, ActionType.NONE):
        entry = make_entry(
            **base,
            action=action.value,
            what="nothing changed",
            why=why,
            status="ok",
            detail=f"{action.value} changes nothing; the report/escalation node tells humans",
        )
        return _done(tracer, entry)

    manifest = ctx.cluster.manifest(target, sink=tracer.sink) if ctx.cluster else None
    guard = RemediationPolicy(
        ctx.decision.policy, manifest.data.body if manifest and manifest.ok and manifest.data else None
    )
    ctx.breakers.target.record_event(target_key(target))

    in_git = _in_git(ctx, state, incident, diagnosis, proposal, guard, base, why, tracer)
    if in_git is None:
        return _done(tracer, _on_cluster(ctx, target, proposal, guard, base, why, tracer))
    return _done(tracer, in_git)


def _in_git(
    ctx: HealingContext,
    state: HealingState,
    incident: Incident,
    diagnosis: Diagnosis,
    proposal: ProposedRemediation,
    guard: RemediationPolicy,
    base: EntryBase,
    why: str,
    tracer: NodeTrace,
) -> ActionEntry | None:
    """The change as a pull request, or None when it belongs on the cluster instead."""
    action = proposal.action
    workload = _workload(incident.target)
    spec = _spec(incident, diagnosis, proposal, state)
    patch = proposal.manifest_patch()
    if isinstance(proposal, RevertCommit):
        sha = proposal.commit
        if ctx.repo is None:
            return make_entry(
                **base,
                action=action.value,
                what=f"revert {sha[:12]}",
                why=why,
                status="unavailable",
                detail="no GitOps repository configured",
            )
        change = propose_revert(ctx.repo, workload, sha, spec=spec, guard=guard, merge=ctx.merge)
        what = f"revert commit {sha[:12]} by pull request"
    elif action in _GIT_FIRST and patch and ctx.repo is not None:
        found = ctx.repo.find_manifest(workload)
        if not found.ok:
            tracer.note(f"manifest not in Git ({found.error}); changing the cluster directly")
            return None
        branch = branch_name(incident.fingerprint, state["run_id"], int(base["attempt"]))
        guard_action = "rollback" if action is ActionType.ROLLBACK else "commit_manifest"
        change = propose_patch(
            ctx.repo,
            workload,
            patch,
            spec=spec,
            branch=branch,
            guard=guard,
            merge=ctx.merge,
            guard_action=guard_action,
        )
        what = (
            f"{action.value} as a pull request patching {found.data.path if found.data else 'the manifest'}"
        )
    elif action is ActionType.GITOPS_PR:
        return make_entry(
            **base,
            action=action.value,
            what="pull request",
            why=why,
            status="invalid",
            detail="no GitOps repository configured",
        )
    else:
        return None
    for step in change.steps:
        tracer.note(step)
    return make_entry(
        **base,
        action=action.value,
        what=what,
        why=why,
        status="ok" if change.ok else "error",
        detail=change.detail,
        diff=change.diff,
        patch=dict(patch or {}),
        **change.entry_fields(undoable=True),
    )


def _direct(proposal: ProposedRemediation) -> DirectRemediation | None:
    """The proposal as a direct write; a GitOps patch whose manifest is not in Git is the same patch
    made directly (policy judges it as a direct patch, so it happens only when policy allows those)."""
    if isinstance(proposal, GitOpsPullRequest):
        return DirectPatch(patch=proposal.patch, rationale=proposal.rationale, notes=proposal.notes)
    if isinstance(proposal, Restart | Scale | Rollback | DirectPatch):
        return proposal
    return None


def _on_cluster(
    ctx: HealingContext,
    target: WorkloadRef,
    proposal: ProposedRemediation,
    guard: RemediationPolicy,
    base: EntryBase,
    why: str,
    tracer: NodeTrace,
) -> ActionEntry:
    """The change as a direct, dry-run-first write to the workload."""
    action = proposal.action
    write = _direct(proposal)
    if ctx.cluster is None or write is None:
        detail = (
            "no cluster configured" if ctx.cluster is None else f"{action.value} cannot be applied directly"
        )
        return make_entry(
            **base, action=action.value, what=action.value, why=why, status="unavailable", detail=detail
        )
    history = ctx.cluster.history(target, sink=tracer.sink)
    before = history.data.current_revision if history.ok and history.data else None
    change = apply_direct(ctx.cluster, target, write, guard, at=ctx.clock(), sink=tracer.sink)
    extra: EntryFacts = {"applied": change.ok, "pending_merge": False}
    patch = proposal.manifest_patch()
    if patch:
        extra["patch"] = dict(patch)
    if change.ok and before is not None:
        extra["undo"] = UndoHint(kind="rollout_undo", revision=before)
    return make_entry(
        **base,
        action=action.value,
        what=f"{write.action.value} on the cluster (dry run first)",
        why=why,
        **change.entry_fields(),
        **extra,
    )


def _done(tracer: NodeTrace, entry: ActionEntry) -> dict[str, Any]:
    tracer.action(entry)
    tracer.end(f"{entry['action']}: {entry['result']['status']}: {entry['result']['detail']}")
    return {"actions": [entry]}
