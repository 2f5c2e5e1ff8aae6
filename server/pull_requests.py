"""Pull requests for people: list them, read one (title, body, diff, the run that opened it), and
merge or close it as a named human, from the dashboard, the API or `paramedic pr`.

Every write goes through the tools layer's guarded operation (`GitOpsRepo.merge_pull_request`,
`close_pull_request`) with the remediation policy as the guard: a human's merge is the approval
that auto-merge would otherwise need (`allow_merge`), but the workload must still be in scope
(namespace, kind, not protected). A pull request no Paramedic run opened is refused: there is no
workload to judge it by. Each attempt, allowed or not, is written to the audit log of the run that
opened the pull request, naming the human; then the run is nudged (`on_changed`), so a run waiting
on that pull request goes on to verification (merged) or ends rejected (closed) at once.
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

from agent.config import Settings
from agent.domain import WorkloadRef
from agent.trace import TraceEvent, TraceEventType
from graph.policies import PolicyConfig, RemediationPolicy
from server.runstore import AuditEntry, RunRecord, RunStore
from tools.gitops.base import GitOpsRepo
from tools.gitops.records import PullRequest, Workload
from tools.result import ToolResult, ToolStatus

log = logging.getLogger(__name__)

ROLLBACK_MARK = "-rollback-"  # rollback pull requests carry `<incident fingerprint>-rollback-<entry>`
DASHBOARD_PATH = "/ui/pulls/{number}"


class PullRequestView(BaseModel):
    """A pull request as people see it, with the run that opened it."""

    number: int
    title: str
    state: Literal["open", "merged", "closed"]
    provider: str = Field(description="Where it lives: local (a Git repository on disk) or github.")
    link: str = Field(description="Where a human reads it: the dashboard page (local) or its web page.")
    url: str = Field(description="The provider's own URL (a file path for the local provider).")
    head: str
    base: str
    fingerprint: str | None = None
    merged_by: str | None = None
    closed_by: str | None = None
    merge_sha: str | None = None
    run_id: str | None = Field(default=None, description="The Paramedic run that opened it, if any.")
    incident_id: str | None = None
    target: str | None = Field(default=None, description="The workload it changes (namespace/kind/name).")


class PullRequestDetail(PullRequestView):
    """A pull request with its body (markdown, shown as text) and its diff."""

    body: str
    diff: str = Field(description="What merging it changes (what it changed, once merged).")


class DeskError(RuntimeError):
    """A request the desk refuses; `status` is the HTTP status that says why."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def pull_link(provider: str, number: int, url: str) -> str:
    """Where a human reads a pull request: the dashboard's page for a local one, else its web page."""
    return DASHBOARD_PATH.format(number=number) if provider == "local" else url


def incident_fingerprint(fingerprint: str | None) -> str | None:
    """The incident fingerprint a pull request belongs to (a rollback's names its incident's)."""
    if not fingerprint:
        return None
    return fingerprint.split(ROLLBACK_MARK, 1)[0]


def _mentions(run: RunRecord, pull: PullRequest) -> bool:
    for action in run.actions:
        if isinstance(action, dict) and (
            action.get("pr_number") == pull.number or action.get("pr_url") == pull.url
        ):
            return True
    return False


