"""The auditor: which recent commit is the suspect, the open-PR check, and a fail-closed verdict."""

from __future__ import annotations

from datetime import datetime

from agent.domain import Diagnosis, Evidence, ProposedRemediation, RevertCommit, RootCause
from agent.reasoners.review import Review
from graph.context import HealingContext
from graph.nodes.auditor import auditor, changed_keys, find_suspect
from graph.state import candidate, initial_state, to_data
from tests.agent import evidence_samples as samples
from tests.graph.contexts import bound, healing_context
from tools.gitops.records import PullRequest
from tools.result import ToolResult, ToolStatus

BAD_SHA = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
COMMITTED = datetime.fromisoformat("2024-05-01T10:00:00+00:00")


def _diagnosis(remediation: ProposedRemediation | None = None, field: str | None = None) -> Diagnosis:
    return Diagnosis(
        category=RootCause.BAD_IMAGE,
        explanation="the image tag does not exist",
        faulty_resource="Deployment shop/web-api",
        faulty_field=field or "spec.template.spec.containers[app].image",
        confidence=0.9,
        remediation=remediation,
    )


def _revert(sha: str = BAD_SHA) -> ProposedRemediation:
    return RevertCommit(commit=sha)


def _context(repo=None) -> HealingContext:
    return healing_context(repo=repo)


def _state(evidence: Evidence, diagnosis: Diagnosis, started: str = "2024-05-01T11:00:00+00:00"):
    incident = samples.incident("ImagePullBackOff").model_copy(
        update={"started_at": datetime.fromisoformat(started)}
    )
    state = initial_state("run-a", incident)
    state["evidence"] = [to_data(evidence)]
    state["diagnoses"] = [candidate(diagnosis, "rules", 1)]
    return state


class FakeRepo:
    """Only what the auditor reads of a GitOps repository."""

    def __init__(self, open_pr: PullRequest | None = None, fail: str | None = None, boom: bool = False):
        self.open_pr, self.fail, self.boom = open_pr, fail, boom
        self.asked: list[str] = []

    def find_open_pull_request(self, fingerprint: str) -> ToolResult[PullRequest | None]:
        self.asked.append(fingerprint)
        if self.boom:
            raise ConnectionResetError("connection reset by peer")
        if self.fail:
            return ToolResult("git.find_open_pull_request", ToolStatus.UNAVAILABLE, error=self.fail)
        return ToolResult("git.find_open_pull_request", ToolStatus.OK, data=self.open_pr)


def test_changed_keys_reads_added_and_removed_yaml_keys_only() -> None:
    diff = (
        "--- a/d.yaml\n+++ b/d.yaml\n@@ -1,3 +1,3 @@\n context: kept\n"
        "-        image: web:1\n+        image: web:2\n+  - name: LOG_LEVEL\n+    memory: 64Mi\n"
    )
    assert changed_keys(diff) == ["image", "name", "memory"]


def test_a_commit_in_the_window_that_changes_the_blamed_field_is_the_suspect() -> None:
    suspect, notes = find_suspect(samples.bad_image_with_commit(), _diagnosis(), COMMITTED.replace(hour=11))
    assert suspect is not None and suspect["sha"] == BAD_SHA
    assert suspect["changed_fields"] == ["image"]
    assert any("suspect a1b2c3d4e5f6" in note for note in notes)


def test_a_commit_long_before_the_incident_is_not_a_suspect() -> None:
    suspect, notes = find_suspect(samples.bad_image_with_commit(), _diagnosis(), COMMITTED.replace(day=3))
    assert suspect is None
    assert notes[0].startswith("0 of 1 recent commit(s)")


def test_a_recent_commit_about_something_else_is_not_blamed() -> None:
    memory = _diagnosis(field="spec.template.spec.containers[app].resources.limits.memory")
    memory = memory.model_copy(update={"category": RootCause.OOM})
    suspect, notes = find_suspect(samples.bad_image_with_commit(), memory, COMMITTED.replace(hour=11))
    assert suspect is None
    assert "no suspect named" in notes[-1]


