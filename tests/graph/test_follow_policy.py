"""graph/policies/follow: which blamed dependency a run may move its investigation to."""

from __future__ import annotations

import pytest

from agent.domain import Diagnosis, Notify, ProposedRemediation, Restart, RootCause, WorkloadRef
from graph.policies.follow import MAX_FOLLOWS, dependency_to_follow, workload_of_resource

WEB = WorkloadRef(namespace="shop", name="web-api")
POSTGRES = WorkloadRef(namespace="shop", name="postgres")
NOTIFY = Notify(rationale="dependency postgres is down")


def _blame(
    resource: str = "Deployment shop/postgres",
    category: RootCause = RootCause.DEPENDENCY_DOWN,
    remediation: ProposedRemediation | None = NOTIFY,
) -> Diagnosis:
    return Diagnosis(
        category=category,
        explanation="web-api cannot reach postgres",
        faulty_resource=resource,
        confidence=0.9,
        remediation=remediation,
    )


def test_a_dependency_down_naming_a_workload_in_the_namespace_is_followed() -> None:
    assert dependency_to_follow(_blame(), WEB, [WEB]) == POSTGRES
    assert dependency_to_follow(_blame(remediation=None), WEB, [WEB]) == POSTGRES


@pytest.mark.parametrize(
    ("resource", "kind"),
    [("StatefulSet shop/db", "StatefulSet"), ("DaemonSet shop/proxy", "DaemonSet")],
)
def test_every_workload_kind_can_be_followed(resource: str, kind: str) -> None:
    followed = dependency_to_follow(_blame(resource), WEB, [WEB])
    assert followed is not None and followed.kind == kind and followed.namespace == "shop"


@pytest.mark.parametrize(
    ("diagnosis", "why"),
    [
        (None, "no diagnosis"),
        (_blame(category=RootCause.OOM), "another category blames the workload itself"),
        (_blame("Service shop/postgres"), "a Service named as a host, no field of its own blamed"),
        (_blame("Node sandbox-worker-1"), "a node is not a workload"),
        (_blame("the database, probably"), "free text"),
        (_blame("Deployment kube-system/coredns"), "another namespace: a log must not point us there"),
        (_blame("Deployment shop/web-api"), "the workload blames itself"),
        (
            _blame(remediation=Restart()),
            "the reasoner proposes a change of its own; the decision judges that",
        ),
    ],
)
def test_nothing_else_is_followed(diagnosis: Diagnosis | None, why: str) -> None:
    assert dependency_to_follow(diagnosis, WEB, [WEB]) is None, why


def test_a_service_whose_own_field_is_blamed_is_followed() -> None:
    blame = _blame("Service shop/redis").model_copy(update={"faulty_field": "spec.selector"})
    assert dependency_to_follow(blame, WEB, [WEB]) == WorkloadRef(
        namespace="shop", kind="Service", name="redis"
    )
    elsewhere = _blame("Service kube-system/dns").model_copy(update={"faulty_field": "spec.selector"})
    assert dependency_to_follow(elsewhere, WEB, [WEB]) is None


def test_a_workload_already_investigated_is_never_followed_again() -> None:
    # postgres blames web-api back: following it would loop
    back = _blame("Deployment shop/web-api")
    assert dependency_to_follow(back, POSTGRES, [WEB, POSTGRES]) is None


def test_hops_are_bounded() -> None:
    chain = [WorkloadRef(namespace="shop", name=f"svc-{i}") for i in range(MAX_FOLLOWS + 1)]
    assert dependency_to_follow(_blame("Deployment shop/next"), chain[-1], chain) is None
    assert dependency_to_follow(_blame("Deployment shop/next"), chain[-2], chain[:-1]) is not None


def test_workload_of_resource() -> None:
    assert workload_of_resource("Deployment shop/postgres") == POSTGRES
    assert workload_of_resource("  StatefulSet shop/db  ") == WorkloadRef(
        namespace="shop", kind="StatefulSet", name="db"
    )
    bad = ("", "Deployment postgres", "deployment shop/postgres", "Deployment shop/Bad_Name", "Pod shop/x")
    for text in bad:
        assert workload_of_resource(text) is None, text
