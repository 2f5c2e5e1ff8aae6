"""Pull request bodies and the fingerprint marker that prevents duplicate pull requests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.gitops.body import fingerprint_of, pr_labels, render_body
from tools.gitops.factory import open_repo
from tools.gitops.github import GitHubRepo
from tools.gitops.local import LocalGitRepo
from tools.gitops.records import PullRequestSpec


def test_body_has_root_cause_evidence_diff_and_marker() -> None:
    spec = PullRequestSpec(
        title="t",
        root_cause="OOMKilled",
        fingerprint="abc123",
        evidence=("restarts: 4", "peak 251Mi"),
        diff="--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a: ```\n+a: 1\n",
    )
    body = render_body(spec)
    assert body.index("## Root cause") < body.index("## Evidence") < body.index("## Change")
    assert "- restarts: 4\n- peak 251Mi\n" in body
    # The diff contains a triple backtick, so the fence must be longer.
    assert "````diff\n--- a/x" in body and "\n````\n" in body
    assert body.rstrip().endswith("<!-- paramedic-fingerprint: abc123 -->")
    assert fingerprint_of(body) == "abc123"


def test_fingerprint_from_label_and_absent() -> None:
    assert fingerprint_of("no marker", ("bug", "paramedic-fp:ff00")) == "ff00"
    assert fingerprint_of(None) is None
    spec = PullRequestSpec(title="t", root_cause="r", fingerprint="ff00", labels=("a", "paramedic-fp:ff00"))
    assert pr_labels(spec) == ("a", "paramedic-fp:ff00")


def test_spec_validation() -> None:
    with pytest.raises(ValueError, match="title"):
        PullRequestSpec(title=" ", root_cause="r", fingerprint="f")
    with pytest.raises(ValueError, match="fingerprint"):
        PullRequestSpec(title="t", root_cause="r", fingerprint="has space")


def test_factory(manifest_repo: Path) -> None:
    assert isinstance(open_repo("local", local_path=manifest_repo), LocalGitRepo)
    assert isinstance(open_repo("github", github_repo="a/b", token="t"), GitHubRepo)
    with pytest.raises(ValueError, match="local_path"):
        open_repo("local")
    with pytest.raises(ValueError, match="github_repo"):
        open_repo("github")


def test_a_body_is_redacted_on_its_way_to_the_repository_host() -> None:
    spec = PullRequestSpec(
        title="t",
        root_cause="the app logs API_TOKEN=tok_5f1b9c2e8a7d4c3b on start",
        fingerprint="abc123",
        evidence=("log: connecting postgres://app:Pg-pa55word-7731@db/shop",),
        diff="--- a/x\n+++ b/x\n@@ -1 +1 @@\n-        - --password\n-        - hunter2hunter2\n",
    )
    body = render_body(spec)
    for secret in ("tok_5f1b9c2e8a7d4c3b", "Pg-pa55word-7731", "hunter2hunter2"):
        assert secret not in body
    assert "API_TOKEN=«redacted:" in body and fingerprint_of(body) == "abc123"
