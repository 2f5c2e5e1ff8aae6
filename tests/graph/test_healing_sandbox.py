"""The healing graph end to end on a stepped sandbox: diagnose, fix, verify; retry, roll back, escalate;
approval interrupt and resume; a crash half way through remediation resumed without a duplicate PR.

Every fault type of the sandbox catalogue is here. Eleven heal: ten on the workload itself, and
dependency_down on the dependency the workload's diagnosis blames (the run follows it). The
twelfth, node_pressure, has no fix any allowed action can make (the node's memory is taken by
something outside the cluster's view), so its correct handling is a diagnosis naming the node,
no change to anything, and the humans told; its test says so.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from agent.config import Mode
from agent.domain import (
    Diagnosis,
    Evidence,
    GitOpsPullRequest,
    Incident,
    RootCause,
)
from agent.reasoners.base import ReasonerResult
from graph.checkpointing import open_checkpointer
from graph.context import VerifyConfig
from graph.runner import OnEvent, RunResult, continue_run, resume_run, start_run
from graph.state import RunOutcome, incident_diagnosis, subject_of
from tests.graph.sandbox_graph import Harness, healing_sandbox, remediations, rollbacks
from tests.sample_repo import seeded
from tools.gitops.local import LocalGitRepo
from tools.notify import Notification
from tools.result import ToolResult, ToolStatus

pytestmark = pytest.mark.e2e

# fault -> workload it heals on (observed with the rules reasoner; see the issue #5 notes)
HEALING = [
    ("bad_image", "web-api"),
    ("missing_env", "web-api"),
    ("missing_config_key", "web-api"),
    ("missing_secret", "web-api"),
    ("readiness_probe", "web-api"),
    ("bad_command", "web-api"),
    ("liveness_probe", "web-api"),
    ("unschedulable", "web-api"),
    ("bad_config_value", "web-api"),
    ("scaled_to_zero", "web-api"),
    ("oom", "joke-service"),
]


@pytest.fixture
def harness(tmp_path: Path):
    seeded(tmp_path / "sandbox")  # healing_sandbox's work dir, with the sample repository copied in
    with healing_sandbox(tmp_path) as h:
        yield h


@pytest.mark.parametrize(("fault_type", "name"), HEALING, ids=[f for f, _ in HEALING])
def test_each_fault_is_diagnosed_fixed_and_verified(harness: Harness, fault_type: str, name: str) -> None:
    fault = harness.inject(fault_type, name)
    assert not harness.fixed(fault), "the fault is in effect before the run"
    app = harness.app(harness.context())
    result = start_run(app, "run-heal", harness.incident(name), harness.events.append)

    assert result.stop == "completed"
    assert result.outcome == RunOutcome.HEALED.value, result.state.get("outcome_reason")
    _assert_healed(harness, fault, result.state)


def _assert_healed(harness: Harness, fault, state) -> None:  # type: ignore[no-untyped-def]
    """Healed by the book: the sandbox agrees, the ground-truth fix holds, one audit entry per attempt."""
    assert harness.sb.healthy(), "the sandbox itself must agree the workload recovered"
    assert harness.fixed(fault), "the live objects satisfy the fault's ground-truth fix"
    attempts = state["attempt"]
    # the incident's diagnosis names the injected fault's category and faulty resource
    diagnosis = incident_diagnosis(state)
    assert diagnosis is not None and diagnosis.category.value == fault.truth.category.value
    assert diagnosis.faulty_resource == fault.truth.faulty_resource
    done = remediations(state)
    assert [e["attempt"] for e in done] == list(range(1, attempts + 1)), "one audit entry per attempt"
    last = done[-1]
    assert last["result"]["status"] == "ok" and last["applied"], last
    assert last["who"] == "paramedic" and last["why"] and last["what"]
    assert [v["healthy"] for v in state["verifications"]] == [False] * (attempts - 1) + [True]
    assert rollbacks(state) == []


def test_dependency_down_is_healed_on_the_dependency_not_the_victim(harness: Harness) -> None:
    fault = harness.inject("dependency_down", "web-api")
    assert fault.truth.faulty_resource == "Deployment shop/postgres"
    assert not harness.fixed(fault)
    result = start_run(
        harness.app(harness.context()), "run-dep", harness.incident("web-api"), harness.events.append
    )

    assert result.outcome == RunOutcome.HEALED.value, result.state.get("outcome_reason")
    state = result.state
    _assert_healed(harness, fault, state)
    # web-api's diagnosis blamed postgres; the run followed it and diagnosed postgres on its own
    [hop] = state["follows"]
    assert (hop["source"]["name"], hop["to"]["name"]) == ("web-api", "postgres")
    assert str(subject_of(state)) == "shop/deployment/postgres"
    subjects = [c.get("subject") for c in state["diagnoses"]]
    assert subjects == ["shop/deployment/web-api", "shop/deployment/postgres"]
    # every change was made to postgres; web-api, the victim, was not touched
    assert {e["target"] for e in remediations(state)} == {"shop/deployment/postgres"}
    assert any(
        e.node == "follow" and "investigating shop/deployment/postgres" in e.summary for e in harness.events
    )
    # both recovered: the dependency that was changed and the workload whose users were hurt
    [verified] = state["verifications"]
    assert (
        "shop/deployment/postgres:" in verified["detail"] and "shop/deployment/web-api:" in verified["detail"]
    )


def test_node_pressure_is_diagnosed_on_the_node_and_handed_to_humans_untouched(harness: Harness) -> None:
    fault = harness.inject("node_pressure", "web-api")
    node = fault.truth.faulty_resource
    node_name = node.split(" ", 1)[1]
    pulls_before = len(harness.pulls())
    head_before = harness.sb.repo.head()
    notifier = RecordingNotifier()
    result = start_run(
        harness.app(harness.context(notifier=notifier)), "run-node", harness.incident("web-api")
    )

    state = result.state
    diagnosis = incident_diagnosis(state)
    assert diagnosis is not None and diagnosis.category.value == "node_pressure"
    assert diagnosis.faulty_resource == node, "the node is named, not the workload"
    # no allowed action fixes a node: nothing is changed, no PR, no direct write, no rollback;
    # the run escalates (a human must act), it is not merely posted as a report
    assert result.outcome == RunOutcome.ESCALATED.value, state.get("outcome_reason")
    assert "a human must act" in str(state.get("outcome_reason")), state.get("outcome_reason")
    assert remediations(state) == [] and rollbacks(state) == []
    assert [e["phase"] for e in state["actions"]] == ["escalation"]
    assert len(harness.pulls()) == pulls_before and harness.sb.repo.head() == head_before
    # the humans are told, and told which node
    [sent] = notifier.sent
    assert sent.root_cause == "node_pressure" and node_name in sent.summary, sent.summary
    [told] = state["actions"]
    assert told["result"]["status"] == "ok"
    assert not harness.fixed(fault), "the node is still under pressure: that is a human's job"


class RecordingNotifier:
    """Keeps what it is asked to post."""

    def __init__(self) -> None:
        self.sent: list[Notification] = []

    def send(self, notification: Notification, *, sink=None) -> ToolResult[None]:  # type: ignore[no-untyped-def]
        self.sent.append(notification)
        return ToolResult("notify.webhook", ToolStatus.OK)


class UselessFix:
    """A reasoner that is always sure of the wrong thing: an OOM raising the memory limit.

    Each attempt proposes a different limit, so every attempt is a real, policy-allowed commit
    that does nothing for the actual fault.
    """

    name = "scripted"

    def __init__(self, container: str) -> None:
        self.container = container
        self.calls = 0

    def diagnose(self, incident: Incident, evidence: Evidence) -> ReasonerResult:
        self.calls += 1
        memory = f"{256 + 64 * self.calls}Mi"
        patch = {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [{"name": self.container, "resources": {"limits": {"memory": memory}}}]
                    }
                }
            }
        }
        diagnosis = Diagnosis(
            category=RootCause.OOM,
            explanation=f"the container runs out of memory (attempt {self.calls})",
            faulty_resource=f"Deployment {incident.target.namespace}/{incident.target.name}",
            confidence=0.95,
            remediation=GitOpsPullRequest(patch=patch, rationale=f"raise to {memory}"),
        )
        return ReasonerResult(diagnosis=diagnosis, reasoner=self.name)


def test_a_useless_fix_is_retried_then_rolled_back_and_escalated(harness: Harness) -> None:
    fault = harness.inject("bad_image", "web-api")
    assert fault.commit and fault.files
    [path] = fault.files
    faulty_text = harness.head_text(path)
    live = harness.context().cluster.manifest(harness.incident("web-api").target)  # type: ignore[union-attr]
    container = live.data.body["spec"]["template"]["spec"]["containers"][0]["name"]
    faulty_image = live.data.body["spec"]["template"]["spec"]["containers"][0]["image"]
    reasoner = UselessFix(container)
    context = harness.context(reasoner=reasoner, verify=VerifyConfig(timeout_seconds=150, settle_seconds=30))
    context = replace(context, max_attempts=2)
    result = start_run(harness.app(context), "run-useless", harness.incident("web-api"))

    state = result.state
    assert result.outcome == RunOutcome.ESCALATED.value, state.get("outcome_reason")
    assert reasoner.calls == 2
    done = remediations(state)
    assert [(e["attempt"], e["result"]["status"], e.get("applied")) for e in done] == [
        (1, "ok", True),
        (2, "ok", True),
    ]
    assert [v["healthy"] for v in state["verifications"]] == [False, False]
    undone = rollbacks(state)
    assert [e["undoes"] for e in undone] == [done[1]["id"], done[0]["id"]], "newest first"
    assert all(e["result"]["status"] == "ok" and e["action"] == "revert_commit" for e in undone), undone
    # Git is back to the fault's commit: the faulty manifest, without either memory change
    assert harness.head_text(path) == faulty_text
    harness.sb.advance(60)
    body = harness.context().cluster.manifest(harness.incident("web-api").target).data.body  # type: ignore[union-attr]
    live_container = body["spec"]["template"]["spec"]["containers"][0]
    assert live_container["image"] == faulty_image
    assert live_container.get("resources", {}).get("limits", {}).get("memory") not in ("320Mi", "384Mi")
    assert not harness.sb.healthy() and not harness.fixed(fault), "the fault is in effect again"


def test_approve_mode_interrupts_then_resumes_when_alice_approves(harness: Harness) -> None:
    fault = harness.inject("bad_image", "web-api")
    app = harness.app(harness.context(Mode.APPROVE))
    first = start_run(app, "run-approve", harness.incident("web-api"))
    assert first.interrupted and first.outcome is None
    assert first.approval_request and first.approval_request.get("approval_id")
    assert remediations(first.state) == [], "nothing is done before a human answers"
    assert not harness.sb.healthy() and not harness.fixed(fault)

    done = resume_run(app, "run-approve", {"approved": True, "by": "alice", "comment": "ok"})
    assert done.stop == "completed" and done.outcome == RunOutcome.HEALED.value, done.state.get(
        "outcome_reason"
    )
    assert harness.sb.healthy() and harness.fixed(fault)
    [entry] = remediations(done.state)
    assert "alice" in entry["who"]


def test_approve_mode_rejection_changes_nothing(harness: Harness) -> None:
    fault = harness.inject("bad_image", "web-api")
    [path] = fault.files
    before = harness.head_text(path)
    pulls_before = len(harness.pulls())
    app = harness.app(harness.context(Mode.APPROVE))
    first = start_run(app, "run-reject", harness.incident("web-api"))
    assert first.interrupted
    done = resume_run(app, "run-reject", {"approved": False, "by": "bob", "comment": "not now"})
    assert done.stop == "completed" and done.outcome == RunOutcome.REJECTED.value
    assert remediations(done.state) == []
    assert harness.head_text(path) == before and len(harness.pulls()) == pulls_before
    harness.sb.advance(60)
    assert not harness.sb.healthy()


class Crash(RuntimeError):
    """The process dies."""


class DiesAfterOpeningThePR(LocalGitRepo):
    """The local repository, except that the first merge kills the process (the PR is already open)."""

    crashes = 1

    def merge_pull_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if DiesAfterOpeningThePR.crashes:
            DiesAfterOpeningThePR.crashes -= 1
            raise Crash("killed between opening and merging the pull request")
        return super().merge_pull_request(*args, **kwargs)


def crash(harness: Harness, checkpoints: str, repo: LocalGitRepo, run_id: str, incident: Incident) -> None:
    """Start run `run_id` over `repo`, a repository that kills the process part-way."""
    with open_checkpointer(checkpoints) as saver:
        app = harness.app(harness.context(repo=repo), saver)
        with pytest.raises(Crash):
            start_run(app, run_id, incident)


def resume(harness: Harness, checkpoints: str, run_id: str, *on_event: OnEvent) -> RunResult:
    """Continue run `run_id` in a fresh process over the same checkpoint file and a sound repository."""
    with open_checkpointer(checkpoints) as saver:
        app = harness.app(harness.context(repo=LocalGitRepo(harness.sb.repo_path)), saver)
        return continue_run(app, run_id, *on_event)


def test_a_crash_mid_remediation_resumes_without_a_duplicate_pr(harness: Harness, tmp_path: Path) -> None:
    harness.inject("bad_image", "web-api")
    incident = harness.incident("web-api")
    checkpoints = f"sqlite:///{tmp_path / 'checkpoints.db'}"
    DiesAfterOpeningThePR.crashes = 1
    crash(harness, checkpoints, DiesAfterOpeningThePR(harness.sb.repo_path), "run-crash", incident)
    assert DiesAfterOpeningThePR.crashes == 0, "the run got as far as merging"
    mine = [p for p in harness.pulls() if p.fingerprint == incident.fingerprint]
    assert [p.state for p in mine] == ["open"], "the PR was opened before the crash"

    result = resume(harness, checkpoints, "run-crash", harness.events.append)
    assert result.outcome == RunOutcome.HEALED.value, result.state.get("outcome_reason")
    mine = [p for p in harness.pulls() if p.fingerprint == incident.fingerprint]
    assert len(mine) == 1, f"exactly one pull request for the incident, got {mine}"
    assert mine[0].state == "merged"
    [entry] = remediations(result.state)
    assert entry["pr_url"] == mine[0].url and entry["applied"]
    assert any("reused open pull request" in e.summary for e in harness.events)
    assert harness.sb.healthy()


class DiesRightAfterMerging(LocalGitRepo):
    """The local repository, except that the process dies right after the first merge."""

    crashes = 1

    def merge_pull_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        merged = super().merge_pull_request(*args, **kwargs)
        if DiesRightAfterMerging.crashes:
            DiesRightAfterMerging.crashes -= 1
            raise Crash("killed after merging, before the checkpoint")
        return merged


def test_a_crash_right_after_the_merge_resumes_healed_without_a_second_pr(
    harness: Harness, tmp_path: Path
) -> None:
    fault = harness.inject("bad_image", "web-api")
    incident = harness.incident("web-api")
    checkpoints = f"sqlite:///{tmp_path / 'checkpoints.db'}"
    DiesRightAfterMerging.crashes = 1
    crash(harness, checkpoints, DiesRightAfterMerging(harness.sb.repo_path), "run-crash-merged", incident)
    assert DiesRightAfterMerging.crashes == 0
    result = resume(harness, checkpoints, "run-crash-merged")
    assert result.outcome == RunOutcome.HEALED.value, result.state.get("outcome_reason")
    mine = [p for p in harness.pulls() if p.fingerprint == incident.fingerprint]
    assert [p.state for p in mine] == ["merged"], mine
    [entry] = remediations(result.state)
    assert entry["result"]["status"] == "ok" and entry["applied"] and entry["undo"]["kind"] == "revert"
    assert harness.sb.healthy() and harness.fixed(fault)
