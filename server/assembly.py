"""The service as `paramedic serve` runs it: a healing stack, its metrics, and the API over them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from agent.config import Settings
from server.app import create_app
from server.chat.service import KUBE_KEY
from server.context import ServerContext
from server.healing import HealingStack
from server.prometheus_exporter import Metrics
from server.pull_requests import PullRequestDesk
from server.routes.pulls import DESK_KEY
from server.runstore import RunStore
from tools.kubernetes import KubeClient


def cluster_probe(kube: KubeClient) -> Callable[[], bool | str]:
    """A readiness check: can the API server be reached (a cheap `/version` call)?"""

    def ready() -> bool | str:
        try:
            kube.server_version()
        except Exception as exc:  # any failure means not ready; the reason goes to /readyz
            return f"cluster unreachable: {type(exc).__name__}: {exc}"
        return True

    return ready


def build_service(
    settings: Settings, store: RunStore, kube: KubeClient, **stack_options: Any
) -> tuple[FastAPI, HealingStack]:
    """The API app and the (not yet started) healing stack behind it, sharing one `Metrics`."""
    metrics = Metrics()
    stack = HealingStack(settings, store, kube=kube, metrics=metrics, **stack_options)
    if stack.watcher is not None or settings.ha.enabled:
        metrics.set_queue_depth_source(lambda: float(stack.queue_depth()))
    extras: dict[str, object] = {"metrics": metrics, "cluster_ready": cluster_probe(kube), KUBE_KEY: kube}
    repo = stack.context.repo
    if repo is not None:
        extras[DESK_KEY] = PullRequestDesk(repo, store, settings, on_changed=stack.runs.check_merge)
    context = ServerContext(store=store, settings=settings, runs=stack.runs, extras=extras)
    return create_app(context), stack
