"""The investigation toolset over the sandbox: reads only, scoped, redacted, capped, and every bad call
an error the model can read rather than an exception."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.tools.investigation.conftest import B64_SECRET, SECRET_VALUE, Investigated
from tools.investigation import CATALOGUE, WRITE_WORDS, InvestigationTools, ToolArgs, ToolSpec
from tools.investigation.catalogue import Backends
from tools.investigation.scope import NamespaceScope
from tools.result import ToolStatus

pytestmark = pytest.mark.integration
READS = {
    "k8s_get", "k8s_describe", "k8s_pods", "k8s_service_endpoints", "k8s_config_keys", "k8s_pod_logs",
    "k8s_events", "k8s_rollout_history", "prom_query", "prom_query_range", "prom_alerts",
    "git_recent_commits", "git_commit_diff", "git_open_prs",
}  # fmt: skip


def call(inv: Investigated, tool: str, **args: Any) -> Any:
    outcome = inv.tools.call(tool, args)
    assert outcome.ok, outcome.content
    if not outcome.truncated:
        assert json.loads(outcome.text) == outcome.content, "the model reads exactly the redacted content"
    return outcome.content


def test_the_catalogue_holds_reads_only_and_offers_what_is_configured(investigated: Investigated) -> None:
    assert {spec.name for spec in CATALOGUE} == READS
    for spec in CATALOGUE:
        assert not set(spec.name.split("_")) & set(WRITE_WORDS), spec.name
        function = spec.function_spec()["function"]
        assert function["parameters"]["type"] == "object" and function["description"]
    # No Prometheus configured here: its tools are not offered.
    assert set(investigated.tools.names()) == {n for n in READS if not n.startswith("prom_")}
    with pytest.raises(ValueError, match="named like a write"):
        InvestigationTools(
            investigated.tools._backends, [ToolSpec("k8s_delete", "kubernetes", ToolArgs, dict)]
        )


@pytest.mark.parametrize("name", ["kubectl_delete", "patch", "k8s_scale", "apply_manifest"])
def test_a_write_the_model_asks_for_is_an_unknown_tool(investigated: Investigated, name: str) -> None:
    outcome = investigated.tools.call(name, {"namespace": "shop", "name": "web-api"})
    assert outcome.status is ToolStatus.ERROR
    assert outcome.content["error"].startswith(f"unknown tool {name!r}")
    assert "k8s_get" in outcome.content["error"], "the model is told what exists"


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ("{not json", "must be a JSON object"),
        (["shop"], "must be a JSON object"),
        ({"namespace": "shop"}, "kind: Field required"),
        ({"kind": "Deployment", "namespace": "shop", "name": "web-api", "force": True}, "Extra inputs"),
        ({"kind": "Volcano", "namespace": "shop", "name": "web-api"}, "kind: Input should be"),
        ({"kind": "Deployment", "name": "web-api"}, "lives in a namespace"),
    ],
)
def test_malformed_arguments_are_errors_for_the_model(
    investigated: Investigated, arguments: Any, problem: str
) -> None:
    outcome = investigated.tools.call("k8s_get", arguments)
    assert outcome.status is ToolStatus.ERROR and problem in outcome.content["error"]


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("k8s_get", {"kind": "ConfigMap", "namespace": "other", "name": "theirs"}),
        ("k8s_pod_logs", {"namespace": "kube-system", "pod": "coredns-1"}),
        ("k8s_pods", {"namespace": "other", "selector": "app=x"}),
        ("git_recent_commits", {"kind": "Deployment", "name": "x", "namespace": "other"}),
    ],
)
def test_objects_outside_the_scope_are_denied(investigated: Investigated, tool: str, arguments: Any) -> None:
    outcome = investigated.tools.call(tool, arguments)
    assert outcome.status is ToolStatus.DENIED
    assert "scope" in outcome.content["error"]


def test_secrets_and_configmaps_show_key_names_only(investigated: Investigated) -> None:
    for tool in ("k8s_get", "k8s_config_keys", "k8s_describe"):
        outcome = investigated.tools.call(
            tool, {"kind": "Secret", "namespace": "shop", "name": "db-credentials"}
        )
        assert outcome.ok, outcome.content
        assert SECRET_VALUE not in outcome.text and B64_SECRET not in outcome.text
        assert '"keys":["password","username"]' in outcome.text
    config = call(investigated, "k8s_config_keys", kind="ConfigMap", namespace="shop", name="web-api-config")
    assert config["keys"] == ["DATABASE_URL", "FEATURE_PAYMENTS_V2", "LOG_LEVEL", "POOL_SIZE"]
    assert "postgres://" not in json.dumps(config)


def test_describe_and_events_show_the_oom_kills(investigated: Investigated) -> None:
    described = call(investigated, "k8s_describe", kind="Deployment", namespace="shop", name="web-api")
    terminations = [
        c.get("last_termination", {}).get("reason") for p in described["pods"] for c in p["containers"]
    ]
    assert "OOMKilled" in terminations
    assert described["events"], "recent events come with the description"
    events = call(investigated, "k8s_events", kind="Deployment", namespace="shop", name="web-api", limit=3)
    assert 1 <= len(events["events"]) <= 3
    got = call(investigated, "k8s_get", kind="Deployment", namespace="shop", name="web-api")
    assert got["spec"]["template"]["spec"]["containers"][0]["name"] == "app" and "status" in got
    assert "managedFields" not in json.dumps(got)


def test_pod_logs_previous_tail_and_grep_redacted_before_matching(investigated: Investigated) -> None:
    pods = call(investigated, "k8s_pods", namespace="shop", selector="app.kubernetes.io/name=web-api")
    crashed = pods["pods"][0]  # most troubled first
    assert pods["total"] >= 1 and crashed["containers"][0]["restart_count"] >= 1
    previous = call(
        investigated, "k8s_pod_logs", namespace="shop", pod=crashed["name"], previous=True, tail=5
    )
    (log,) = previous["logs"]
    assert log["previous"] is True and 1 <= len(log["text"].splitlines()) <= 5

    workers = call(investigated, "k8s_pods", namespace="shop", selector="app.kubernetes.io/name=worker")
    worker = next(p["name"] for p in workers["pods"] if p.get("ready"))
    leaked = call(investigated, "k8s_pod_logs", namespace="shop", pod=worker, grep="postgres.shop")
    assert "password=«redacted:" in leaked["logs"][0]["text"] and SECRET_VALUE not in json.dumps(leaked)
    probe = call(investigated, "k8s_pod_logs", namespace="shop", pod=worker, grep=SECRET_VALUE[:8])
    assert probe["logs"][0]["lines"] == 0, "grep cannot be used as an oracle for a secret's value"
    missing = investigated.tools.call(
        "k8s_pod_logs", {"namespace": "shop", "pod": worker, "container": "nope"}
    )
    assert missing.status is ToolStatus.ERROR and "has no container 'nope'" in missing.content["error"]


def test_service_endpoints_and_rollout_history(investigated: Investigated) -> None:
    endpoints = call(investigated, "k8s_service_endpoints", namespace="shop", service="web-api")
    assert endpoints["service"]["selector"] and endpoints["endpoints"]["source"]
    backing = endpoints["endpoints"]["ready"] + endpoints["endpoints"]["not_ready"]
    assert all(e["pod"].startswith("web-api-") for e in backing) and backing
    history = call(investigated, "k8s_rollout_history", namespace="shop", deployment="web-api")
    assert len(history["revisions"]) >= 2, "the OOM fault rolled out a new revision"
    limits = [r["containers"][0]["resources"]["limits"]["memory"] for r in history["revisions"]]
    assert len(set(limits)) >= 2, "the revisions show what changed"


def test_git_commits_diff_and_open_pull_requests(investigated: Investigated) -> None:
    commits = call(investigated, "git_recent_commits", kind="Deployment", name="web-api", namespace="shop")
    newest = commits["commits"][0]
    assert newest["sha"] == investigated.fault.commit
    diff = call(investigated, "git_commit_diff", sha=newest["sha"][:12])
    assert "memory" in diff["diff"] and diff["files"]
    assert call(investigated, "git_open_prs")["pull_requests"] == []
    bad = investigated.tools.call("git_commit_diff", {"sha": "not-a-sha"})
    assert bad.status is ToolStatus.ERROR and "sha" in bad.content["error"]


def test_a_failing_tool_body_is_an_error_result(investigated: Investigated) -> None:
    def boom(env: Backends, args: ToolArgs) -> Any:
        raise RuntimeError(f"exploded near password={SECRET_VALUE}")

    tools = InvestigationTools(
        investigated.tools._backends, [ToolSpec("k8s_boom", "kubernetes", ToolArgs, boom)]
    )
    outcome = tools.call("k8s_boom", {})
    assert outcome.status is ToolStatus.ERROR and "RuntimeError" in outcome.content["error"]
    assert SECRET_VALUE not in outcome.text, "error messages are redacted too"


def test_results_are_capped(investigated: Investigated) -> None:
    from tools.investigation import Limits

    backends = investigated.tools._backends
    small = InvestigationTools(
        Backends(
            backends.kube, None, backends.repo, NamespaceScope(), backends.clock, Limits(max_result_chars=300)
        )
    )
    outcome = small.call("k8s_get", {"kind": "Deployment", "namespace": "shop", "name": "web-api"})
    assert outcome.ok and outcome.truncated and len(outcome.text) <= 300 and "truncated" in outcome.text
