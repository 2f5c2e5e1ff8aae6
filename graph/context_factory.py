"""The real `HealingContext` from settings: the cluster, Git, Prometheus, notifier, reasoner and breakers.

`build_context(settings)` is what the server, the demo and the eval harness hand the graph; anything
passed in (a sandbox's clock and `advance`, an in-memory breaker store, a scripted repository) is
used instead of being built.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from agent.cluster import kube_client
from agent.config import Settings
from agent.reasoners.base import Reasoner, ReasonerError
from agent.reasoners.gate import LLMGate
from graph.breaker import LLM_KEY, BreakerStore, InMemoryBreakerStore
from graph.cluster_access import KubeCluster
from graph.context import Breakers, DecisionConfig, HealingContext, Notifier, VerifyConfig, utc_now
from graph.evidence_gathering import Sources, make_gather
from tools.gitops.base import GitOpsRepo
from tools.investigation import InvestigationTools, NamespaceScope, api_selector_check
from tools.kubernetes import KubeClient
from tools.notify import WebhookNotifier
from tools.prometheus import PrometheusClient

if TYPE_CHECKING:
    # Types only: the LLM reviewer's module loads the LLM clients (openai, langchain: ~1.5 s), which
    # a process on the rules reasoner never needs.
    from agent.reasoners.review import Reviewer


def build_context(
    settings: Settings,
    *,
    reasoner: Reasoner | None = None,
    kube: KubeClient | None = None,
    repo: GitOpsRepo | None = None,
    notifier: Notifier | None = None,
    breaker_store: BreakerStore | None = None,
    clock: Callable[[], datetime] = utc_now,
    sleep: Callable[[float], None] = time.sleep,
    verify: VerifyConfig | None = None,
    reviewer: Reviewer | None = None,
) -> HealingContext:
    """The real collaborators from settings; anything passed in is used instead of being built.

    Builds a `KubeClient` from `settings.cluster`, the GitOps repository from `settings.git` (none
    when neither a local path nor a GitHub repository is set), Prometheus from `prometheus_url`,
    the webhook notifier, the configured reasoner (with an LLM provider: the read-only investigation
    tools over the same cluster, Prometheus and Git, scoped like the watcher, and the LLM breaker),
    the auditor's reviewer, and the breakers in `breaker_store`: the server passes its run store's
    (`RunStore.breakers`, shared by every replica on that store); without one they live in this
    process only.
    """
    from agent.reasoners import build_reasoner, build_reviewer
    from tools.gitops.factory import open_repo

    if kube is None:
        kube = kube_client(settings.cluster)
    git = settings.git
    if repo is None and (git.local_path is not None or git.github_repo):
        repo = open_repo(
            git.provider,
            local_path=git.local_path,
            github_repo=git.github_repo,
            github_base_url=git.github_base_url,
            token=git.token_value(),
            base_branch=git.base_branch,
            auto_merge=git.auto_merge,
        )
    store = breaker_store if breaker_store is not None else InMemoryBreakerStore()
    breakers = Breakers.create(settings.breaker, store, clock)
    prometheus = PrometheusClient(settings.prometheus_url)
    llm = settings.llm
    tools = investigation_tools(settings, kube, prometheus, repo, clock) if llm.llm_provider() else None
    gate = llm_gate(breakers)
    if reasoner is None:
        reasoner = build_reasoner(llm, settings.thresholds.act, tools=tools, gate=gate)
    if reviewer is None:
        reviewer = build_reviewer(llm, tools=tools, gate=gate)
    bound_kube, bound_repo = kube, repo
    return HealingContext(
        reasoner=reasoner,
        gather=make_gather(lambda sink: Sources(bound_kube, bound_repo, sink), prometheus),
        breakers=breakers,
        reviewer=reviewer,
        cluster=KubeCluster(kube),
        repo=repo,
        prometheus=prometheus,
        notifier=notifier or WebhookNotifier(settings.notifications.webhook_url_value()),
        decision=DecisionConfig.from_settings(settings),
        auto_merge=git.auto_merge,
        max_attempts=settings.breaker.max_attempts,
        merge_timeout=timedelta(seconds=git.merge_timeout_seconds),
        verify=verify or VerifyConfig(**settings.verification.model_dump()),
        clock=clock,
        sleep=sleep,
    )


def investigation_tools(
    settings: Settings,
    kube: KubeClient,
    prometheus: PrometheusClient,
    repo: GitOpsRepo | None,
    clock: Callable[[], datetime],
) -> InvestigationTools:
    """The read-only tools a model investigates with, over the run's own clients, scoped like the watcher
    (listed namespaces, exclusions, and the namespace selector asked of the API server)."""
    scope = settings.scope
    selector = scope.namespace_selector
    checker = api_selector_check(kube, selector) if selector else None
    allowed = NamespaceScope.of(scope.namespaces, scope.exclude_namespaces, selector, checker)
    return InvestigationTools.create(kube=kube, prometheus=prometheus, repo=repo, scope=allowed, clock=clock)


def llm_gate(breakers: Breakers) -> LLMGate:
    """The LLM breaker (`LLM_KEY`, the reasoner policy: N consecutive failures, then a cool-off and one
    probe) as the reasoners' gate."""
    breaker = breakers.reasoner

    def failed(_: ReasonerError) -> None:
        breaker.record_event(LLM_KEY)

    def succeeded() -> None:
        breaker.record_success(LLM_KEY)

    return LLMGate(allowed=lambda: breaker.allows(LLM_KEY), failed=failed, succeeded=succeeded)
