"""node_pressure: pods evicted (or not scheduled) because nodes are under memory/disk/PID pressure.

Signature: the target's pods evicted, or refused by a pressure taint, AND a node under pressure (its
condition, its events, or the eviction message naming the resource). Pressure elsewhere while the
target's pods are untouched is partial.

The workload is not at fault: humans are told which node (capacity, noisy neighbours).
"""

from __future__ import annotations

import re

from agent.domain import RootCause
from agent.reasoners.rules import remedies
from agent.reasoners.rules.context import Finding, RuleContext, cite
from agent.reasoners.rules.scheduling import FAILED_SCHEDULING, PRESSURE_TAINT

_EVICTED = re.compile(r"The node (?:was low on resource|had condition): \[?(\w[\w-]*)", re.IGNORECASE)
_NODE_EVENT = re.compile(
    r"EvictionThresholdMet|NodeHas(?:Insufficient\w+|DiskPressure|PIDPressure)"
    r"|Attempting to reclaim|node\.kubernetes\.io/(?:memory|disk|pid)-pressure"
)


# The kubelet's eviction message names the resource it ran low on; the node's condition is named
# after the pressure: "memory" -> MemoryPressure (ephemeral storage and disk share DiskPressure).
_CONDITION_OF = {
    "memory": "MemoryPressure",
    "ephemeral-storage": "DiskPressure",
    "nodefs": "DiskPressure",
    "imagefs": "DiskPressure",
    "pid": "PIDPressure",
    "pids": "PIDPressure",
}


def _condition(kinds: list[str]) -> str | None:
    """The one pressure condition to name as the faulty field; None when several or none are seen."""
    names = {k if k.endswith("Pressure") else _CONDITION_OF.get(k.lower(), "") for k in kinds} - {""}
    return names.pop() if len(names) == 1 else None


def node_pressure(ctx: RuleContext) -> Finding | None:
    """Pods evicted (or not scheduled) because nodes are under memory/disk/PID pressure."""
    view = ctx.view
    evicted = [p for p in view.pods if p.reason == "Evicted" or _EVICTED.search(p.message)]
    evict_events = view.events_matching(_EVICTED, ("Evicted",))
    node_events = view.events_matching(_NODE_EVENT)
    pressured = [n for n in view.nodes if n.pressures()]
    if not (evicted or evict_events or node_events or pressured):
        return None
    on_target = bool(
        evicted
        or evict_events
        or any(PRESSURE_TAINT.search(e.message) for e in view.events_matching(FAILED_SCHEDULING))
    )
    confidence = (0.8 if on_target else 0.4) + (0.1 if pressured or node_events else 0.0)
    node = (
        (pressured[0].node if pressured else "")
        or next((p.node for p in evicted if p.node), "")
        or next((e.involved_name for e in node_events if e.involved_kind == "Node"), "")
    )
    kinds = sorted({k for n in pressured for k in n.pressures()}) or sorted(
        {m.group(1) for p in evicted if (m := _EVICTED.search(p.message))}
    )
    condition = _condition(kinds)
    return Finding(
        rule="node_pressure",
        category=RootCause.NODE_PRESSURE,
        confidence=confidence,
        explanation=f"Node {node or '?'} is under pressure ({', '.join(kinds) or 'resources'}) and evicts "
        "or refuses pods; the workload itself is not at fault.",
        faulty_resource=f"Node {node}" if node else ctx.workload,
        faulty_field=f"status.conditions[{condition}].status" if node and condition else None,
        remediation=remedies.notify("node pressure needs a human (capacity, noisy neighbours)", node=node),
        cited=cite(evicted, evict_events, node_events, pressured),
        missing=() if on_target else ("the target's pods evicted or refused for the pressure",),
    )
