"""What the evidence shows, in a few lines with the ids to look at: the body of an `unknown` diagnosis.

When no cause's whole signature matches, the honest answer is what was seen, so a human starts
from facts: the replica counts, the containers' reasons, the pods' phases, the warning events by
reason, the log tails that hold errors, and what could not be gathered.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from agent.reasoners.rules.evidence_view import EvidenceView
from agent.reasoners.rules.service_selector import SERVICE
from tools.scan.objects import label_text

_ERROR_LINE = re.compile(
    r"\b(?:ERROR|FATAL|CRITICAL|panic|Traceback|Exception|refused|failed)\b", re.IGNORECASE
)
_MAX_EVENTS = 5
_MAX_LOGS = 3


@dataclass(frozen=True)
class EvidenceSummary:
    """The facts, one per line, and the ids of the items they come from."""

    lines: tuple[str, ...]
    cited: tuple[str, ...]

    @property
    def text(self) -> str:
        """The facts as one paragraph."""
        return "; ".join(self.lines) if self.lines else "no evidence was gathered"


def summarise(view: EvidenceView) -> EvidenceSummary:
    """What the evidence of the target shows, with the ids to cite."""
    lines: list[str] = []
    cited: list[str] = []
    own = view.workload(view.target.name)
    if own is not None and own.replicas is not None:
        lines.append(f"{own.ready_replicas or 0}/{own.replicas} replicas ready")
        cited.append(own.item_id)
    for service in view.services:
        selected = service.matching(service.selector)
        serving = service.ready_matching(service.selector)
        selector = label_text(service.selector) or "none"
        lines.append(
            f"Service {service.name} selects {selector}: {len(selected)} pod(s), {len(serving)} ready"
        )
        cited.append(service.item_id)
    troubled = [c for c in view.containers if c.reasons or c.restart_count or c.ready is False]
    for c in troubled[:_MAX_EVENTS]:
        states = sorted(c.reasons) + ([f"{c.restart_count} restarts"] if c.restart_count else [])
        ready = "" if c.ready is None else (" ready" if c.ready else " not ready")
        lines.append(f"container {c.name or '?'} of {c.pod}{ready}: {', '.join(states) or 'running'}")
        cited.append(c.item_id)
    for p in view.pods:
        if p.phase in ("Pending", "Failed") or p.reason:
            lines.append(f"pod {p.item_id.removeprefix('status:pod/')} {p.phase or '?'} {p.reason}".strip())
            cited.append(p.item_id)
    warnings = Counter(e.reason for e in view.events if e.reason and e.reason not in _NORMAL)
    for reason, count in warnings.most_common(_MAX_EVENTS):
        first = next(e for e in view.events if e.reason == reason)
        lines.append(f"event {reason} x{count}: {first.message[:120]}")
        cited.append(first.item_id)
    noisy = [log for log in view.logs if _ERROR_LINE.search(log.text)][:_MAX_LOGS]
    if noisy:
        lines.append("errors in the logs of " + ", ".join(log.item_id for log in noisy))
        cited += [log.item_id for log in noisy]
    if not troubled and not warnings and view.evidence.items and view.target.kind != SERVICE:
        lines.append("no container waiting, crashing or unready and no warning event")
    lines += [f"not gathered: {gap}" for gap in view.evidence.gaps[:3]]
    return EvidenceSummary(tuple(lines), tuple(dict.fromkeys(cited)))


# Reasons of routine events: they say what the controllers did, not what went wrong.
_NORMAL = frozenset(
    {"Scheduled", "Pulling", "Pulled", "Created", "Started", "ScalingReplicaSet", "SuccessfulCreate",
     "SuccessfulDelete", "Killing", "Sync", "Synced"}
)  # fmt: skip