def test_auditor_allows_a_revert_of_the_suspect_and_reports_no_open_pr() -> None:
    repo = FakeRepo()
    incident_state = _state(samples.bad_image_with_commit(), _diagnosis(_revert()))
    update = bound(auditor, _context(repo))(incident_state)
    assert update["audit"]["suspect_commit"]["sha"] == BAD_SHA
    assert update["audit"]["policy"]["verdict"] == "allow", update["audit"]["policy"]
    assert update["open_pr_for_fingerprint"] is None
    assert repo.asked == [samples.incident("ImagePullBackOff").fingerprint]


def test_an_open_pr_for_the_fingerprint_is_passed_on() -> None:
    pr = PullRequest(7, "file:///repo/pulls/7", "fix", "paramedic/x", "main", "open")  # type: ignore[arg-type]
    update = bound(auditor, _context(FakeRepo(open_pr=pr)))(
        _state(samples.bad_image_with_commit(), _diagnosis(_revert()))
    )
    assert update["open_pr_for_fingerprint"] == "file:///repo/pulls/7"


def test_reverting_a_commit_that_is_not_the_workloads_is_denied() -> None:
    update = bound(auditor, _context(FakeRepo()))(
        _state(samples.bad_image_with_commit(), _diagnosis(_revert("deadbeefdeadbeef")))
    )
    policy = update["audit"]["policy"]
    assert policy["verdict"] == "deny"
    assert any("not among the workload's recent commits" in r for r in policy["reasons"])


def test_a_pull_request_without_a_repository_is_denied() -> None:
    update = bound(auditor, _context(repo=None))(
        _state(samples.bad_image_with_commit(), _diagnosis(_revert()))
    )
    assert update["audit"]["policy"]["verdict"] == "deny"
    assert any("needs a GitOps repository" in r for r in update["audit"]["policy"]["reasons"])


def test_an_unanswered_open_pr_check_denies_a_pull_request_action() -> None:
    update = bound(auditor, _context(FakeRepo(fail="github is down")))(
        _state(samples.bad_image_with_commit(), _diagnosis(_revert()))
    )
    policy = update["audit"]["policy"]
    assert policy["verdict"] == "deny" and "github is down" in policy["reasons"][0]


def test_an_exception_in_the_audit_fails_closed() -> None:
    update = bound(auditor, _context(FakeRepo(boom=True)))(
        _state(samples.bad_image_with_commit(), _diagnosis(_revert()))
    )
    policy = update["audit"]["policy"]
    assert policy["verdict"] == "deny"
    assert policy["reasons"][0].startswith("audit failed: ConnectionResetError")


def test_nothing_to_change_means_no_verdict() -> None:
    update = bound(auditor, _context(FakeRepo()))(_state(samples.bad_image_with_commit(), _diagnosis(None)))
    assert update["audit"]["policy"] is None


class FakeReviewer:
    """The auditor's second opinion, scripted."""

    def __init__(self, review: Review) -> None:
        self.given, self.asked = review, 0

    def review(self, incident, evidence, diagnosis) -> Review:
        self.asked += 1
        return self.given


def test_a_review_that_contradicts_with_evidence_denies_and_a_failed_one_changes_nothing() -> None:
    contradicts = Review(verdict="contradicts", explanation="the log shows a missing key",
                         cited_evidence=["tool:1"])  # fmt: skip
    reviewer = FakeReviewer(contradicts)
    update = bound(auditor, healing_context(repo=FakeRepo(), reviewer=reviewer))(
        _state(samples.bad_image_with_commit(), _diagnosis(_revert()))
    )
    policy = update["audit"]["policy"]
    assert reviewer.asked == 1 and policy["verdict"] == "deny"
    assert any("review contradicts" in r and "tool:1" in r for r in policy["reasons"])

    failed = Review(verdict="failed", explanation="HTTP 500")
    unbacked = Review(verdict="contradicts", explanation="no citation")
    for quiet in (failed, unbacked):
        update = bound(auditor, healing_context(repo=FakeRepo(), reviewer=FakeReviewer(quiet)))(
            _state(samples.bad_image_with_commit(), _diagnosis(_revert()))
        )
        assert update["audit"]["policy"]["verdict"] == "allow", "an unbacked or failed review changes nothing"

    notify = FakeReviewer(contradicts)
    bound(auditor, healing_context(repo=FakeRepo(), reviewer=notify))(
        _state(samples.bad_image_with_commit(), _diagnosis(None))
    )
    assert notify.asked == 0, "only mutating proposals are reviewed"
