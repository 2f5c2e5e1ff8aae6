"""The rules answerer: deterministic answers built only from what the run store holds.

It understands three kinds of question and says so when it meets another:

- why a workload failed ("why did checkout crash?"): the newest run of a workload named in the
  question (or the given run/incident), with its diagnosis, decision and outcome;
- what was changed ("what did you change in payments yesterday?"): the audit log, narrowed to a
  workload or namespace named in the question and to a time window (today, yesterday, this
  week, last N minutes/hours/days/weeks);
- the evidence of a run ("show the evidence for run 42"): the items its diagnosis cites, as the
  trace recorded them.

Nothing is made up: every sentence comes from a stored record, and the record is cited.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from server.chat import facts
from server.chat.models import Answer, Citation
from server.run_history import similar_incidents
from server.runstore import IncidentRecord, NotFoundError, RunRecord, RunStore


def _vocabulary(text: str) -> frozenset[str]:
    return frozenset(text.split())


_WHY = _vocabulary(
    "why crash crashed crashing crashes fail failed failing fails failure happened happen wrong "
    "broken break broke down diagnosis diagnose cause root problem issue oom error errors"
)
_CHANGE = _vocabulary(
    "change changed changes modify modified modification remediate remediated remediation "
    "remediations action actions patched patch scaled scale restarted restart rolled rollback "
    "reverted revert fix fixed fixes"
)
_EVIDENCE = _vocabulary("evidence cite cited citations proof sources")
_SCOPE_WORDS = frozenset({"in", "to", "for", "on", "of"})
_NOT_NAMES = (
    _WHY
    | _CHANGE
    | _EVIDENCE
    | _vocabulary(
        "what did you do the a an is was were show me run runs incident yesterday today last past "
        "this week hour hours day days minutes namespace workload deployment please and"
    )
)
MAX_LISTED = 20


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Scope:
    """Which workloads a question names, among those the store knows."""

    runs: list[RunRecord]
    incidents: list[IncidentRecord]
    names: set[str] = field(default_factory=set)  # workload names named
    namespaces: set[str] = field(default_factory=set)  # namespaces named
    unknown: str | None = None  # a name after "in/for/…" that the store does not know

    @property
    def named(self) -> bool:
        return bool(self.names or self.namespaces)

    def matches(self, namespace: str, name: str) -> bool:
        return name in self.names or namespace in self.namespaces

    def describe(self) -> str:
        return ", ".join(sorted(self.names | self.namespaces))


class RulesAnswerer:
    """Answers from stored facts; `now` is injectable so time windows are testable."""

    provider = "rules"

    def __init__(
        self, store: RunStore, *, now: Callable[[], datetime] = _utc_now, scan: int = facts.DEFAULT_SCAN
    ) -> None:
        self._store = store
        self._now = now
        self._scan = scan

    def answer(self, question: str, *, run_id: str | None = None, incident_id: str | None = None) -> Answer:
        """The answer to `question`, optionally about one run or one incident."""
        words = facts.words(question)
        wordset = set(words)
        runs = facts.recent_runs(self._store, scan=self._scan)
        run: RunRecord | None = None
        if run_id is not None:
            run = facts.get_run(self._store, run_id)
            if run is None:
                return self._unknown(f"I have no run with id {run_id!r}.", runs)
        elif (token := _after(words, "run")) is not None:
            run = facts.resolve_run(self._store, token, runs)
            if run is None and wordset & (_EVIDENCE | _WHY):
                return self._unknown(f"I have no run with id {token!r}.", runs)
        if incident_id is not None and run is None:
            incident_runs = facts.recent_runs(self._store, scan=self._scan, incident_id=incident_id)
            if not incident_runs:
                return self._incident_only(incident_id, runs)
            run = incident_runs[0]

        if wordset & _EVIDENCE:
            if run is None:
                scope = self._scope(words, runs)
                run = next((r for r in scope.runs if scope.matches(r.target.namespace, r.target.name)), None)
                if run is None:
                    return self._unknown("Which run? Name a run id or a workload I have a run for.", runs)
            return self._evidence(run)
        if wordset & _CHANGE and not wordset & {"why"}:
            return self._changes(words, runs, run)
        if run is not None:
            return self._why_run(run)
        if wordset & _WHY:
            return self._why(words, runs)
        return self._unknown("I don't know how to answer that from what I have stored.", runs)

    # --- the scope named in the question -----------------------------------------------------

    def _scope(self, words: list[str], runs: list[RunRecord]) -> _Scope:
        incidents = facts.recent_incidents(self._store, scan=self._scan)
        known_names = {r.target.name for r in runs} | {i.target.name for i in incidents}
        known_namespaces = {r.target.namespace for r in runs} | {i.target.namespace for i in incidents}
        scope = _Scope(runs=runs, incidents=incidents)
        for i, word in enumerate(words):
            if word in known_names:
                scope.names.add(word)
            elif word in known_namespaces:
                scope.namespaces.add(word)
            elif i and words[i - 1] in _SCOPE_WORDS and word not in _NOT_NAMES and not word.isdigit():
                scope.unknown = scope.unknown or word
        return scope

    # --- why ---------------------------------------------------------------------------------

    def _why(self, words: list[str], runs: list[RunRecord]) -> Answer:
        scope = self._scope(words, runs)
        if not scope.named:
            what = (
                f"anything named {scope.unknown!r}" if scope.unknown else "a workload named in your question"
            )
            return self._unknown(f"I have no run or incident for {what}.", runs)
        matching = [r for r in runs if scope.matches(r.target.namespace, r.target.name)]
        if not matching:
            incidents = [i for i in scope.incidents if scope.matches(i.target.namespace, i.target.name)]
            return self._incidents_without_runs(incidents)
        answer = self._why_run(matching[0])
        others = matching[1:]
        if others:
            listed = ", ".join(f"{r.id} ({r.status.value})" for r in others[:5])
            answer.text += f"\n\nEarlier runs for {scope.describe()}: {listed}."
            for other in others[:5]:
                answer.cite(Citation(kind="run", id=other.id, label=f"earlier run, {other.status.value}"))
        return answer

    def _why_run(self, run: RunRecord) -> Answer:
        answer = Answer(text="")
        answer.cite(Citation(kind="run", id=run.id, label=str(run.target)))
        lines = [f"Run {run.id} for {run.target} ({_when(run.created_at)}) is {run.status.value}."]
        if run.incident_id:
            answer.cite(Citation(kind="incident", id=run.incident_id))
            lines[0] += f" It was opened for incident {run.incident_id}."
        diagnosis = run.diagnosis if isinstance(run.diagnosis, dict) else None
        if diagnosis:
            confidence = diagnosis.get("confidence")
            sure = f" with confidence {confidence:.2f}" if isinstance(confidence, int | float) else ""
            lines.append(f"Diagnosis: {diagnosis.get('category', 'unknown')}{sure}.")
            if explanation := diagnosis.get("explanation"):
                lines.append(f"Explanation: {explanation}")
            if faulty := diagnosis.get("faulty_resource"):
                field_ = diagnosis.get("faulty_field")
                lines.append(f"Faulty resource: {faulty}" + (f" (field {field_})." if field_ else "."))
        else:
            lines.append("It has no diagnosis recorded.")
        decision = run.decision if isinstance(run.decision, dict) else None
        if decision:
            rationale = decision.get("rationale")
            lines.append(f"Decision: {decision.get('route', '?')}" + (f": {rationale}" if rationale else "."))
        for action in run.actions:
            lines.append(f"Action: {_compact(action)}")
        if run.verification is not None:
            lines.append(f"Verification: {_compact(run.verification)}")
        if run.error:
            lines.append(f"Error: {run.error}")
        lines.append(f"Outcome: {run.status.value}.")
        events = facts.trace(self._store, run.id)
        recalled = similar_incidents(events)
        if recalled.items:
            lines.append(f"Incident memory: {recalled.headline}.")
            for past in recalled.items:
                label = f"similar past incident: {past.summary}"
                answer.cite(Citation(kind="run", id=past.run_id, label=label))
        for event in events:
            if event.type in facts.NOTABLE and event.id is not None:
                answer.cite(
                    Citation(
                        kind="event",
                        id=str(event.id),
                        run_id=run.id,
                        label=f"seq {event.seq} {event.type.value}: {event.summary}"[:300],
                    )
                )
        answer.text = "\n".join(lines)
        return answer

    def _incidents_without_runs(self, incidents: list[IncidentRecord]) -> Answer:
        answer = Answer(text="")
        lines = []
        for incident in incidents[:MAX_LISTED]:
            answer.cite(Citation(kind="incident", id=incident.id, label=str(incident.target)))
            lines.append(
                f"Incident {incident.id} for {incident.target}: {incident.reason} ({incident.trigger}), "
                f"seen {incident.count} time(s) from {_when(incident.first_seen)} to "
                f"{_when(incident.last_seen)}, {incident.status.value}; no run has diagnosed it yet."
            )
            if incident.summary:  # the alert's or watcher's own words: quoted, as reported
                summary = (
                    incident.summary if len(incident.summary) <= 300 else incident.summary[:300] + " [...]"
                )
                lines.append(f"  Reported summary (unverified): {json.dumps(summary, ensure_ascii=False)}")
        answer.text = "\n".join(lines)
        return answer

    def _incident_only(self, incident_id: str, runs: list[RunRecord]) -> Answer:
        try:
            incident = self._store.get_incident(incident_id)
        except NotFoundError:
            return self._unknown(f"I have no incident with id {incident_id!r}.", runs)
        return self._incidents_without_runs([incident])

    # --- changes -----------------------------------------------------------------------------

    def _changes(self, words: list[str], runs: list[RunRecord], run: RunRecord | None) -> Answer:
        window = facts.parse_window(words, self._now())
        scope = self._scope(words, runs)
        if run is None and not scope.named and scope.unknown:
            return self._unknown(
                f"I have no record of a workload or namespace named {scope.unknown!r}.", runs
            )
        targets: dict[str, RunRecord | None] = {}
        entries = []
        for entry in facts.audit_entries(self._store, run_id=run.id if run else None):
            if window is not None and entry.ts not in window:
                continue
            if entry.run_id not in targets:
                targets[entry.run_id] = facts.get_run(self._store, entry.run_id)
            owner = targets[entry.run_id]
            if (
                run is None
                and scope.named
                and (owner is None or not scope.matches(owner.target.namespace, owner.target.name))
            ):
                continue
            entries.append((entry, owner))
        where = f"run {run.id}" if run else (scope.describe() if scope.named else "any workload")
        when = window.describe() if window else "at any time on record"
        answer = Answer(text="")
        if not entries:
            answer.text = f"The audit log has no change to {where} {when}: I changed nothing there."
            return answer
        lines = [f"Changes to {where} {when}, from the audit log ({len(entries)}):"]
        for entry, owner in entries[-MAX_LISTED:]:
            target = entry.target or (str(owner.target) if owner else "?")
            action = f" [{entry.action}]" if entry.action else ""
            why = f" Why: {entry.why}" if entry.why else ""
            lines.append(
                f"- {_when(entry.ts)}, run {entry.run_id}, {entry.who}: {entry.what} on {target}{action}"
                f" -> {entry.result}.{why}"
            )
            answer.cite(Citation(kind="audit", id=str(entry.id), run_id=entry.run_id, label=entry.what[:200]))
            answer.cite(Citation(kind="run", id=entry.run_id))
        if len(entries) > MAX_LISTED:
            lines.insert(1, f"(the newest {MAX_LISTED} are listed)")
        answer.text = "\n".join(lines)
        return answer

    # --- evidence ----------------------------------------------------------------------------

    def _evidence(self, run: RunRecord) -> Answer:
        answer = Answer(text="")
        answer.cite(Citation(kind="run", id=run.id, label=str(run.target)))
        diagnosis = run.diagnosis if isinstance(run.diagnosis, dict) else {}
        cited = [c for c in diagnosis.get("cited_evidence", []) if isinstance(c, str)]
        found = {
            item["id"]: (item, event)
            for item, event in facts.evidence_items(facts.trace(self._store, run.id))
        }
        if cited:
            lines = [
                f"The diagnosis of run {run.id} ({diagnosis.get('category', 'unknown')})"
                f" cites {len(cited)} item(s):"
            ]
            shown = cited
        elif found:
            lines = [f"Run {run.id} has no diagnosis citing evidence; it gathered {len(found)} item(s):"]
            shown = list(found)[:MAX_LISTED]
        else:
            answer.text = f"Run {run.id} has no evidence recorded in its trace (status {run.status.value})."
            return answer
        for evidence_id in shown:
            if evidence_id not in found:
                lines.append(f"- {evidence_id}: cited, but not in the stored trace.")
                continue
            item, event = found[evidence_id]
            text = str(item.get("text", ""))
            text = text if len(text) <= 500 else text[:500] + " [...]"
            lines.append(f"- {evidence_id} ({item.get('kind')}, {item.get('source', '?')}): {text}")
            answer.cite(Citation(kind="evidence", id=evidence_id, run_id=run.id, label=str(item.get("kind"))))
            if event.id is not None:
                answer.cite(Citation(kind="event", id=str(event.id), run_id=run.id, label=f"seq {event.seq}"))
        answer.text = "\n".join(lines)
        return answer

    # --- unknown -----------------------------------------------------------------------------

    def _unknown(self, opening: str, runs: list[RunRecord]) -> Answer:
        workloads = sorted({str(r.target) for r in runs})
        lines = [
            opening,
            "I answer from stored runs, incidents and the audit log only. I can answer:",
            "- why did <workload> crash?",
            "- what did you change in <workload or namespace> today / yesterday / in the last N hours?",
            "- show the evidence for run <run id>",
        ]
        if workloads:
            shown = ", ".join(workloads[:MAX_LISTED])
            more = f" and {len(workloads) - MAX_LISTED} more" if len(workloads) > MAX_LISTED else ""
            lines.append(f"Workloads with runs: {shown}{more}.")
        else:
            lines.append("No runs are stored yet.")
        return Answer(text="\n".join(lines), known=False)


def _after(words: list[str], marker: str) -> str | None:
    """The word after `marker` ("run 42" -> "42"), skipping "id" / "number"."""
    for i, word in enumerate(words[:-1]):
        if word == marker:
            following = [w for w in words[i + 1 : i + 3] if w not in {"id", "number", "no"}]
            if following:
                return following[0]
    return None


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _compact(value: Any, limit: int = 300) -> str:
    """A stored JSON value on one line: its summary or detail when it has one, else the JSON."""
    if isinstance(value, dict):
        for key in ("summary", "detail", "what"):
            if isinstance(value.get(key), str) and value[key]:
                status = value.get("result") or value.get("status")
                if isinstance(value.get("healthy"), bool):
                    status = "healthy" if value["healthy"] else "still unhealthy"
                return f"{value[key]}" + (f" ({status})" if status is not None else "")
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[:limit] + " [...]"
