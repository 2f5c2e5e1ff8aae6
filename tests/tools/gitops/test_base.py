"""Both providers implement the `GitOpsRepo` interface with the same signatures."""

from __future__ import annotations

import inspect

import pytest

from tools.gitops.base import GitOpsRepo, Workload
from tools.gitops.github import GitHubRepo
from tools.gitops.local import LocalGitRepo

OPERATIONS = [
    name for name, member in vars(GitOpsRepo).items() if callable(member) and not name.startswith("_")
]


@pytest.mark.parametrize("provider", [LocalGitRepo, GitHubRepo])
@pytest.mark.parametrize("operation", OPERATIONS)
def test_provider_matches_the_interface(provider: type, operation: str) -> None:
    expected = inspect.signature(getattr(GitOpsRepo, operation))
    actual = inspect.signature(getattr(provider, operation))
    assert list(actual.parameters) == list(expected.parameters)
    for name, param in expected.parameters.items():
        assert actual.parameters[name].kind == param.kind, name
        assert actual.parameters[name].default == param.default, name


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
    assert isinstance(LocalGitRepo.base_branch, property) and isinstance(GitHubRepo.base_branch, property)


def test_workload_needs_kind_and_name() -> None:
    with pytest.raises(ValueError):
        Workload("", "x")
