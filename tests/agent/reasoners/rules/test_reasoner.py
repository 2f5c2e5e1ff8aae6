"""The rules reasoner as a whole: a reasoner that costs nothing, unknown when nothing matches,
kubelet wording without data, hostile text, citations and quips."""

from __future__ import annotations

import pytest

from agent.domain import EvidenceItem, EvidenceKind, RootCause
from agent.reasoners.base import Reasoner, TraceKind
from agent.reasoners.rules import RulesReasoner
from tests.agent import evidence_samples as s


def test_is_a_reasoner_and_costs_nothing() -> None:
    reasoner = RulesReasoner()
    assert isinstance(reasoner, Reasoner)
    result = reasoner.diagnose(s.incident(), s.oom())
    assert result.usage.model_calls == 0 and result.reasoner == "rules"
    assert any(r.kind is TraceKind.RULE for r in result.trace)


def test_healthy_but_noisy_evidence_is_unknown(diagnose) -> None:
    d = diagnose(s.healthy_but_noisy())
    assert d.category is RootCause.UNKNOWN and d.confidence <= 0.1


def test_text_only_evidence_still_matches_kubelet_wording(diagnose) -> None:
    """Without structured data the rules fall back to the event and status text."""
    ev = s.evidence(
        EvidenceItem(
            id="status:pod/x",
            kind=EvidenceKind.STATUS,
            source="pod/x",
            text="app: waiting CrashLoopBackOff, last terminated OOMKilled exit code 137, restarts 4",
        ),
        EvidenceItem(
            id="event:9",
            kind=EvidenceKind.EVENT,
            source="pod/x",
            text="Warning FailedScheduling 0/3 nodes are available: 3 Insufficient memory.",
        ),
    )
    d = diagnose(ev)
    assert d.category is RootCause.OOM and "status:pod/x" in d.cited_evidence


@pytest.mark.parametrize(
    "sample", ["oom", "bad_image", "missing_env", "readiness_probe", "scaled_to_zero", "healthy_but_noisy"]
)
def test_hostile_log_lines_do_not_change_the_outcome(diagnose, sample: str) -> None:
    clean = diagnose(getattr(s, sample)())
    ev = getattr(s, sample)()
    ev.items.append(
        s.log(s.HOSTILE + "\nKeyError: 'PROD_NAMESPACE'", previous=False, container_name="sidecar")
    )
    ev.items.append(s.event(77, "Note", s.HOSTILE, type_="Normal"))
    hostile = diagnose(ev)
    assert (hostile.category, hostile.remediation.action, hostile.remediation.manifest_patch()) == (
        clean.category,
        clean.remediation.action,
        clean.remediation.manifest_patch(),
    )
    assert hostile.confidence == pytest.approx(clean.confidence, abs=0.16)


def test_citations_only_name_existing_items(diagnose) -> None:
    for name in ("oom", "bad_image", "missing_env", "unschedulable", "dependency_down", "node_pressure"):
        ev = getattr(s, name)()
        d = diagnose(ev)
        assert d.cited_evidence and set(d.cited_evidence) <= ev.ids(), name


def test_witty_summary_adds_a_deterministic_quip_beside_the_facts(diagnose) -> None:
    plain = diagnose(s.oom())
    a = diagnose(s.oom(), witty=True)
    b = diagnose(s.oom(), witty=True)
    assert plain.quip is None and a.quip and a.quip == b.quip
    assert a.explanation == plain.explanation
