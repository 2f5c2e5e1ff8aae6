"""Git/GitHub reads for an investigator: recent commits touching a workload or a path, one commit's
diff, and the open pull requests of the GitOps repository."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from tools.gitops.records import Workload
from tools.investigation.catalogue import Backends, ToolArgs, ToolSpec, unwrap
from tools.redaction import redact

WorkloadKind = Literal["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Service", "ConfigMap"]


class CommitsArgs(ToolArgs):
    """Recent GitOps commits touching a resource's manifest (kind, name, namespace) or a path,
    newest first."""

    kind: WorkloadKind | None = None
    name: str | None = Field(default=None, max_length=253)
    namespace: str | None = Field(default=None, max_length=63)
    path: str | None = Field(default=None, min_length=1, max_length=500)
    limit: int = Field(default=5, ge=1, le=20)

    @model_validator(mode="after")
    def _something_to_follow(self) -> CommitsArgs:
        if self.path is None and (self.kind is None or self.name is None):
            raise ValueError("give a path, or a resource's kind and name (and namespace)")
        return self


class DiffArgs(ToolArgs):
    """One commit's message, author and diff."""

    sha: str = Field(pattern=r"^[0-9a-fA-F]{7,40}$")


class PullsArgs(ToolArgs):
    """The GitOps repository's open pull requests."""

    limit: int = Field(default=10, ge=1, le=50)


def _commits(env: Backends, args: CommitsArgs) -> Any:
    workload = None
    if args.kind is not None and args.name is not None:
        workload = Workload(args.kind, args.name, args.namespace)
    limit = min(args.limit, env.limits.max_commits)
    commits = unwrap(env.git().recent_commits(path=args.path, workload=workload, limit=limit))
    return {
        "commits": [
            {"sha": c.sha, "date": c.date.isoformat(), "author": c.author, "title": c.title,
             "files": list(c.files)}
            for c in commits
        ]
    }  # fmt: skip


def _diff(env: Backends, args: DiffArgs) -> Any:
    diff = unwrap(env.git().commit_diff(args.sha))
    text = redact(diff.text)
    most = env.limits.max_diff_chars
    info = diff.commit
    return {
        "sha": info.sha, "author": info.author, "date": info.date.isoformat(), "message": info.message,
        "files": [{"path": f.path, "status": f.status} for f in diff.files],
        "diff": text[:most], "truncated": len(text) > most,
    }  # fmt: skip


def _pulls(env: Backends, args: PullsArgs) -> Any:
    pulls = unwrap(env.git().open_pull_requests(limit=min(args.limit, env.limits.max_pulls)))
    return {
        "pull_requests": [
            {"number": p.number, "title": p.title, "head": p.head, "base": p.base, "labels": list(p.labels),
             "url": p.url}
            for p in pulls
        ]
    }  # fmt: skip


TOOLS = (
    ToolSpec("git_recent_commits", "git", CommitsArgs, _commits),
    ToolSpec("git_commit_diff", "git", DiffArgs, _diff),
    ToolSpec("git_open_prs", "git", PullsArgs, _pulls),
)
