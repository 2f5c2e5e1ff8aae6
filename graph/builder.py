r"""The healing graph: analyst -> auditor -> decision -> (approval) -> remediation -> verification.

```
START -> analyst -> auditor -> decision --act------> remediation --applied--> verification
                                  |  \--ask--> approval --approved--^   |          |  \
                                  |            |  \--rejected--> report  |  healed: END
                                  |            \--expired/invalid--> escalate      |
                                  |--report--> report -> END        pending merge: await_merge
                                  |--escalate--> escalate -> END    failed: escalate
                                  \--follow--> follow -> analyst (the dependency the diagnosis blamed)
await_merge -> merge_gate (waits: interrupt) --merged--> verification
                                             --closed / recovered on its own--> report -> END
                                             --timeout--> escalate -> END
verification --unhealthy, budget left--> analyst (next attempt, with what verification saw)
verification --unhealthy, budget spent--> rollback -> escalate -> END
```

Each node is a plain function in graph/nodes/<name>.py, each conditional edge a route in
graph/edges.py. What a run uses besides its state (cluster, Git, reasoner, breakers, clock...) is its
`HealingContext` (graph/context.py), handed to LangGraph per run (`context=`), never captured when
the graph is built: one compiled graph serves every run (a run is a checkpointer thread).
"""

from __future__ import annotations

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from graph.context import HealingContext
from graph.edges import (
    route_after_approval,
    route_after_decision,
    route_after_merge_wait,
    route_after_remediation,
    route_after_verification,
)
from graph.nodes.analyst import analyst
from graph.nodes.approval import approval
from graph.nodes.auditor import auditor
from graph.nodes.await_merge import await_merge
from graph.nodes.decision import decision
from graph.nodes.escalate import escalate
from graph.nodes.follow import follow
from graph.nodes.merge_gate import merge_gate
from graph.nodes.remediation import remediation
from graph.nodes.report import report
from graph.nodes.rollback import rollback
from graph.nodes.verification import verification
from graph.state import HealingState

# The healing graph's types: its state, run context, input and output (LangGraph's four parameters).
HealingGraph = StateGraph[HealingState, HealingContext, HealingState, HealingState]
CompiledHealingGraph = CompiledStateGraph[HealingState, HealingContext, HealingState, HealingState]


# Every node, named in the graph as its function (and its module under graph/nodes/) is named.
NODES = (
    analyst,
    auditor,
    decision,
    approval,
    remediation,
    await_merge,
    merge_gate,
    verification,
    rollback,
    escalate,
    report,
    follow,
)


def build_graph() -> HealingGraph:
    """The uncompiled healing graph (see the module docstring for its shape)."""
    graph = StateGraph(HealingState, context_schema=HealingContext)
    for node in NODES:
        graph.add_node(node.__name__, node)

    graph.add_edge(START, "analyst")
    graph.add_edge("analyst", "auditor")
    graph.add_edge("auditor", "decision")
    graph.add_conditional_edges(
        "decision",
        route_after_decision,
        {
            "act": "remediation",
            "ask": "approval",
            "escalate": "escalate",
            "report": "report",
            "follow": "follow",
        },
    )
    graph.add_conditional_edges(
        "approval", route_after_approval, {"act": "remediation", "report": "report", "escalate": "escalate"}
    )
    graph.add_conditional_edges(
        "remediation",
        route_after_remediation,
        {"verification": "verification", "wait": "await_merge", "escalate": "escalate"},
    )
    graph.add_edge("await_merge", "merge_gate")
    graph.add_conditional_edges(
        "merge_gate",
        route_after_merge_wait,
        {"verification": "verification", "report": "report", "escalate": "escalate"},
    )
    graph.add_conditional_edges(
        "verification",
        route_after_verification,
        {"healed": END, "analyst": "analyst", "rollback": "rollback"},
    )
    graph.add_edge("follow", "analyst")
    graph.add_edge("rollback", "escalate")
    graph.add_edge("escalate", END)
    graph.add_edge("report", END)
    return graph


def compile_graph(checkpointer: BaseCheckpointSaver[str] | None = None) -> CompiledHealingGraph:
    """The compiled graph; with a checkpointer, runs survive restarts and approvals can resume.

    Every run passes its `HealingContext` (`graph.stream(..., context=...)`; graph/runner does).
    """
    return build_graph().compile(checkpointer=checkpointer, name="paramedic")