@dataclass
class PullRequestDesk:
    """The configured repository's pull requests, for people (see the module docstring)."""

    repo: GitOpsRepo
    store: RunStore
    settings: Settings
    on_changed: Callable[[str], object] | None = None  # run id -> nudge the run that waits on it

    @property
    def provider(self) -> str:
        """`local` or `github`."""
        return self.repo.provider

    @property
    def can_write(self) -> bool:
        """Whether people merge and close here (local); on GitHub they do it on GitHub."""
        return self.provider == "local"

    def list(self, state: str = "all") -> list[PullRequestView]:
        """Pull requests, newest first (`open` or `all`)."""
        pulls = self._ok(self.repo.list_pull_requests(state=state, limit=200), "list pull requests")
        return [self._view(pull, self._run_of(pull)) for pull in pulls]

    def show(self, number: int) -> PullRequestDetail:
        """One pull request with its body and diff; 404 when there is none."""
        pull = self._get(number)
        diff = self.repo.pull_request_diff(number)
        text = diff.data if diff.ok and diff.data is not None else f"(the diff cannot be read: {diff.error})"
        view = self._view(pull, self._run_of(pull))
        return PullRequestDetail(**view.model_dump(), body=pull.body, diff=text)

    def merge(self, number: int, *, by: str, comment: str = "", via: str = "api") -> PullRequestView:
        """Merge an open pull request as `by`, through the guarded tool; audited on its run."""
        return self._write("merge", number, by=by, comment=comment, via=via)

    def close(self, number: int, *, by: str, comment: str = "", via: str = "api") -> PullRequestView:
        """Close an open pull request unmerged as `by`, through the guarded tool; audited on its run."""
        return self._write("close", number, by=by, comment=comment, via=via)

    # -- internals -------------------------------------------------------------------------------

    def _write(
        self, verb: Literal["merge", "close"], number: int, *, by: str, comment: str, via: str
    ) -> PullRequestView:
        by = by.strip()
        if not by:
            raise DeskError("say who you are: the audit log keeps it", 422)
        if not self.can_write:
            raise DeskError(f"{verb} {self.provider} pull requests on their own page", 409)
        pull = self._get(number)
        run = self._run_of(pull)
        if run is None:
            raise DeskError(
                f"pull request #{number} was not opened by a Paramedic run: {verb} it with git", 409
            )
        if pull.state != "open":
            raise DeskError(f"pull request #{number} is {pull.state}, not open", 409)
        target = run.target
        guard = RemediationPolicy(PolicyConfig.from_settings(self.settings, allow_merge=True))
        workload = Workload(target.kind, target.name, target.namespace)
        if verb == "merge":
            result = self.repo.merge_pull_request(number, guard=guard, workload=workload, by=by)
        else:
            result = self.repo.close_pull_request(
                number, guard=guard, workload=workload, by=by, comment=comment
            )
        self._audit(run, verb, pull, result, by=by, comment=comment, via=via)
        if not result.ok or result.data is None:
            status = 403 if result.status in (ToolStatus.DENIED, ToolStatus.NEEDS_APPROVAL) else 409
            raise DeskError(f"pull request #{number} was not {verb}d: {result.error}", status)
        if self.on_changed is not None:
            try:
                self.on_changed(run.id)
            except Exception:  # the run's follower looks again on its own; the write is done
                log.exception("nudging run %s after %s of #%s failed", run.id, verb, number)
        return self._view(result.data, run)

    def _audit(
        self,
        run: RunRecord,
        verb: str,
        pull: PullRequest,
        result: ToolResult[PullRequest],
        *,
        by: str,
        comment: str,
        via: str,
    ) -> None:
        past = "merged" if verb == "merge" else "closed"
        outcome = result.status.value if not result.ok else "ok"
        details = {"pr_number": pull.number, "pr_url": pull.url, "via": via, "target": str(run.target)}
        if result.ok and result.data is not None and result.data.merge_sha:
            details["merge_sha"] = result.data.merge_sha
        if result.error:
            details["error"] = result.error
        self.store.append_audit(
            run.id,
            AuditEntry(
                who=by,
                what=f"{verb} pull request #{pull.number}: {pull.title}",
                why=comment or f"{past} by a human via {via}",
                result=outcome,
                action=f"{verb}_pr",
                target=str(run.target),
                details=details,
            ),
        )
        summary = (
            f"{by} {past} pull request #{pull.number} via {via}"
            if result.ok
            else (f"{by} could not {verb} pull request #{pull.number}: {result.error}")
        )
        self.store.append_event(
            run.id,
            TraceEvent(run_id=run.id, type=TraceEventType.NOTE, node="pull_request", summary=summary,
                       payload={"by": by, "comment": comment, **details, "result": outcome}),
        )  # fmt: skip

    def _get(self, number: int) -> PullRequest:
        if number < 1:
            raise DeskError(f"no pull request #{number}", 404)
        found = self.repo.get_pull_request(number)
        if not found.ok or found.data is None:
            error = found.error or ""
            if "no pull request" in error or "not found" in error:
                raise DeskError(f"no pull request #{number}", 404)
            raise DeskError(f"pull request #{number} cannot be read: {error}", 502)
        return found.data

    def _run_of(self, pull: PullRequest) -> RunRecord | None:
        fingerprint = incident_fingerprint(pull.fingerprint)
        if fingerprint is None:
            return None
        runs = self.store.list_runs(fingerprint=fingerprint, limit=50).items
        return next((r for r in runs if _mentions(r, pull)), None)

    def _view(self, pull: PullRequest, run: RunRecord | None) -> PullRequestView:
        target: WorkloadRef | None = run.target if run is not None else None
        return PullRequestView(
            number=pull.number,
            title=pull.title,
            state=pull.state,
            provider=self.provider,
            link=pull_link(self.provider, pull.number, pull.url),
            url=pull.url,
            head=pull.head,
            base=pull.base,
            fingerprint=pull.fingerprint,
            merged_by=pull.merged_by,
            closed_by=pull.closed_by,
            merge_sha=pull.merge_sha,
            run_id=run.id if run is not None else None,
            incident_id=run.incident_id if run is not None else None,
            target=str(target) if target is not None else None,
        )

    @staticmethod
    def _ok(result: ToolResult[builtins.list[PullRequest]], what: str) -> Iterable[PullRequest]:
        if not result.ok or result.data is None:
            raise DeskError(f"cannot {what}: {result.error}", 502)
        return result.data
