"""No-op detection: a proposed action that would change nothing, or only undo a fix, is not a fix.

A pure check, run by the decision node before anything is written. An action is a no-op when:

- its patch changes nothing: every value it sets is already in the live manifest (an empty diff);
- it reverts a commit whose change is already undone (a later commit, or this run, reverted it),
  or a commit that has no change at all;
- it reverts a revert (the original fault comes back), including a revert this run made;
- it rolls back to the revision the workload runs now, or to a revision known to fail (its pods
  exist and none is ready): that re-applies what was failing.

A no-op is never executed and never counted as a fix: the decision escalates it with the reason.
When the evidence cannot tell (no manifest, no commit shown), the action is not called a no-op;
the policy and verification still stand behind it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agent.domain import Evidence as DomainEvidence
from agent.domain import EvidenceKind, ProposedRemediation, RevertCommit, Rollback
from tools.evidence.item_data import CommitData, RolloutData

_REVERTS_SHA = re.compile(r"This reverts commit ([0-9a-f]{7,40})", re.IGNORECASE)
_REVERT_TITLE = re.compile(r'^Revert "(?P<title>.+)"\s*$')


@dataclass(frozen=True)
class _Commit:
    sha: str
    title: str
    message: str
    diff: str

    def is_revert(self) -> bool:
        return bool(_REVERTS_SHA.search(self.message) or _REVERT_TITLE.match(self.title))

    def reverts(self, other: _Commit) -> bool:
        match = _REVERTS_SHA.search(self.message)
        if match:
            return _same_sha(match.group(1), other.sha)
        title = _REVERT_TITLE.match(self.title)
        return bool(title and title.group("title") == other.title)

    def has_changes(self) -> bool:
        return any(
            line[:1] in "+-" and not line.startswith(("+++", "---"))
            for line in self.diff.splitlines()
            if line
        )


@dataclass(frozen=True)
class _Revision:
    revision: int
    current: bool
    replicas: int | None
    ready: int | None

    @property
    def failing(self) -> bool:
        return (self.replicas or 0) > 0 and self.ready == 0


def _same_sha(a: str, b: str) -> bool:
    return bool(a and b) and (a.startswith(b) or b.startswith(a))


def _commits(evidence: DomainEvidence | None) -> list[_Commit]:
    out = []
    for item in evidence.of_kind(EvidenceKind.COMMIT) if evidence else []:
        data = CommitData.read(item.data)
        sha = data.sha or item.id.removeprefix("commit:")
        message = data.message or item.text
        out.append(_Commit(sha, (message.splitlines() or [""])[0], message, data.diff))
    return out


def _revisions(evidence: DomainEvidence | None) -> list[_Revision]:
    out = []
    for item in evidence.of_kind(EvidenceKind.ROLLOUT) if evidence else []:
        data = RolloutData.read(item.data)
        if data.revision is not None:
            out.append(_Revision(data.revision, data.current, data.replicas, data.ready_replicas))
    return out


def already_holds(patch: Any, manifest: Any) -> bool:
    """True when applying the strategic-merge `patch` to `manifest` changes nothing.

    Conservative: only a patch every value of which is already there is one; a null deletes a key,
    so it holds when the key is absent; lists of named items (containers, env) match by name, other
    lists must be equal; a merge directive (`$patch`, ...) is never taken for nothing.
    """
    if isinstance(patch, Mapping):
        if not isinstance(manifest, Mapping):
            return False
        for key, value in patch.items():
            if str(key).startswith("$"):
                return False
            if value is None:
                if manifest.get(key) is not None:
                    return False
            elif key not in manifest or not already_holds(value, manifest[key]):
                return False
        return True
    if isinstance(patch, list) and _named(patch):
        if not isinstance(manifest, list):
            return False
        by_name = {m.get("name"): m for m in manifest if isinstance(m, Mapping)}
        return all(p["name"] in by_name and already_holds(p, by_name[p["name"]]) for p in patch)
    return bool(patch == manifest)


def _named(items: list[Any]) -> bool:
    return bool(items) and all(isinstance(i, Mapping) and isinstance(i.get("name"), str) for i in items)


def _revert_no_op(sha: str, commits: list[_Commit], done: Sequence[Mapping[str, Any]]) -> str | None:
    made_here = [
        str(e.get("undo", {}).get("commit", ""))
        for e in done
        if e.get("result", {}).get("status") == "ok" and e.get("undo", {}).get("kind") == "revert"
    ]
    if any(_same_sha(sha, own) for own in made_here):
        return f"commit {sha[:12]} is a change this run made: reverting it undoes the fix"
    reverted_here = [
        str(e.get("what", ""))
        for e in done
        if e.get("action") == "revert_commit"
        and e.get("phase") == "remediation"
        and e.get("result", {}).get("status") == "ok"
    ]
    if any(sha[:12] in what for what in reverted_here):
        return f"commit {sha[:12]} was already reverted in this run: reverting it again changes nothing"
    target = next((c for c in commits if _same_sha(sha, c.sha)), None)
    if target is None:
        return None
    if target.is_revert():
        return f"commit {sha[:12]} is itself a revert: reverting it re-applies the change it undid"
    index = commits.index(target)
    later = commits[:index]  # commits are newest first
    undoer = next((c for c in later if c.reverts(target)), None)
    if undoer is not None and not any(c.reverts(undoer) for c in later):
        return (
            f"commit {sha[:12]} is already reverted by {undoer.sha[:12]}: reverting it again changes nothing"
        )
    if target.diff and not target.has_changes():
        return f"commit {sha[:12]} changes nothing: its revert is an empty diff"
    return None


def _rollback_no_op(action: Rollback, revisions: list[_Revision]) -> str | None:
    current = next((r for r in revisions if r.current), None)
    if action.revision is None:
        return None
    if current is not None and action.revision == current.revision:
        return f"revision {action.revision} is the one running now: rolling back to it changes nothing"
    chosen = next((r for r in revisions if r.revision == action.revision), None)
    if chosen is not None and chosen.failing:
        return (
            f"revision {action.revision} is failing now ({chosen.replicas} pods, none ready): "
            "rolling back to it re-applies what fails"
        )
    return None


def no_op_reason(
    remediation: ProposedRemediation,
    *,
    manifest: Mapping[str, Any] | None = None,
    evidence: DomainEvidence | None = None,
    done: Sequence[Mapping[str, Any]] = (),
) -> str | None:
    """Why the proposed action would change nothing (or only undo a fix), or None when it would act.

    `manifest` is the live manifest, `evidence` the run's latest evidence (commits and revisions),
    `done` the run's action entries so far.
    """
    if isinstance(remediation, RevertCommit):
        return _revert_no_op(remediation.commit, _commits(evidence), done)
    if isinstance(remediation, Rollback):
        reason = _rollback_no_op(remediation, _revisions(evidence))
        if (
            reason is None
            and remediation.patch
            and manifest is not None
            and already_holds(remediation.patch, manifest)
        ):
            reason = f"the fields of revision {remediation.revision} are already live: an empty diff"
        return reason
    patch = remediation.manifest_patch()  # a PR's or direct patch, a scale's spec.replicas
    if patch and manifest is not None and already_holds(patch, manifest):
        return "the patch sets only what is already live: an empty diff"
    return None
