r"""The healing graph: analyst -> auditor -> decision -> (approval) -> remediation -> verification.

```
START -> analyst -> auditor -> decision --act------> remediation --applied--> verification
                                  |  \--ask--> approval --approved--^   |          |  \
                                  |            |  \--rejected--> report  |  healed: END
                                  |            \--expired/invalid--> escalate      |
                                  |--report--> report -> END        pending merge: report
                                  |--escalate--> escalate -> END    failed: escalate
                                  \--follow--> follow -> analyst (the dependency the diagnosis blamed)
verification --unhealthy, budget left--> analyst (next attempt, with what verification saw)
verification --unhealthy, budget spent--> rollback -> escalate -> END
```

Every node is built from one `GraphDeps`; the graph itself holds no state beyond the
checkpointer's, so one compiled graph serves every run (a run is a thread).
"""

from __future__ import annotations

from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph

from graph.approval import make_approval_node, route_after_approval
from graph.decision import make_decision_node, route_after_decision
from graph.deps import GraphDeps
from graph.edges import make_route_after_verification, route_after_remediation
from graph.nodes.analyst import make_analyst_node
from graph.nodes.auditor import make_auditor_node
from graph.nodes.escalation import make_escalation_node, make_report_node
from graph.nodes.follow import make_follow_node
from graph.nodes.remediation import make_remediation_node
from graph.nodes.rollback import make_rollback_node
from graph.nodes.verification import make_verification_node
from graph.state import HealingState

NODES = (
    "analyst",
    "auditor",
    "decision",
    "approval",
    "remediation",
    "verification",
    "rollback",
    "escalate",
    "report",
    "follow",
)


def build_graph(deps: GraphDeps) -> StateGraph:
    """The uncompiled healing graph over `deps` (see the module docstring for its shape)."""
    graph = StateGraph(HealingState)
    graph.add_node("analyst", make_analyst_node(deps))
    graph.add_node("auditor", make_auditor_node(deps))
    graph.add_node(
        "decision",
        make_decision_node(deps.decision, deps.breakers.target, deps.breakers.reasoner, deps.clock),
    )
    graph.add_node("approval", make_approval_node(deps.approval_ttl, deps.clock))
    graph.add_node("remediation", make_remediation_node(deps))
    graph.add_node("verification", make_verification_node(deps))
    graph.add_node("rollback", make_rollback_node(deps))
    graph.add_node("escalate", make_escalation_node(deps))
    graph.add_node("report", make_report_node(deps))
    graph.add_node("follow", make_follow_node(deps))

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
        {"verification": "verification", "report": "report", "escalate": "escalate"},
    )
    graph.add_conditional_edges(
        "verification",
        make_route_after_verification(deps),
        {"healed": END, "analyst": "analyst", "rollback": "rollback"},
    )
    graph.add_edge("follow", "analyst")
    graph.add_edge("rollback", "escalate")
    graph.add_edge("escalate", END)
    graph.add_edge("report", END)
    return graph


def compile_graph(deps: GraphDeps, checkpointer: BaseCheckpointSaver | None = None) -> Any:
    """The compiled graph; with a checkpointer, runs survive restarts and approvals can resume."""
    return build_graph(deps).compile(checkpointer=checkpointer, name="paramedic")
