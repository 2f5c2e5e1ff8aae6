"""Both providers are the one `GitOpsRepo` flow over their own primitives."""

from __future__ import annotations

import inspect

import pytest

from tools.gitops.base import GitOpsRepo, revert_branch, revert_message
from tools.gitops.github import GitHubRepo
from tools.gitops.local import LocalGitRepo
from tools.gitops.records import Workload

PROVIDERS = [LocalGitRepo, GitHubRepo]
OPERATIONS = [
    name for name, member in vars(GitOpsRepo).items() if callable(member) and not name.startswith("_")
]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_provider_implements_every_primitive(provider: type[GitOpsRepo]) -> None:
    assert issubclass(provider, GitOpsRepo)
    assert not inspect.isabstract(provider), sorted(getattr(provider, "__abstractmethods__", ()))
    assert provider.provider in {"local", "github"}


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_providers_share_the_flow_of_every_operation(provider: type, operation: str) -> None:
    # An operation a provider redefined would be a second flow to keep in step with the first.
    assert getattr(provider, operation) is getattr(GitOpsRepo, operation)


def test_interface_covers_every_operation_of_the_issue() -> None:
    assert set(OPERATIONS) >= {
        "recent_commits",
        "commit_diff",
        "find_manifest",
        "create_branch",
        "commit_manifest_patch",
        "open_pull_request",
        "find_open_pull_request",
        "comment_on_issue",
        "open_revert_pull_request",
        "merge_pull_request",
    }
    assert isinstance(GitOpsRepo.base_branch, property)


def test_revert_names() -> None:
    sha = "0123456789abcdef" * 2 + "01234567"
    assert revert_branch(sha, "fp0123456789") == "paramedic/revert-0123456789ab-fp012345"
    assert revert_message("bump image", sha) == f'Revert "bump image"\n\nThis reverts commit {sha}.\n'


def test_workload_needs_kind_and_name() -> None:
    with pytest.raises(ValueError):
        Workload("", "x")
