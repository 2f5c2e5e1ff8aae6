"""The evidence's side of a run's timeline: events, commits, rollouts and metric steps, dated first."""

from __future__ import annotations

from agent.domain import EvidenceItem, EvidenceKind
from graph.evidence_timeline import evidence_timeline
from tests.agent import evidence_samples as samples


def test_events_commits_rollouts_and_metric_steps_become_entries() -> None:
    evidence = samples.evidence(
        samples.event(1, "BackOff", "Back-off restarting failed container", count=12),
        samples.commit("abc123def4567890", "raise heap\n\nlong body", "diff", ["deploy.yaml"]),
        samples.rollout(4, [samples.container()], current=True),
        samples.metric("kube_deployment_spec_replicas", 0, previous=3, unit="count"),
        samples.metric("container_memory_working_set_bytes", 10, limit=20),
        EvidenceItem(id="log:x", kind=EvidenceKind.LOG, source="x", text="boom"),
    )
    entries = evidence_timeline(evidence)
    sources = [e["source"] for e in entries]
    assert sorted(sources) == ["commit", "event", "metric", "rollout"]
    dated = [e for e in entries if e["at"]]
    assert [e["at"] for e in dated] == sorted(e["at"] for e in dated)
    assert sources[-2:] == ["rollout", "metric"] or set(sources[-2:]) == {"rollout", "metric"}
    commit = next(e for e in entries if e["source"] == "commit")
    assert commit["title"].startswith("abc123def456 raise heap") and "long body" not in commit["title"]
    assert next(e for e in entries if e["source"] == "metric")["title"].endswith("3 -> 0 count")
    assert next(e for e in entries if e["source"] == "rollout")["title"] == "revision 4 (running now)"
