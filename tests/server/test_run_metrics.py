"""`RunMetrics`: what runs add to /metrics, read back through the registry."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from agent import trace
from server.prometheus_exporter import Metrics
from server.run_metrics import RunMetrics
from server.runstore import open_run_store
from server.runstore.models import NewRun, RunStatus
from tests.agent import evidence_samples as samples


def _value(metrics: Metrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


def test_a_healed_run_feeds_every_family(tmp_path: Path) -> None:
    store = open_run_store(f"sqlite:///{tmp_path / 'runs.db'}")
    metrics = Metrics()
    listener = RunMetrics(metrics, store, "openai", breaker_status=lambda ref: "closed")
    incident = samples.incident()
    store.record_incident(incident)
    run, _ = store.open_run(
        NewRun(fingerprint=incident.fingerprint, target=incident.target, mode="autonomous", provider="openai")
    )
    listener.on_opened(incident.model_copy(update={"started_at": run.created_at - timedelta(seconds=7)}), run)
    usage = {"model_calls": 2, "input_tokens": 300, "output_tokens": 40}
    listener.on_event(trace.note(run.id, "analyst", "reasoner usage", {"reasoner": "llm", "usage": usage}))
    listener.on_event(trace.node_end(run.id, "analyst", summary="diagnosis: oom at 0.90", duration_ms=5))
    listener.on_event(trace.node_end(run.id, "analyst", summary="diagnosis: oom at 0.90", duration_ms=5))
    actions = [{"phase": "remediation", "action": "gitops_pr", "result": {"status": "ok", "detail": ""}}]
    done = store.update_run(run.id, status=RunStatus.HEALED, actions=actions)
    listener.on_finished(done)

    assert _value(metrics, "paramedic_runs_finished_total", outcome="healed") == 1
    assert _value(metrics, "paramedic_remediations_total", action="gitops_pr", result="ok") == 1
    assert _value(metrics, "paramedic_llm_calls_total", provider="openai") == 2
    assert _value(metrics, "paramedic_llm_tokens_total", provider="openai", direction="in") == 300
    assert _value(metrics, "paramedic_llm_tokens_total", provider="openai", direction="out") == 40
    assert _value(metrics, "paramedic_time_to_detect_seconds_sum") == 7
    assert _value(metrics, "paramedic_time_to_diagnose_seconds_count") == 1, "only the first diagnosis counts"
    assert _value(metrics, "paramedic_time_to_recover_seconds_count") == 1
    assert (
        _value(metrics, "paramedic_breaker_state", key=str(incident.target), paramedic_breaker_state="closed")
        == 1
    )
    store.close()


def test_a_run_waiting_for_approval_is_not_counted_yet(tmp_path: Path) -> None:
    store = open_run_store(f"sqlite:///{tmp_path / 'runs.db'}")
    metrics = Metrics()
    incident = samples.incident()
    run, _ = store.open_run(
        NewRun(fingerprint=incident.fingerprint, target=incident.target, mode="approve", provider="rules")
    )
    waiting = store.update_run(run.id, status=RunStatus.WAITING_APPROVAL)
    RunMetrics(metrics, store, "rules").on_finished(waiting)
    assert _value(metrics, "paramedic_runs_finished_total", outcome="waiting_approval") == 0
    store.close()
