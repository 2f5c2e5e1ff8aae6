from __future__ import annotations

import pytest

from agent.config import ScopeSettings
from agent.domain import WorkloadRef
from server.watcher.scope import Scope, parse_selector, parse_watch, selector_matches

WEB = WorkloadRef(namespace="shop", kind="Deployment", name="web-api")


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ("team=shop", {"team": "shop"}, True),
        ("team==shop", {"team": "shop"}, True),
        ("team=shop", {"team": "ops"}, False),
        ("team!=shop", {}, True),
        ("team!=shop", {"team": "shop"}, False),
        ("env in (prod, staging)", {"env": "staging"}, True),
        ("env in (prod,staging)", {"env": "dev"}, False),
        ("env notin (dev)", {}, True),
        ("paramedic.dev/enabled", {"paramedic.dev/enabled": "true"}, True),
        ("!paramedic.dev/disabled", {"paramedic.dev/disabled": ""}, False),
        ("team=shop,env in (prod),!legacy", {"team": "shop", "env": "prod"}, True),
        ("team=shop,env in (prod),!legacy", {"team": "shop", "env": "prod", "legacy": "y"}, False),
    ],
)
def test_selector_semantics(selector: str, labels: dict[str, str], expected: bool) -> None:
    assert selector_matches(parse_selector(selector), labels) is expected


@pytest.mark.parametrize("bad", ["", "a=b,", "env in ()", "a b", "=x", "a=(b"])
def test_bad_selectors_name_the_problem(bad: str) -> None:
    with pytest.raises(ValueError, match="label selector"):
        parse_selector(bad)


def test_default_scope_excludes_system_namespaces() -> None:
    scope = Scope()
    assert scope.namespace_in_scope("shop")
    assert not scope.namespace_in_scope("kube-system")
    assert scope.watched_namespaces == ()


def test_namespace_list_and_glob_exclusions() -> None:
    scope = Scope(ScopeSettings(namespaces=["shop", "shop-canary"], exclude_namespaces=["*-canary"]))
    assert scope.namespace_in_scope("shop")
    assert not scope.namespace_in_scope("shop-canary")
    assert not scope.namespace_in_scope("billing")
    assert scope.watched_namespaces == ("shop", "shop-canary")


def test_namespace_selector_follows_namespace_labels() -> None:
    scope = Scope(ScopeSettings(namespace_selector="paramedic.dev/enabled=true"))
    assert scope.needs_namespace_labels
    assert not scope.namespace_in_scope("shop")  # labels not seen yet: not in scope
    scope.set_namespace("shop", {"paramedic.dev/enabled": "true"})
    assert scope.namespace_in_scope("shop")
    scope.set_namespace("shop", {})
    assert not scope.namespace_in_scope("shop")
    scope.set_namespace("shop", {"paramedic.dev/enabled": "true"})
    scope.drop_namespace("shop")
    assert not scope.namespace_in_scope("shop")


@pytest.mark.parametrize(
    ("pattern", "excluded"),
    [
        ("shop/deployment/web-*", True),
        ("shop/deploy/web-api", True),
        ("shop/Deployment/web-api", True),
        ("*/job/*", False),
        ("billing/*", False),
    ],
)
def test_workload_exclusions(pattern: str, excluded: bool) -> None:
    scope = Scope(ScopeSettings(exclude_workloads=[pattern]))
    assert scope.workload_excluded(WEB) is excluded
    assert scope.in_scope(WEB) is not excluded


def test_job_exclusion() -> None:
    scope = Scope(ScopeSettings(exclude_workloads=["*/job/*", "*/cronjob/*"]))
    assert not scope.in_scope(WorkloadRef(namespace="shop", kind="Job", name="migrate-1"))
    assert not scope.in_scope(WorkloadRef(namespace="shop", kind="CronJob", name="report"))
    assert scope.in_scope(WEB)


def _watch(**spec: object) -> dict:
    return {
        "apiVersion": "paramedic.dev/v1alpha1",
        "kind": "ParamedicWatch",
        "metadata": {"name": "web-api", "namespace": "shop"},
        "spec": {"targetRef": {"kind": "Deployment", "name": "web-api"}, **spec},
    }


def test_paramedic_watch_parses_and_labels_its_overrides() -> None:
    target = parse_watch(
        _watch(
            mode="approve",
            llm={"provider": "ollama", "model": "llama3.1"},
            gitRepo="acme/shop-manifests",
            restartThreshold=5,
            thresholds={"act": 0.9, "ask": 0.6},
        )
    )
    assert target.target == WEB
    assert target.labels() == {
        "paramedic.dev/watch": "shop/web-api",
        "paramedic.dev/mode": "approve",
        "paramedic.dev/llm-provider": "ollama",
        "paramedic.dev/llm-model": "llama3.1",
        "paramedic.dev/git-repo": "acme/shop-manifests",
        "paramedic.dev/threshold-act": "0.9",
        "paramedic.dev/threshold-ask": "0.6",
    }


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"mode": "yolo"}, "spec.mode"),
        ({"restartThreshold": 0}, "spec.restartThreshold"),
        ({"thresholds": {"act": 0.2, "ask": 0.9}}, "spec.thresholds"),
    ],
)
def test_invalid_paramedic_watch_names_the_field(spec: dict, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        parse_watch(_watch(**spec))


def test_paramedic_watch_without_target_is_refused() -> None:
    with pytest.raises(ValueError, match=r"spec\.targetRef"):
        parse_watch({"metadata": {"name": "w", "namespace": "shop"}, "spec": {}})


def test_watch_targets_extend_scope_but_exclusions_win() -> None:
    scope = Scope(ScopeSettings(namespaces=["billing"]))
    assert not scope.in_scope(WEB) and not scope.namespace_relevant("shop")
    scope.set_watch(parse_watch(_watch(restartThreshold=7)))
    assert scope.in_scope(WEB) and scope.namespace_relevant("shop")
    assert scope.restart_threshold(WEB) == 7
    assert scope.restart_threshold(WorkloadRef(namespace="billing", name="x")) == 3

    excluding = Scope(ScopeSettings(exclude_workloads=["shop/*/*"]))
    excluding.set_watch(parse_watch(_watch()))
    assert not excluding.in_scope(WEB)


def test_retargeted_and_deleted_watches_are_forgotten() -> None:
    scope = Scope(ScopeSettings(namespaces=["billing"]))
    scope.set_watch(parse_watch(_watch()))
    moved = _watch()
    moved["spec"]["targetRef"]["name"] = "worker"
    scope.set_watch(parse_watch(moved))
    assert scope.target_of(WEB) is None
    assert scope.target_of(WorkloadRef(namespace="shop", name="worker")) is not None
    dropped = scope.drop_watch("shop", "web-api")
    assert dropped is not None and dropped.target.name == "worker"
    assert scope.targets() == []
