"""The remediation node: GitOps PR (merged only when auto-merge and policy allow), revert PR, direct
writes dry-run first, policy denials, one audit entry and one breaker event per attempt, idempotent
replays (including a crash between opening and merging the pull request)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.config import Mode
from agent.domain import (
    ActionType,
    Diagnosis,
    DirectPatch,
    GitOpsPullRequest,
    Notify,
    ProposedRemediation,
    Restart,
    RevertCommit,
    Rollback,
    RootCause,
    Scale,
    WorkloadRef,
)
from graph.action_records import entries, entry_id
from graph.breaker import BreakerPolicy, CircuitBreaker, InMemoryBreakerStore, target_key
from graph.context import Breakers, DecisionConfig, HealingContext
from graph.edges import route_after_remediation
from graph.nodes.remediation import remediation
from graph.policies import PolicyConfig
from graph.state import HealingState, candidate, initial_state
from tests.graph.contexts import bound, healing_context
from tests.incidents import make_incident
from tests.tools.gitops.conftest import DATA, commit_files, git, init_manifest_repo
from tools.gitops.local import LocalGitRepo
from tools.gitops.local_pulls import PullStore
from tools.guard import PolicyGuard, WriteRequest
from tools.kubernetes import Manifest, RolloutHistory, WorkloadStatus, WriteOutcome
from tools.result import ToolResult, ToolStatus, discard

AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
TARGET = WorkloadRef(namespace="shop", name="checkout")
PATH = "deploy/checkout/deployment.yaml"
INCIDENT = make_incident(TARGET, "OOMKilled", id="inc-checkout")


def memory_patch(memory: str = "512Mi", container: str = "checkout") -> dict[str, Any]:
    limits = {"name": container, "resources": {"limits": {"memory": memory}}}
    return {"spec": {"template": {"spec": {"containers": [limits]}}}}


def image_patch(image: str = "evil.example/checkout:latest") -> dict[str, Any]:
    return {"spec": {"template": {"spec": {"containers": [{"name": "checkout", "image": image}]}}}}


def deployment_body() -> dict[str, Any]:
    docs = list(yaml.safe_load_all((DATA / "checkout-deployment.yaml").read_text()))
    return next(d for d in docs if d and d.get("kind") == "Deployment")


class FakeCluster:
    """One Deployment's reads and guarded writes, as `graph.nodes.cluster.Cluster` answers them.

    Writes ask the guard exactly as `tools.kubernetes` does (same action names and bodies), honour
    `dry_run`, and are recorded in `calls` as (action, dry_run). `refuse_dry_run` makes the API
    server refuse every dry run; `statuses` are answered in turn (the last one repeats).
    """

    def __init__(
        self,
        body: Mapping[str, Any] | None = None,
        *,
        statuses: list[WorkloadStatus | None] | None = None,
        refuse_dry_run: str | None = None,
        revision: int = 3,
        unchanged: bool = False,
    ) -> None:
        self.body = copy.deepcopy(dict(body or deployment_body()))
        self.statuses = list(statuses or [])
        self.refuse_dry_run = refuse_dry_run
        self.revision = revision
        self.unchanged = unchanged
        self.calls: list[tuple[str, bool]] = []
        self.requests: list[WriteRequest] = []
        self.status_calls = 0

    def status(self, target: WorkloadRef, *, sink=discard) -> ToolResult[WorkloadStatus]:
        self.status_calls += 1
        if not self.statuses:
            return ToolResult("kubernetes.status", ToolStatus.ERROR, error="no status scripted")
        answer = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        if answer is None:
            return ToolResult("kubernetes.status", ToolStatus.ERROR, error="API server timed out")
        return ToolResult("kubernetes.status", ToolStatus.OK, data=answer)

    def manifest(self, target: WorkloadRef, *, sink=discard) -> ToolResult[Manifest]:
        data = Manifest(
            kind=target.kind, namespace=target.namespace, name=target.name, body=copy.deepcopy(self.body)
        )
        return ToolResult("kubernetes.manifest", ToolStatus.OK, data=data)

    def history(self, target: WorkloadRef, *, sink=discard) -> ToolResult[RolloutHistory]:
        data = RolloutHistory(
            namespace=target.namespace, deployment=target.name, current_revision=self.revision, revisions=[]
        )
        return ToolResult("kubernetes.history", ToolStatus.OK, data=data)

    def _write(
        self,
        action: str,
        target: WorkloadRef,
        guard: PolicyGuard,
        dry_run: bool,
        patch: Mapping[str, Any] | None = None,
        parameters: Mapping[str, Any] | None = None,
    ) -> ToolResult[WriteOutcome]:
        self.calls.append((action, dry_run))
        request = WriteRequest(
            action, target.namespace, target.kind, target.name, patch=patch, parameters=parameters or {}
        )
        self.requests.append(request)
        decision = guard(request)
        if not decision.allowed:
            return ToolResult(f"kubernetes.{action}", ToolStatus.DENIED, error=decision.reason)
        if dry_run and self.refuse_dry_run:
            return ToolResult(f"kubernetes.{action}", ToolStatus.ERROR, error=self.refuse_dry_run)
        if not dry_run:
            self.revision += 1
        outcome = WriteOutcome(
            action=action,
            kind=target.kind,
            namespace=target.namespace,
            name=target.name,
            dry_run=dry_run,
            decision=decision.reason,
            before={"v": 1},
            after={"v": 1} if self.unchanged else {"v": 2},
            changed=not self.unchanged,
            diff="" if self.unchanged else f"-v: 1\n+v: 2 ({action})",
        )
        return ToolResult(f"kubernetes.{action}", ToolStatus.OK, data=outcome)

    def write(self, target, change, guard, *, at, dry_run, sink=discard):  # type: ignore[no-untyped-def]
        if isinstance(change, Scale):
            body = {"spec": {"replicas": change.replicas}}
            parameters = {"replicas": change.replicas}
            return self._write("scale", target, guard, dry_run, patch=body, parameters=parameters)
        if isinstance(change, Restart):
            stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
            annotations = {"kubectl.kubernetes.io/restartedAt": stamp}
            body = {"spec": {"template": {"metadata": {"annotations": annotations}}}}
            return self._write("restart", target, guard, dry_run, patch=body)
        if isinstance(change, Rollback):
            revision = change.revision or self.revision - 1
            return self._write("rollback", target, guard, dry_run, parameters={"revision": revision})
        return self._write("patch", target, guard, dry_run, patch=dict(change.patch))


def breaker(limit: int = 5) -> CircuitBreaker:
    return CircuitBreaker(InMemoryBreakerStore(), BreakerPolicy(limit, 600, 300), lambda: 1000.0)


@dataclass
class Setup:
    """Deps over a fake cluster and (optionally) a real local repository, with what they recorded."""

    cluster: FakeCluster
    repo: LocalGitRepo | None
    events: list[Any] = field(default_factory=list)
    target_breaker: CircuitBreaker = field(default_factory=breaker)
    auto_merge: bool = True
    allow_merge: bool = True
    max_attempts: int = 3
    verify: Any = None
    allowed_actions: frozenset[ActionType] = frozenset(ActionType)

    def context(self) -> HealingContext:
        extra: dict[str, Any] = {} if self.verify is None else {"verify": self.verify}
        return healing_context(
            breakers=Breakers(self.target_breaker, breaker()),
            cluster=self.cluster,
            repo=self.repo,
            decision=DecisionConfig(
                mode=Mode.AUTONOMOUS,
                policy=PolicyConfig(allowed_actions=self.allowed_actions, allow_merge=self.allow_merge),
            ),
            auto_merge=self.auto_merge,
            max_attempts=self.max_attempts,
            clock=lambda: AT,
            emit=self.events.append,
            **extra,
        )

    def breaker_events(self) -> int:
        return self.target_breaker.view(target_key(TARGET)).events_in_window


@pytest.fixture
def gitops(tmp_path: Path) -> Path:
    """A local GitOps repository holding the checkout Deployment (and more) on `main`."""
    return init_manifest_repo(tmp_path / "gitops")


def pulls(repo: Path) -> list[Any]:
    return PullStore(repo / ".git" / "paramedic").all()


def main_text(repo: Path) -> str:
    return git(repo, "show", f"main:{PATH}")


def state_with(
    remediation: ProposedRemediation | None,
    attempt: int = 1,
    confidence: float = 0.9,
    **fields: Any,
) -> HealingState:
    state = initial_state("run-rem", INCIDENT)
    state["attempt"] = attempt
    if remediation is not None:
        diagnosis = Diagnosis(
            category=RootCause.OOM,
            explanation="checkout is OOMKilled at its 256Mi limit",
            faulty_resource="Deployment shop/checkout",
            confidence=confidence,
            remediation=remediation,
        )
        state["diagnoses"] = [candidate(diagnosis, "rules", a) for a in range(1, attempt + 1)]
    state.update(fields)  # type: ignore[typeddict-item]
    return state


def gitops_pr(memory: str = "512Mi") -> ProposedRemediation:
    return GitOpsPullRequest(patch=memory_patch(memory), rationale="raise the limit")


def only_entry(update: dict[str, Any]) -> dict[str, Any]:
    [entry] = update["actions"]
    return dict(entry)


# -- GitOps ---------------------------------------------------------------------------------------


def test_gitops_pr_is_opened_and_merged_when_auto_merge_and_policy_allow(gitops: Path) -> None:
    setup = Setup(FakeCluster(), LocalGitRepo(gitops))
    update = bound(remediation, setup.context())(state_with(gitops_pr()))
    entry = only_entry(update)
    assert entry["id"] == entry_id("run-rem", 1, "remediation", "gitops_pr")
    assert (entry["phase"], entry["attempt"], entry["result"]["status"]) == ("remediation", 1, "ok")
    assert entry["applied"] is True and entry["pending_merge"] is False
    [pull] = pulls(gitops)
    assert pull.state == "merged" and entry["pr_url"] == pull.url and pull.fingerprint == INCIDENT.fingerprint
    assert entry["undo"] == {"kind": "revert", "commit": pull.merge_sha}
    assert 'memory: "512Mi"' in main_text(gitops) or "memory: 512Mi" in main_text(gitops)
    assert "512Mi" in entry["diff"] and entry["patch"] == memory_patch()
    assert entry["who"] == "paramedic" and entry["why"].startswith("oom (90%)")
    assert setup.cluster.calls == [], "a change that belongs in Git is not written to the cluster"
    assert (
        route_after_remediation({**state_with(gitops_pr()), "actions": update["actions"]}) == "verification"
    )


@pytest.mark.parametrize(("auto_merge", "allow_merge"), [(True, False), (False, True), (False, False)])
def test_gitops_pr_waits_for_a_human_unless_both_allow_merging(
    gitops: Path, auto_merge: bool, allow_merge: bool
) -> None:
    before = main_text(gitops)
    setup = Setup(FakeCluster(), LocalGitRepo(gitops), auto_merge=auto_merge, allow_merge=allow_merge)
    update = bound(remediation, setup.context())(state_with(gitops_pr()))
    entry = only_entry(update)
    assert entry["result"]["status"] == "ok"
    assert entry["applied"] is False and entry["pending_merge"] is True and "undo" not in entry
    [pull] = pulls(gitops)
    assert pull.state == "open" and entry["pr_url"] == pull.url
    assert main_text(gitops) == before, "nothing reaches main without a merge"
    assert route_after_remediation({**state_with(gitops_pr()), "actions": update["actions"]}) == "wait"
    assert entry["pr_number"] == pull.number


def test_revert_commit_opens_and_merges_a_revert_pull_request(gitops: Path) -> None:
    good = main_text(gitops)
    bad = commit_files(
        gitops, {PATH: good.replace("checkout:1.14.2", "checkout:1.15.0-broken")}, "bump image"
    )
    setup = Setup(FakeCluster(), LocalGitRepo(gitops))
    proposal = RevertCommit(commit=bad)
    entry = only_entry(bound(remediation, setup.context())(state_with(proposal)))
    assert entry["result"]["status"] == "ok" and entry["applied"], entry
    assert entry["what"] == f"revert commit {bad[:12]} by pull request"
    assert main_text(gitops) == good, "the suspect commit is undone on main"
    [pull] = pulls(gitops)
    assert pull.state == "merged" and entry["undo"] == {"kind": "revert", "commit": pull.merge_sha}
    assert '+          image: "ghcr.io/acme/checkout:1.14.2"' in entry["diff"], entry["diff"]
    assert setup.cluster.calls == []


def test_a_patch_policy_forbids_is_denied_in_git_and_escalated(gitops: Path) -> None:
    before = main_text(gitops)
    setup = Setup(FakeCluster(), LocalGitRepo(gitops))
    proposal = GitOpsPullRequest(patch=image_patch())
    state = state_with(proposal)
    update = bound(remediation, setup.context())(state)
    entry = only_entry(update)
    assert entry["result"]["status"] in ("denied", "error")
    assert not entry.get("applied") and not entry.get("pending_merge")
    assert "image" in entry["result"]["detail"].lower() or "denied" in entry["result"]["detail"].lower()
    assert main_text(gitops) == before and pulls(gitops) == []
    assert route_after_remediation({**state, "actions": update["actions"]}) == "escalate"
    assert setup.breaker_events() == 1, "a refused fix is an attempt too"


def test_manifest_not_in_git_falls_back_to_a_direct_write(gitops: Path) -> None:
    other = WorkloadRef(namespace="shop", name="nowhere")
    incident = INCIDENT.model_copy(update={"target": other})
    state = state_with(gitops_pr())
    state["incident"] = incident.model_dump(mode="json")
    setup = Setup(FakeCluster(), LocalGitRepo(gitops))
    entry = only_entry(bound(remediation, setup.context())(state))
    assert setup.cluster.calls == [("patch", True), ("patch", False)]
    assert entry["result"]["status"] == "ok" and entry["applied"] and pulls(gitops) == []
    assert entry["what"] == "patch on the cluster (dry run first)"


def test_the_direct_fallback_of_a_gitops_patch_needs_policy_to_allow_direct_patches(gitops: Path) -> None:
    state = state_with(gitops_pr())
    state["incident"] = INCIDENT.model_copy(
        update={"target": WorkloadRef(namespace="shop", name="nowhere")}
    ).model_dump(mode="json")
    no_patch = frozenset(ActionType) - {ActionType.PATCH}
    setup = Setup(FakeCluster(), LocalGitRepo(gitops), allowed_actions=no_patch)
    entry = only_entry(bound(remediation, setup.context())(state))
    assert entry["result"]["status"] == "denied" and not entry["applied"]
    assert setup.cluster.calls == [("patch", True)], "refused at the dry run; nothing real is sent"


# -- direct writes --------------------------------------------------------------------------------


def test_direct_patch_is_dry_run_before_the_real_write() -> None:
    setup = Setup(FakeCluster(revision=7), None)
    proposal = DirectPatch(patch=memory_patch())
    update = bound(remediation, setup.context())(state_with(proposal))
    entry = only_entry(update)
    assert setup.cluster.calls == [("patch", True), ("patch", False)]
    assert entry["result"] == {"status": "ok", "detail": "patch applied"}
    assert entry["dry_run"]["ok"] is True and entry["applied"] is True and entry["pending_merge"] is False
    assert entry["undo"] == {"kind": "rollout_undo", "revision": 7}, "undo goes back to the revision replaced"
    assert entry["diff"] and entry["patch"] == memory_patch()


def test_direct_restart_and_scale_go_through_the_dry_run_first() -> None:
    setup = Setup(FakeCluster(), None)
    node = bound(remediation, setup.context())
    only_entry(node(state_with(Restart())))
    assert setup.cluster.calls == [("restart", True), ("restart", False)]
    setup.cluster.calls.clear()
    entry = only_entry(node(state_with(Scale(replicas=3))))
    assert setup.cluster.calls == [("scale", True), ("scale", False)] and entry["result"]["status"] == "ok"


def test_a_refused_dry_run_stops_before_the_real_write() -> None:
    setup = Setup(FakeCluster(refuse_dry_run="admission webhook denied the request"), None)
    state = state_with(DirectPatch(patch=memory_patch()))
    update = bound(remediation, setup.context())(state)
    entry = only_entry(update)
    assert setup.cluster.calls == [("patch", True)], "no real write after a refused dry run"
    assert entry["result"]["status"] == "error" and "admission webhook denied" in entry["result"]["detail"]
    assert entry["dry_run"]["ok"] is False and entry["applied"] is False and "undo" not in entry
    assert route_after_remediation({**state, "actions": update["actions"]}) == "escalate"


def test_policy_guard_denial_on_a_direct_write_is_recorded_and_escalated() -> None:
    setup = Setup(FakeCluster(), None)
    state = state_with(DirectPatch(patch=image_patch()))
    update = bound(remediation, setup.context())(state)
    entry = only_entry(update)
    assert entry["result"]["status"] == "denied" and not entry["applied"]
    assert setup.cluster.calls == [("patch", True)], "denied at the dry run: nothing real is sent"
    assert route_after_remediation({**state, "actions": update["actions"]}) == "escalate"


def test_scaling_below_the_policy_minimum_is_denied() -> None:
    setup = Setup(FakeCluster(), None)
    proposal = Scale(replicas=0)
    entry = only_entry(bound(remediation, setup.context())(state_with(proposal)))
    assert entry["result"]["status"] == "denied" and setup.cluster.calls == [("scale", True)]


def test_a_direct_write_that_changes_nothing_is_ok_without_a_real_write() -> None:
    setup = Setup(FakeCluster(unchanged=True), None)
    entry = only_entry(bound(remediation, setup.context())(state_with(Restart())))
    assert setup.cluster.calls == [("restart", True)]
    assert entry["result"] == {"status": "ok", "detail": "the workload already has this change"}


def test_gitops_without_a_repository_is_invalid_not_a_silent_direct_write() -> None:
    setup = Setup(FakeCluster(), None)
    state = state_with(gitops_pr())
    update = bound(remediation, setup.context())(state)
    entry = only_entry(update)
    assert entry["result"]["status"] == "invalid" and setup.cluster.calls == []
    assert route_after_remediation({**state, "actions": update["actions"]}) == "escalate"


def test_no_proposal_and_notify_change_nothing() -> None:
    setup = Setup(FakeCluster(), None)
    node = bound(remediation, setup.context())
    missing = only_entry(node(state_with(None)))
    assert missing["result"]["status"] == "invalid" and missing["action"] == "none"
    notify = only_entry(node(state_with(Notify())))
    assert notify["result"]["status"] == "ok" and not notify.get("applied")
    assert setup.cluster.calls == [] and setup.breaker_events() == 0, "nothing attempted, nothing counted"


def test_the_approving_human_is_named_in_who() -> None:
    setup = Setup(FakeCluster(), None)
    state = state_with(Restart(), approval={"status": "approved", "by": "alice"})
    entry = only_entry(bound(remediation, setup.context())(state))
    assert entry["who"] == "alice (approved), via paramedic"


# -- breaker and idempotency ----------------------------------------------------------------------


def test_each_attempt_records_one_breaker_event_whether_or_not_it_worked() -> None:
    setup = Setup(FakeCluster(refuse_dry_run="webhook says no"), None)
    node = bound(remediation, setup.context())
    proposal = Restart()
    first = node(state_with(proposal, attempt=1))
    assert setup.breaker_events() == 1
    second = node(state_with(proposal, attempt=2, actions=first["actions"]))
    assert setup.breaker_events() == 2
    assert only_entry(second)["attempt"] == 2 and only_entry(second)["id"] != only_entry(first)["id"]


def test_a_replayed_node_finds_its_own_entry_and_does_nothing(gitops: Path) -> None:
    setup = Setup(FakeCluster(), LocalGitRepo(gitops))
    node = bound(remediation, setup.context())
    state = state_with(gitops_pr())
    update = node(state)
    assert len(pulls(gitops)) == 1 and setup.breaker_events() == 1
    replay = node({**state, "actions": update["actions"]})
    assert replay == {}
    assert len(pulls(gitops)) == 1 and setup.breaker_events() == 1, "no second PR, no second attempt counted"
    assert (
        entries({**state, "actions": update["actions"]}, phase="remediation", attempt=1) == update["actions"]
    )


class Crash(RuntimeError):
    """The process dies."""


class MergeCrashesOnce(LocalGitRepo):
    """A local repository whose first merge dies (the PR is already open by then)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.crashes = 1

    def merge_pull_request(self, *args: Any, **kwargs: Any) -> Any:
        if self.crashes:
            self.crashes -= 1
            raise Crash("killed between opening and merging")
        return super().merge_pull_request(*args, **kwargs)


def test_a_crash_after_opening_the_pr_reuses_it_on_the_retry(gitops: Path) -> None:
    repo = MergeCrashesOnce(gitops)
    setup = Setup(FakeCluster(), repo)
    node = bound(remediation, setup.context())
    state = state_with(gitops_pr())
    with pytest.raises(Crash):
        node(state)
    [opened] = pulls(gitops)
    assert opened.state == "open"
    # the update never reached the checkpoint: the node runs again from the same state
    entry = only_entry(node(state))
    [pull] = pulls(gitops)
    assert pull.number == opened.number and pull.state == "merged", "the open PR is reused, not duplicated"
    assert entry["result"]["status"] == "ok" and entry["applied"] and entry["pr_url"] == pull.url
    assert entry["undo"] == {"kind": "revert", "commit": pull.merge_sha}
    notes = [e.summary for e in setup.events]
    assert any(f"reused open pull request #{pull.number}" in n for n in notes), notes
