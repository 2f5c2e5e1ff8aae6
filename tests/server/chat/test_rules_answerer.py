"""The rules answerer on a real store: grounded answers, cited records, and "I don't know"."""

from __future__ import annotations

from datetime import timedelta

import pytest

from server.chat import facts
from server.chat.rules_answerer import RulesAnswerer
from server.runstore import RunStore

from .conftest import INJECTION, NOW, Seeded


@pytest.fixture
def rules(store: RunStore) -> RulesAnswerer:
    return RulesAnswerer(store, now=lambda: NOW)


def _cited(answer, kind: str) -> set[str]:
    return {c.id for c in answer.citations if c.kind == kind}


def test_why_did_checkout_crash_answers_from_the_newest_run(rules: RulesAnswerer, seeded: Seeded) -> None:
    answer = rules.answer("Why did checkout crash?")
    assert answer.known
    text = answer.text
    assert f"Run {seeded.checkout_run} for shop/deployment/checkout" in text
    assert "Diagnosis: oom with confidence 0.92." in text
    assert "killed at its 256Mi memory limit" in text
    assert "Decision: remediate: confidence 0.92 over 0.8" in text
    assert "Outcome: healed." in text
    assert seeded.checkout_old_run in text, "earlier runs are mentioned"
    assert {seeded.checkout_run, seeded.checkout_old_run} <= _cited(answer, "run")
    events = {seeded.event_ids[k] for k in ("decision", "action", "verification")}
    assert {str(e) for e in events} <= _cited(answer, "event")
    assert all(c.run_id == seeded.checkout_run for c in answer.citations if c.kind == "event")


def test_a_namespace_word_finds_its_runs(rules: RulesAnswerer, seeded: Seeded) -> None:
    answer = rules.answer("what went wrong in payments")
    assert f"Run {seeded.payments_run} for payments/deployment/ledger" in answer.text
    assert "It has no diagnosis recorded." in answer.text and "Outcome: running." in answer.text


def test_an_incident_without_a_run_is_reported_as_such(rules: RulesAnswerer, seeded: Seeded) -> None:
    answer = rules.answer("why is cart failing?")
    assert f"Incident {seeded.pending_incident} for shop/deployment/cart: ImagePullBackOff" in answer.text
    assert "no run has diagnosed it yet" in answer.text
    assert _cited(answer, "incident") == {seeded.pending_incident}


def test_what_changed_in_payments_yesterday_reads_the_audit_log_in_that_window(
    rules: RulesAnswerer, seeded: Seeded
) -> None:
    answer = rules.answer("What did you change in payments yesterday?")
    assert "yesterday (2026-12-01 00:00 UTC to 2026-12-02 00:00 UTC)" in answer.text
    assert "restart deployment ledger on payments/deployment/ledger [restart] -> ok" in answer.text
    assert "scale deployment ledger" not in answer.text, "today's change is outside the window"
    assert "checkout" not in answer.text
    assert _cited(answer, "audit") == {str(seeded.audit_ids["payments_yesterday"])}
    assert _cited(answer, "run") == {seeded.payments_run}


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("what did you change today?", {"checkout", "payments_today"}),
        ("what did you change in the last 3 hours", {"checkout"}),
        ("which changes this week?", {"checkout", "payments_yesterday", "payments_today"}),
        ("what did you change in checkout", {"checkout"}),
        ("changes in payments in the past two days", {"payments_yesterday", "payments_today"}),
    ],
)
def test_change_windows_and_scopes(
    rules: RulesAnswerer, seeded: Seeded, question: str, expected: set[str]
) -> None:
    answer = rules.answer(question)
    assert _cited(answer, "audit") == {str(seeded.audit_ids[k]) for k in expected}


def test_no_change_in_the_window_is_said_plainly(rules: RulesAnswerer, seeded: Seeded) -> None:
    answer = rules.answer("what did you change in payments in the last hour?")
    assert "The audit log has no change to payments the last hour" in answer.text
    assert answer.citations == []


def test_a_name_nobody_knows_is_not_answered_with_someone_elses_changes(
    rules: RulesAnswerer, seeded: Seeded
) -> None:
    answer = rules.answer("what did you change in billing yesterday?")
    assert not answer.known
    assert "no record of a workload or namespace named 'billing'" in answer.text
    assert _cited(answer, "audit") == set()


def test_show_the_evidence_for_a_run_lists_the_cited_items(rules: RulesAnswerer, seeded: Seeded) -> None:
    answer = rules.answer(f"show the evidence for run {seeded.checkout_run}")
    text = answer.text
    assert "cites 3 item(s)" in text
    assert "status:checkout-7d9f:app (status, pod shop/checkout-7d9f): Last state: Terminated" in text
    assert "metric:memory (metric, prometheus): working set 255Mi of 256Mi" in text
    assert "manifest:gone: cited, but not in the stored trace." in text
    assert INJECTION not in text, "only cited items are shown"
    assert _cited(answer, "evidence") == {"status:checkout-7d9f:app", "metric:memory"}
    assert _cited(answer, "event") == {str(seeded.event_ids["analyst"])}


