"""The analyst recalls similar past incidents: MEMORY evidence, a trace note with the headline."""

from __future__ import annotations

from agent.domain import EvidenceKind, WorkloadRef
from agent.trace import TraceEvent
from graph.memory import FixHistory, IncidentSignature, MemoryOutcome, SimilarIncident
from graph.memory.recall import SIMILAR_NOTE, headline
from graph.nodes.analyst import analyst
from graph.state import initial_state
from tests.agent import evidence_samples as samples
from tests.graph.contexts import call, healing_context


def _similar(
    run_id: str, score: float, outcome=MemoryOutcome.HEALED, summary="healed by patching the memory limit"
):
    return SimilarIncident(run_id, "shop/deployment/web-api", "2026-03-01T12:00:00+00:00", score, outcome,
                           "oom", "patch:resources.limits.memory", summary)  # fmt: skip


class FakeMemory:
    def __init__(self, found: list[SimilarIncident], fail: bool = False) -> None:
        self.found, self.fail, self.asked = found, fail, []

    def similar(self, signature: IncidentSignature, *, exclude_run=None, limit=3):
        if self.fail:
            raise RuntimeError("database is locked")
        self.asked.append((signature, exclude_run))
        return self.found

    def fix_history(self, category: str, fix_kind: str, target: WorkloadRef) -> FixHistory:
        return FixHistory(category, fix_kind)


def test_headline_says_how_many_how_alike_and_how_they_ended() -> None:
    assert headline([]) == "no similar past incidents"
    both = [_similar("a", 0.92), _similar("b", 0.81)]
    assert headline(both) == "2 similar incidents, 92%: both healed by patching the memory limit"
    mixed = [
        _similar("a", 0.7),
        _similar("b", 0.6, MemoryOutcome.FAILED, "not healed by restarting the workload"),
    ]
    assert headline(mixed) == (
        "2 similar incidents, 70%: healed by patching the memory limit; not healed by restarting the workload"
    )


def _analyse(memory) -> tuple[dict, list[TraceEvent]]:
    events: list[TraceEvent] = []
    context = healing_context(gather=lambda target, sink: samples.oom(), memory=memory, emit=events.append)
    return call(analyst, initial_state("run-9", samples.incident("OOMKilled")), context), events


def test_the_analyst_adds_similar_incidents_as_memory_evidence_and_traces_them() -> None:
    memory = FakeMemory([_similar("past-1", 0.92)])
    update, events = _analyse(memory)
    [evidence] = update["evidence"]
    [item] = [i for i in evidence["items"] if i["kind"] == EvidenceKind.MEMORY.value]
    assert item["id"] == "memory:past-1" and item["data"]["outcome"] == "healed"
    assert "92% alike" in item["text"]
    signature, excluded = memory.asked[0]
    assert excluded == "run-9" and "oomkilled" in signature.reasons
    [note] = [e for e in events if e.payload.get("kind") == SIMILAR_NOTE]
    assert note.summary.startswith("1 similar incident, 92%")
    assert note.payload["similar"][0]["run_id"] == "past-1"
    assert update["diagnoses"][0]["diagnosis"]["category"] == "oom"  # memory does not change the diagnosis


def test_a_failing_memory_never_fails_the_diagnosis() -> None:
    update, events = _analyse(FakeMemory([], fail=True))
    assert update["diagnoses"] and any("memory unavailable" in e.summary for e in events)
    assert not any(i["kind"] == "memory" for i in update["evidence"][0]["items"])
