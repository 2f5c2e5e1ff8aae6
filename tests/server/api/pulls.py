"""An `Api` with a pull request desk over a local GitOps repository holding one open pull request
(#1, the checkout memory fix) that a stored run opened: what the pulls routes and `paramedic pr`
are tested against. `nudged` records the runs the desk woke after a merge or close."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.domain import WorkloadRef
from server.pull_requests import PullRequestDesk
from server.routes.pulls import DESK_KEY
from server.runstore import NewRun, RunStatus
from tests.server.api.conftest import Api, make_api
from tests.tools.gitops.test_local import CHECKOUT, open_fix
from tools.gitops.local import LocalGitRepo
from tools.gitops.records import PullRequest

RUN = "run-pr"


@dataclass
class PullsApi:
    api: Api
    repo: LocalGitRepo
    pull: PullRequest
    nudged: list[str]


def pulls_api(tmp_path: Path, manifest_repo: Path, **server: Any) -> Iterator[PullsApi]:
    """The API over a desk with one open pull request opened by run `RUN` (which waits on it)."""
    repo = LocalGitRepo(manifest_repo)
    _, pull = open_fix(repo)
    for api in make_api(tmp_path, **server):
        api.store.create_run(_new_run(pull))
        api.store.update_run(
            RUN, status=RunStatus.WAITING_MERGE, actions=[{"action": "open_pr", "pr_number": pull.number}]
        )
        nudged: list[str] = []
        api.context.extras[DESK_KEY] = PullRequestDesk(
            repo, api.store, api.context.settings, on_changed=nudged.append
        )
        yield PullsApi(api, repo, pull, nudged)


def _new_run(pull: PullRequest) -> NewRun:
    target = WorkloadRef(namespace=CHECKOUT.namespace, kind=CHECKOUT.kind, name=CHECKOUT.name)
    return NewRun(
        id=RUN, fingerprint=pull.fingerprint or "", target=target, mode="autonomous", provider="rules"
    )