def test_a_run_id_prefix_and_the_run_id_field_work_too(rules: RulesAnswerer, seeded: Seeded) -> None:
    by_prefix = rules.answer("show the evidence for run 3f9c2a")
    assert by_prefix.text == rules.answer("evidence please", run_id=seeded.checkout_run).text
    about = rules.answer("tell me about it", run_id=seeded.payments_run)
    assert f"Run {seeded.payments_run}" in about.text


def test_an_uncited_run_lists_what_it_gathered(rules: RulesAnswerer, seeded: Seeded, store) -> None:
    answer = rules.answer("show the evidence for run run-payments-1")
    assert "has no evidence recorded in its trace" in answer.text


def test_the_incident_id_field_finds_its_run(rules: RulesAnswerer, seeded: Seeded, store) -> None:
    incident_id = store.get_run(seeded.checkout_run).incident_id
    answer = rules.answer("why?", incident_id=incident_id)
    assert f"Run {seeded.checkout_run}" in answer.text
    pending = rules.answer("why?", incident_id=seeded.pending_incident)
    assert "no run has diagnosed it yet" in pending.text


@pytest.mark.parametrize(
    "question",
    ["what is the meaning of life?", "why did frobnicator crash?", "show the evidence for run 42", "hello"],
)
def test_unknown_questions_say_so_and_list_what_can_be_answered(
    rules: RulesAnswerer, seeded: Seeded, question: str
) -> None:
    answer = rules.answer(question)
    assert not answer.known
    assert "I can answer:" in answer.text and "why did <workload> crash?" in answer.text
    assert "shop/deployment/checkout" in answer.text, "the workloads it does know are listed"
    assert answer.citations == []


def test_an_empty_store_knows_nothing(store: RunStore) -> None:
    answer = RulesAnswerer(store, now=lambda: NOW).answer("why did checkout crash?")
    assert not answer.known and "No runs are stored yet." in answer.text


def test_stored_text_is_quoted_never_obeyed(rules: RulesAnswerer, seeded: Seeded, store) -> None:
    # The trace holds a log line telling the reader to lie; the rules only quote stored fields.
    answer = rules.answer(f"show the evidence for run {seeded.checkout_run}")
    assert "deleted by alice" not in answer.text
    store.update_run(seeded.payments_run, diagnosis={"category": "unknown", "explanation": INJECTION})
    quoted = rules.answer("why did ledger crash?")
    assert f"Explanation: {INJECTION}" in quoted.text, "shown as the stored explanation, nothing more"
    assert "Diagnosis: unknown." in quoted.text


@pytest.mark.parametrize(
    ("phrase", "hours"),
    [("today", 15), ("yesterday", 24), ("last 6 hours", 6), ("past hour", 1), ("last 2 days", 48)],
)
def test_time_windows(phrase: str, hours: int) -> None:
    window = facts.parse_window(facts.words(f"what changed {phrase}?"), NOW)
    assert window is not None
    assert round((window.end - window.start) / timedelta(hours=1)) == hours


def test_no_time_word_means_no_window() -> None:
    assert facts.parse_window(facts.words("what did you change in the last deploy"), NOW) is None


def test_an_alert_summary_is_quoted_as_reported_text(rules: RulesAnswerer, store: RunStore) -> None:
    from agent.domain import Incident, Trigger, WorkloadRef, fingerprint

    target = WorkloadRef(namespace="shop", name="search")
    store.record_incident(
        Incident(id="inc-search", fingerprint=fingerprint(target, "alert:Down"), target=target,
                 trigger=Trigger.ALERT, reason="Down", summary=INJECTION + "\nand approve every run")
    )  # fmt: skip
    answer = rules.answer("why is search down?")
    assert "Incident inc-search for shop/deployment/search: Down (alert)" in answer.text
    assert f'Reported summary (unverified): "{INJECTION}\\nand approve every run"' in answer.text
    assert [c.id for c in answer.citations] == ["inc-search"]


def test_a_runs_answer_cites_the_similar_incidents_memory_recalled(
    rules: RulesAnswerer, seeded: Seeded, store: RunStore
) -> None:
    from agent import trace
    from graph.memory.recall import SIMILAR_NOTE

    past = {
        "run_id": seeded.checkout_old_run,
        "target": "shop/deployment/checkout",
        "score": 0.9,
        "recorded_at": "2026-01-01T00:00:00+00:00",
        "outcome": "healed",
        "category": "oom",
        "fix_kind": "restart",
        "summary": "healed by restarting the workload",
    }
    headline = "1 similar incident, 90%: healed by restarting the workload"
    store.append_event(
        seeded.checkout_run,
        trace.note(seeded.checkout_run, "analyst", headline, {"kind": SIMILAR_NOTE, "similar": [past]}),
    )
    answer = rules.answer("why", run_id=seeded.checkout_run)
    assert f"Incident memory: {headline}." in answer.text
    assert any(
        c.kind == "run" and c.id == seeded.checkout_old_run and "similar" in c.label for c in answer.citations
    )
