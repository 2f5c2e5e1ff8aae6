"""The auditor node: correlate the incident with recent change, look for an open PR, judge the proposal.

- Change: the Git commits touching the workload (gathered newest first by the analyst) that
  landed in a window before the incident started. One is named the suspect only when its timing
  fits and its content supports the diagnosis (the diagnosis cites it, the proposal reverts it, or
  its diff changes the field the diagnosis blames). Rollout history is summarised in the notes.
- Idempotency: an open pull request carrying the incident's fingerprint.
- Policy: the proposal judged by graph/policies plus what only the evidence can tell (a revert
  must name a commit of this workload, a rollback a known revision, a PR needs a repository).
- Review (LLM providers): a second model checks a mutating proposal with the read-only tools
  (`ctx.reviewer`). It can only make the run more careful: a `contradicts` that cites evidence
  turns the verdict into a denial, and a suspect commit it names counts only when the evidence
  holds that commit in the change window. A failed or skipped review changes nothing.

Fails closed: anything that cannot be checked makes the verdict a denial that says so.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from langgraph.runtime import Runtime

from agent.domain import (
    Diagnosis,
    Evidence,
    EvidenceItem,
    EvidenceKind,
    Incident,
    RevertCommit,
    Rollback,
)
from agent.reasoners.base import streaming
from graph.context import HealingContext
from graph.policies import MUTATING, PR_ACTIONS, PolicyVerdict, evaluate_remediation
from graph.state import (
    AuditFindings,
    HealingState,
    SuspectCommit,
    best_diagnosis,
    latest_evidence,
    subject_incident,
)
from graph.tracing import NodeTrace
from tools.evidence.item_data import CommitData, RolloutData

if TYPE_CHECKING:
    # Types only: the LLM reviewer's module loads the LLM clients (openai, langchain: ~1.5 s), which
    # a process on the rules reasoner never needs.
    from agent.reasoners.review import Review, Reviewer

NODE = "auditor"
CHANGE_WINDOW = timedelta(hours=6)  # how long before the incident a change is still a suspect
CLOCK_SKEW = timedelta(minutes=5)  # a commit stamped a little after the start still counts
_KEY = re.compile(r"^[+-]\s*-?\s*([A-Za-z_][\w.-]*)\s*:")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")


def changed_keys(diff: str) -> list[str]:
    """The YAML keys on the added/removed lines of a unified diff, in order, without repeats."""
    keys: list[str] = []
    for line in diff.splitlines():
        if line.startswith(("+++", "---")):
            continue
        match = _KEY.match(line)
        if match and match.group(1) not in keys:
            keys.append(match.group(1))
    return keys


def _field_words(diagnosis: Diagnosis) -> set[str]:
    """Words naming what the diagnosis blames: the faulty field's segments, the patch's keys."""
    words: set[str] = set()
    if diagnosis.faulty_field:
        words |= {w.lower() for w in _WORD.findall(diagnosis.faulty_field)}
    patch = diagnosis.remediation.manifest_patch() if diagnosis.remediation is not None else None
    if patch:
        words |= {w.lower() for w in _WORD.findall(str(patch))}
    # Container plumbing matches every Deployment diff; it says nothing about this fault.
    return words - {"spec", "template", "containers", "name", "app", "metadata"}


def _commit_time(item: EvidenceItem) -> datetime | None:
    try:
        return datetime.fromisoformat(CommitData.read(item.data).date)
    except ValueError:
        return None


def find_suspect(
    evidence: Evidence, diagnosis: Diagnosis | None, started_at: datetime
) -> tuple[SuspectCommit | None, list[str]]:
    """The commit that most plausibly caused the incident, if timing and content support one."""
    notes: list[str] = []
    commits = evidence.of_kind(EvidenceKind.COMMIT)
    in_window = []
    for item in commits:
        when = _commit_time(item)
        if when is not None and started_at - CHANGE_WINDOW <= when <= started_at + CLOCK_SKEW:
            in_window.append(item)
    notes.append(
        f"{len(in_window)} of {len(commits)} recent commit(s) touching the workload landed within "
        f"{CHANGE_WINDOW} before the incident"
    )
    if not in_window or diagnosis is None:
        return None, notes
    cited = set(diagnosis.cited_evidence)
    remediation = diagnosis.remediation
    reverted = remediation.commit if isinstance(remediation, RevertCommit) else ""
    words = _field_words(diagnosis)
    for item in in_window:  # newest first
        commit = CommitData.read(item.data)
        sha, diff = commit.sha, commit.diff
        keys = changed_keys(diff)
        why = None
        if item.id in cited:
            why = "the diagnosis cites it"
        elif reverted and sha.startswith(reverted):
            why = "the proposal reverts it"
        diff_text = diff.lower()
        if why is None and (words & {k.lower() for k in keys} or any(w in diff_text for w in words)):
            why = f"its diff changes what the diagnosis blames ({', '.join(sorted(words)[:5])})"
        if why:
            notes.append(f"suspect {sha[:12]}: {why}")
            suspect = SuspectCommit(
                sha=sha,
                message=commit.message,
                author=commit.author,
                changed_fields=keys,
            )
            return suspect, notes
    notes.append("no commit in the window changes what the diagnosis blames; no suspect named")
    return None, notes


def rollout_notes(evidence: Evidence) -> list[str]:
    """One line about the rollout history: how many revisions, which runs now."""
    revisions = evidence.of_kind(EvidenceKind.ROLLOUT)
    if not revisions:
        return ["no rollout history in the evidence"]
    current = [data.revision for data in (RolloutData.read(i.data) for i in revisions) if data.current]
    return [f"{len(revisions)} revision(s) known; current revision {current[0] if current else 'unknown'}"]


def _evidence_problems(diagnosis: Diagnosis, evidence: Evidence, has_repo: bool) -> list[str]:
    remediation = diagnosis.remediation
    if remediation is None:
        return []
    problems = []
    action = remediation.action
    if action in PR_ACTIONS and not has_repo:
        problems.append(f"{action.value} needs a GitOps repository and none is configured")
    if isinstance(remediation, RevertCommit):
        commit = remediation.commit
        shas = [CommitData.read(i.data).sha for i in evidence.of_kind(EvidenceKind.COMMIT)]
        if commit and not any(sha.startswith(commit) for sha in shas):
            problems.append(f"commit {commit[:12]} is not among the workload's recent commits")
    if isinstance(remediation, Rollback) and remediation.revision is not None:
        known = {RolloutData.read(i.data).revision for i in evidence.of_kind(EvidenceKind.ROLLOUT)}
        if remediation.revision not in known:
            problems.append(f"revision {remediation.revision} is not in the rollout history")
    return problems


def judge(
    diagnosis: Diagnosis | None, incident: Incident, evidence: Evidence | None, ctx: HealingContext
) -> PolicyVerdict | None:
    """The verdict on the proposal (None when nothing would change); every doubt is a denial."""
    remediation = diagnosis.remediation if diagnosis else None
    if diagnosis is None or remediation is None or remediation.action not in MUTATING:
        return None
    manifest = evidence.manifest if evidence else None
    verdict = evaluate_remediation(
        remediation, incident.target, manifest=manifest, config=ctx.decision.policy
    )
    problems = [] if verdict.allowed else list(verdict.reasons)
    if evidence is None:
        problems.append("no evidence was gathered; nothing to check the proposal against")
    else:
        problems += _evidence_problems(diagnosis, evidence, ctx.repo is not None)
    if problems:
        return PolicyVerdict(verdict.action, False, tuple(dict.fromkeys(problems)))
    return verdict


def auditor(state: HealingState, runtime: Runtime[HealingContext]) -> dict[str, Any]:
    """The auditor node: state in, `{"audit": ..., "open_pr_for_fingerprint": ...}` out."""
    ctx = runtime.context
    incident = subject_incident(state)
    tracer = NodeTrace(state["run_id"], NODE, ctx.emit)
    tracer.start(target=str(incident.target))
    evidence = latest_evidence(state)
    diagnosis = best_diagnosis(state)
    notes: list[str] = []
    suspect: SuspectCommit | None = None
    open_pr: str | None = None
    pr_check_failed: str | None = None
    contradiction: str | None = None
    try:
        if evidence is not None:
            suspect, found = find_suspect(evidence, diagnosis, incident.started_at)
            notes += found + rollout_notes(evidence)
            if ctx.reviewer is not None and diagnosis is not None and _mutating(diagnosis):
                review = _review(ctx.reviewer, tracer, incident, evidence, diagnosis)
                notes.append(f"LLM review: {review.verdict}: {review.explanation[:300]}")
                if review.verdict == "contradicts" and review.backed:
                    cites = ", ".join(review.cited_evidence)
                    contradiction = f"the auditor's review contradicts the diagnosis ({cites}): "
                    contradiction += review.explanation[:300]
                if suspect is None and review.suspect_commit:
                    suspect = _reviewed_suspect(evidence, review.suspect_commit, incident.started_at, notes)
        if ctx.repo is not None:
            result = ctx.repo.find_open_pull_request(incident.fingerprint)
            if result.ok:
                open_pr = result.data.url if result.data is not None else None
                notes.append(f"open pull request for this incident: {open_pr or 'none'}")
            else:
                pr_check_failed = f"could not check for an open pull request: {result.error}"
                notes.append(pr_check_failed)
        verdict = judge(diagnosis, incident, evidence, ctx)
        remediation = diagnosis.remediation if diagnosis else None
        if verdict is not None and pr_check_failed and remediation and remediation.action in PR_ACTIONS:
            verdict = PolicyVerdict(verdict.action, False, (pr_check_failed, *verdict.reasons))
        if verdict is not None and contradiction is not None:
            verdict = PolicyVerdict(verdict.action, False, (contradiction, *verdict.reasons))
    except Exception as exc:  # the audit must never let an unchecked proposal through
        tracer.error(f"audit failed: {type(exc).__name__}: {exc}", exc)
        action = diagnosis.remediation.action.value if diagnosis and diagnosis.remediation else "none"
        verdict = PolicyVerdict(action, False, (f"audit failed: {type(exc).__name__}: {exc}",))
    findings = AuditFindings(
        suspect_commit=suspect,
        policy=verdict.to_data() if verdict is not None else None,
        notes=notes,
    )
    if verdict is not None:
        tracer.decision(
            "allow" if verdict.allowed else "deny",
            "; ".join(verdict.reasons),
            {"action": verdict.action, "suspect_commit": suspect},
        )
    summary = f"suspect {suspect['sha'][:12]}" if suspect else "no suspect commit"
    verdict_text = "no change proposed" if verdict is None else ("allow" if verdict.allowed else "deny")
    tracer.end(f"{summary}; policy: {verdict_text}; open PR: {open_pr or 'none'}")
    return {"audit": findings, "open_pr_for_fingerprint": open_pr}


def _mutating(diagnosis: Diagnosis) -> bool:
    return diagnosis.remediation is not None and diagnosis.remediation.action in MUTATING


def _review(reviewer: Reviewer, tracer: NodeTrace, incident: Incident, evidence: Evidence,
            diagnosis: Diagnosis) -> Review:  # fmt: skip
    """The reviewer's verdict, its turns and tool calls streamed to the trace, its cost noted."""
    with streaming(tracer.reasoner_live) as streamed:
        review = reviewer.review(incident, evidence, diagnosis)
    sent = {id(r) for r in streamed}
    tracer.reasoner([r for r in review.trace if id(r) not in sent])
    tracer.usage(review.usage, "llm-review", verdict=review.verdict)
    return review


def _reviewed_suspect(
    evidence: Evidence, sha: str, started_at: datetime, notes: list[str]
) -> SuspectCommit | None:
    """The commit the review names, when the evidence holds it within the change window."""
    for item in evidence.of_kind(EvidenceKind.COMMIT):
        commit = CommitData.read(item.data)
        when = _commit_time(item)
        in_window = when is not None and started_at - CHANGE_WINDOW <= when <= started_at + CLOCK_SKEW
        if commit.sha.lower().startswith(sha.lower()) and in_window:
            notes.append(f"suspect {commit.sha[:12]}: the review names it and it landed in the window")
            return SuspectCommit(sha=commit.sha, message=commit.message, author=commit.author,
                                 changed_fields=changed_keys(commit.diff))  # fmt: skip
    notes.append(f"the review names commit {sha[:12]}, which is not a recent change of this workload")
    return None
