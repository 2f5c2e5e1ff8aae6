"""What every rule shares: the policy knobs, what a rule sees (`RuleContext`) and what it concludes
(`Finding`), plus the small readings of the evidence several rules make."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from agent.domain import Incident, ProposedRemediation, RootCause
from agent.reasoners.rules.evidence_view import EvidenceView
from agent.reasoners.rules.observations import ContainerObs
from agent.reasoners.rules.quantity import MI


@dataclass(frozen=True)
class RulesPolicy:
    """Knobs of the rules' remediations."""

    memory_factor: float = 2.0
    memory_cap_bytes: int = 8 * 1024 * MI  # never propose a memory limit above 8Gi
    request_fit_fraction: float = 0.8  # lowered requests take at most this share of a node


@dataclass(frozen=True)
class Finding:
    """What one rule concluded."""

    rule: str
    category: RootCause
    confidence: float
    explanation: str
    faulty_resource: str
    remediation: ProposedRemediation
    faulty_field: str | None = None
    cited: tuple[str, ...] = ()
    # The parts of the cause's signature the evidence does not show. A finding with any missing
    # part is a partial match: the reasoner never answers it as the category (see reasoner.py).
    missing: tuple[str, ...] = ()

    @property
    def whole(self) -> bool:
        """True when the evidence shows the cause's whole signature."""
        return not self.missing


@dataclass(frozen=True)
class RuleContext:
    """What a rule sees."""

    view: EvidenceView
    incident: Incident
    policy: RulesPolicy = field(default_factory=RulesPolicy)

    @property
    def workload(self) -> str:
        """The target as a faulty resource: `Deployment shop/web-api`."""
        t = self.view.target
        return f"{t.kind} {t.namespace}/{t.name}"

    def only_container(self) -> str | None:
        """The workload's container, when it has exactly one."""
        names = self.view.container_names()
        return names[0] if len(names) == 1 else None

    def failing(self) -> list[ContainerObs]:
        """Containers failing now: waiting (CrashLoopBackOff, a config error, ...), or not ready."""
        return [
            c for c in self.view.containers if c.waiting_reason or c.ready is False or c.terminated_reason
        ]

    def crashing(self) -> list[ContainerObs]:
        """Containers that crash: in CrashLoopBackOff, restarted, or with a last termination."""
        return [
            c
            for c in self.view.containers
            if c.waiting_reason == "CrashLoopBackOff" or c.restart_count > 0 or c.last_terminated_reason
        ]


Rule = Callable[[RuleContext], Finding | None]


class _Cited(Protocol):
    @property
    def item_id(self) -> str: ...


def cite(*groups: str | Iterable[str | _Cited] | None) -> tuple[str, ...]:
    """The evidence ids of ids and observations (anything with an `item_id`), deduplicated in order."""
    out: list[str] = []
    for group in groups:
        if group is None:
            continue
        if isinstance(group, str):
            out.append(group)
            continue
        for obj in group:
            out.append(obj if isinstance(obj, str) else obj.item_id)
    return tuple(dict.fromkeys(out))
