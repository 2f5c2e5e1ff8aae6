"""The rollback node: undo the run's live changes newest first - a merged PR by a revert PR, a direct
write by rollout undo - one audit entry each, and nothing twice on a replay."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.domain import Restart
from graph.action_records import make_entry
from graph.nodes.remediation import remediation
from graph.nodes.rollback import rollback, to_undo
from graph.state import HealingState
from tests.graph.contexts import bound
from tests.graph.test_remediation import (
    AT,
    INCIDENT,
    FakeCluster,
    Setup,
    gitops,
    gitops_pr,
    main_text,
    pulls,
    state_with,
)
from tools.gitops.local import LocalGitRepo

__all__ = ["gitops"]


def two_attempts(setup: Setup) -> HealingState:
    """Attempt 1 merged a memory PR; attempt 2 restarted the workload directly (revision 3 -> 4)."""
    node = bound(remediation, setup.context())
    first = node(state_with(gitops_pr(), attempt=1))
    state = state_with(Restart(), attempt=2, actions=first["actions"])
    second = node(state)
    state["actions"] = [*first["actions"], *second["actions"]]
    assert [e["undo"]["kind"] for e in state["actions"]] == ["revert", "rollout_undo"]
    setup.cluster.calls.clear()
    setup.cluster.requests.clear()
    return state


def test_undoes_newest_first_a_direct_write_by_rollout_undo_and_a_merged_pr_by_a_revert_pr(
    gitops: Path,
) -> None:
    original = main_text(gitops)
    setup = Setup(FakeCluster(revision=3), LocalGitRepo(gitops))
    state = two_attempts(setup)
    assert main_text(gitops) != original
    restart, memory = state["actions"][1], state["actions"][0]

    update = bound(rollback, setup.context())(state)
    undo_restart, undo_memory = update["actions"]
    assert [e["undoes"] for e in update["actions"]] == [restart["id"], memory["id"]], "newest first"
    assert all(e["phase"] == "rollback" and e["result"]["status"] == "ok" for e in update["actions"])

    assert undo_restart["action"] == "rollback" and undo_restart["what"] == "rollout undo to revision 3"
    assert setup.cluster.calls == [("rollback", True), ("rollback", False)], "dry run first"
    assert setup.cluster.requests[-1].parameters == {"revision": 3}
    assert undo_restart["dry_run"]["ok"] and undo_restart["applied"]

    assert undo_memory["action"] == "revert_commit" and undo_memory["applied"]
    assert main_text(gitops) == original, "the merged fix is reverted on main"
    fix, revert = sorted(pulls(gitops), key=lambda p: p.number)
    assert fix.state == "merged" and revert.state == "merged" and undo_memory["pr_url"] == revert.url
    assert revert.fingerprint == f"{INCIDENT.fingerprint}-rollback-{memory['id']}"
    assert undo_memory["attempt"] == 1 and undo_restart["attempt"] == 2


def test_a_replay_skips_entries_already_undone(gitops: Path) -> None:
    setup = Setup(FakeCluster(revision=3), LocalGitRepo(gitops))
    state = two_attempts(setup)
    node = bound(rollback, setup.context())
    full = node(state)
    setup.cluster.calls.clear()
    count = len(pulls(gitops))

    assert node({**state, "actions": [*state["actions"], *full["actions"]]}) == {}
    assert setup.cluster.calls == [] and len(pulls(gitops)) == count

    # crashed after the first undo was checkpointed: only the older change is left to undo
    partial = node({**state, "actions": [*state["actions"], full["actions"][0]]})
    assert setup.cluster.calls == []
    [again] = partial["actions"]
    assert again["undoes"] == state["actions"][0]["id"]


def test_only_live_successful_changes_are_undone() -> None:
    def remediation(attempt: int, status: str, **extra: Any):  # type: ignore[no-untyped-def]
        return make_entry(
            run_id="run-rem", attempt=attempt, phase="remediation", action="gitops_pr", target="t",
            who="paramedic", what="w", why="y", status=status, detail="d", at=AT, **extra,
        )  # fmt: skip

    pending = remediation(1, "ok", applied=False, pending_merge=True, pr_url="file://pr/1")
    failed = remediation(2, "error", applied=False)
    live = remediation(3, "ok", applied=True, undo={"kind": "rollout_undo", "revision": 2})
    state = state_with(gitops_pr(), actions=[pending, failed, live])
    assert [e["id"] for e in to_undo(state)] == [live["id"]]


def test_a_change_without_an_undo_hint_is_recorded_as_not_undoable() -> None:
    entry = make_entry(
        run_id="run-rem", attempt=1, phase="remediation", action="gitops_pr", target="t",
        who="paramedic", what="w", why="y", status="ok", detail="already on main", at=AT, applied=True,
    )  # fmt: skip
    setup = Setup(FakeCluster(), None)
    update = bound(rollback, setup.context())(state_with(gitops_pr(), actions=[entry]))
    [undone] = update["actions"]
    assert (
        undone["result"]["status"] == "unavailable"
        and "no way to undo gitops_pr" in undone["result"]["detail"]
    )
    assert setup.cluster.calls == []


def test_nothing_to_undo_writes_nothing() -> None:
    setup = Setup(FakeCluster(), None)
    assert bound(rollback, setup.context())(state_with(gitops_pr())) == {}


def test_a_change_to_a_followed_dependency_is_undone_on_the_dependency() -> None:
    # the run followed web-api's blame to postgres and restarted postgres; the undo goes there too
    entry = make_entry(
        run_id="run-rem", attempt=1, phase="remediation", action="restart", target="shop/deployment/postgres",
        who="paramedic", what="w", why="y", status="ok", detail="d", at=AT, applied=True,
        undo={"kind": "rollout_undo", "revision": 2},
    )  # fmt: skip
    setup = Setup(FakeCluster(revision=3), None)
    update = bound(rollback, setup.context())(state_with(gitops_pr(), actions=[entry]))
    [undone] = update["actions"]
    assert undone["target"] == "shop/deployment/postgres" and undone["result"]["status"] == "ok"
    assert {(r.namespace, r.name) for r in setup.cluster.requests} == {("shop", "postgres")}
    assert INCIDENT.target.name != "postgres"
