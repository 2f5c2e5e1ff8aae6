"""The analyst in a real LangGraph run against the sandbox: trace events arrive on the custom stream."""

from __future__ import annotations

import pytest
from langgraph.graph import END, START, StateGraph

from agent.domain import RootCause, WorkloadRef
from agent.reasoners.rules import RulesReasoner
from agent.trace import TraceEventType, from_stream_chunk
from graph.breaker import BreakerPolicy, CircuitBreaker, InMemoryBreakerStore
from graph.context import Breakers, HealingContext
from graph.evidence_gathering import Sources, gather_evidence
from graph.nodes.analyst import analyst
from graph.state import HealingState, initial_state
from sandbox.cluster import Sandbox
from tests.incidents import make_incident
from tests.sandbox.test_cluster import View, observed
from tools.gitops.local import LocalGitRepo
from tools.kubernetes import KubeClient


@pytest.mark.e2e
def test_analyst_node_diagnoses_a_sandbox_oom_inside_a_graph(tmp_path) -> None:
    with Sandbox(workdir=tmp_path / "sb", seed=4, background=False) as sb:
        sb.wait_healthy(timeout=30)
        fault = sb.inject("oom", "shop/deploy/joke-service")
        view = View(sb)
        assert sb.wait_for(lambda: not observed(view, fault.truth.symptoms), 900)

        kube = KubeClient.from_config(str(sb.kubeconfig_path))
        repo = LocalGitRepo(sb.repo_path)
        context = HealingContext(
            gather=lambda target, sink: gather_evidence(Sources(kube, repo, sink), target),
            reasoner=RulesReasoner(),
            breakers=Breakers(
                CircuitBreaker(InMemoryBreakerStore(), BreakerPolicy(3, 600, 300)),
                CircuitBreaker(InMemoryBreakerStore(), BreakerPolicy(3, 600, 300)),
            ),
        )
        builder = StateGraph(HealingState, context_schema=HealingContext)
        builder.add_node("analyst", analyst)
        builder.add_edge(START, "analyst")
        builder.add_edge("analyst", END)
        graph = builder.compile()

        target = WorkloadRef(namespace="shop", name="joke-service")
        incident = make_incident(target, "OOMKilled", id="inc-oom")
        events, final = [], None
        for mode, chunk in graph.stream(
            initial_state("run-oom", incident), context=context, stream_mode=["custom", "values"]
        ):
            if mode == "custom":
                events.append(from_stream_chunk(chunk))
            else:
                final = chunk

    assert final is not None
    diagnosis = final["diagnoses"][-1]["diagnosis"]
    assert diagnosis["category"] == RootCause.OOM.value
    # The fault was a commit that lowered the limit: the fix restores the limit the workload last
    # worked with (read from the revision before it), or reverts that commit.
    remediation = diagnosis["remediation"]
    if remediation["action"] == "gitops_pr":
        container = remediation["patch"]["spec"]["template"]["spec"]["containers"][0]
        assert container["resources"]["limits"]["memory"] == fault.truth.good_value
    else:
        assert remediation["action"] == "revert_commit" and remediation["commit"] == fault.commit
    tools_called = {e.payload.get("tool") for e in events if e.type is TraceEventType.TOOL_CALL}
    assert {
        "kubernetes.workload_status",
        "kubernetes.workload_events",
        "kubernetes.workload_logs",
    } <= tools_called
    assert events[0].type is TraceEventType.NODE_START and events[-1].type is TraceEventType.NODE_END
