"""Fixtures for the investigation tools: one stepped sandbox with an OOM-killed web-api, a Secret with
a value that must never be shown, and a namespace outside the scope."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from paramedic.eval_sandbox import SandboxCluster
from sandbox.cluster import Sandbox
from sandbox.faults.injector import InjectedFault
from sandbox.resources import CONFIGMAPS, NAMESPACES, SECRETS
from tools.gitops.local import LocalGitRepo
from tools.investigation import InvestigationTools, NamespaceScope
from tools.kubernetes import KubeClient

SECRET_VALUE = "hunter2-Zq8xV3pL9wK"  # what the Secret holds and a log line leaks
B64_SECRET = base64.b64encode(SECRET_VALUE.encode()).decode()
LEAKY_LINE = f"connecting with password={SECRET_VALUE} to postgres.shop:5432"


@dataclass
class Investigated:
    """The sandbox, its fault, and a toolset over it scoped to `shop`."""

    sb: Sandbox
    kube: KubeClient
    fault: InjectedFault
    tools: InvestigationTools


@pytest.fixture(scope="module")
def investigated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Investigated]:
    workdir: Path = tmp_path_factory.mktemp("investigation")
    with Sandbox(workdir=workdir / "sb", seed=7, background=False) as sb:
        sb.wait_healthy(timeout=30)
        sb.store.create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other"}})
        sb.store.create(
            CONFIGMAPS,
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "theirs", "namespace": "other"},
             "data": {"TOKEN_URL": "https://example.com"}},
        )  # fmt: skip
        sb.store.create(
            SECRETS,
            {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
             "metadata": {"name": "db-credentials", "namespace": "shop"},
             "data": {"password": B64_SECRET, "username": "c2hvcA=="}},
        )  # fmt: skip
        fault = sb.inject("oom", "shop/deploy/web-api")
        sb.advance(180)
        SandboxCluster(sb).append_log("shop/deploy/worker", [LEAKY_LINE])
        kube = KubeClient.from_config(str(sb.kubeconfig_path))

        def clock() -> datetime:
            return datetime.fromtimestamp(sb.clock.time(), UTC)

        tools = InvestigationTools.create(
            kube=kube,
            repo=LocalGitRepo(sb.repo_path),
            scope=NamespaceScope.of(excluded=["kube-system"], namespaces=["shop", "default"]),
            clock=clock,
        )
        try:
            yield Investigated(sb, kube, fault, tools)
        finally:
            kube.close()
