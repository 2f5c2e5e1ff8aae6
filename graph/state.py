"""The healing graph's state: one TypedDict, JSON-native all the way down.

Every value is a plain JSON type (domain models are stored as `model_dump(mode="json")`)
so any checkpointer can persist it, including `JsonPlusSerializer` in strict mode, and the
API can show it as is. Lists that grow over a run (evidence, diagnoses, actions,
verifications, trace ids) have an append reducer; everything else is last-write-wins.
Nodes read typed views through the accessors below rather than poking at raw dicts.
"""

from __future__ import annotations

import operator
from enum import StrEnum
from typing import Annotated, Any, Literal, NotRequired

from pydantic import BaseModel
from typing_extensions import TypedDict

from agent.domain import Diagnosis, Evidence, Incident, WorkloadRef

JsonDict = dict[str, Any]


class PolicyVerdictData(TypedDict):
    """What policy said of a proposed remediation."""

    verdict: Literal["allow", "deny"]
    action: str
    reasons: list[str]


class SuspectCommit(TypedDict, total=False):
    """A recent commit the auditor believes introduced the fault."""

    sha: str
    message: str
    author: str
    url: str
    changed_fields: list[str]


class AuditFindings(TypedDict, total=False):
    """What the auditor established before the decision."""

    suspect_commit: SuspectCommit | None
    policy: PolicyVerdictData | None
    notes: list[str]


class DiagnosisCandidate(TypedDict):
    """One reasoner's diagnosis in one attempt (`diagnosis` is a `Diagnosis` as JSON)."""

    attempt: int
    reasoner: str
    diagnosis: JsonDict
    subject: NotRequired[str]  # the workload diagnosed (WorkloadRef as text); absent: the incident's


class FollowRecord(TypedDict):
    """The run moved its investigation from one workload to a dependency the diagnosis blamed."""

    attempt: int
    source: JsonDict  # WorkloadRef as JSON: the workload that was diagnosed
    to: JsonDict  # WorkloadRef as JSON: the dependency now investigated (and, if need be, changed)
    diagnosis: JsonDict  # the diagnosis that named the dependency, as JSON


class BreakerData(TypedDict):
    """A breaker as the decision saw it."""

    key: str
    status: Literal["closed", "open", "half_open"]
    events_in_window: int
    limit: int


class Route(StrEnum):
    """Where a run goes after the decision (`DecisionRecord.route`)."""

    ACT = "act"
    ASK = "ask"
    ESCALATE = "escalate"
    REPORT = "report"
    FOLLOW = "follow"


class DecisionRecord(TypedDict):
    """Where the run goes next (a `Route` value), and why."""

    route: Literal["act", "ask", "escalate", "report", "follow"]
    rationale: str
    inputs: JsonDict  # the facts that drove the route, by name
    attempt: int
    decided_at: str  # ISO 8601, UTC


class ApprovalRecord(TypedDict, total=False):
    """The outcome of asking a human."""

    approval_id: str
    status: Literal["approved", "rejected", "expired", "invalid"]
    by: str
    comment: str
    answered_at: str
    expires_at: str
    request: JsonDict  # the payload the human saw


class DryRunResult(TypedDict):
    """What the server-side dry run (or a local render) said before the real write."""

    ok: bool
    detail: str


class ActionResult(TypedDict):
    """What became of the real write."""

    status: str  # a tools.result.ToolStatus value
    detail: str


class ActionRecord(TypedDict):
    """The audit record of one remediation: who did what, why, with which diff, and the result."""

    id: str
    attempt: int
    action: str  # an ActionType value
    target: str  # WorkloadRef as text
    who: str  # "paramedic" or the approving human
    what: str
    why: str
    diff: str
    dry_run: DryRunResult | None
    result: ActionResult
    at: str


class VerificationRecord(TypedDict):
    """Whether the workload was healthy after an attempt."""

    attempt: int
    healthy: bool
    detail: str
    checked_at: str


class MergeWaitStatus(StrEnum):
    """Where a run waiting on its pull request stands (`MergeWaitRecord.status`)."""

    WAITING = "waiting"  # the pull request is open; nobody has merged or closed it yet
    MERGED = "merged"  # a human merged it: the change goes live, verification follows
    CLOSED = "closed"  # a human closed it unmerged: the change was rejected
    RECOVERED = "recovered"  # the workload recovered on its own while the pull request waited
    TIMEOUT = "timeout"  # nobody merged or closed it in time: escalated
    INVALID = "invalid"  # nothing to wait on, or a malformed answer: escalated


class MergeWaitRecord(TypedDict, total=False):
    """What a run waits on after opening a pull request a human must merge, and how the wait ended."""

    attempt: int
    pr_number: int
    pr_url: str
    since: str  # ISO 8601: when the pull request was opened (the remediation entry's time)
    deadline: str  # ISO 8601: when the run stops waiting and escalates
    status: Literal["waiting", "merged", "closed", "recovered", "timeout", "invalid"]
    by: str  # who merged or closed it, when known
    detail: str
    merge_sha: str
    observed_at: str  # ISO 8601: when the end of the wait was seen


class RunOutcome(StrEnum):
    """How a run ended (the terminal node writes it; absent while the run is in flight)."""

    HEALED = "healed"  # a remediation was applied and verification saw the workload recover
    REPORTED = "reported"  # the diagnosis was posted; nothing was changed (report mode, no-op, open PR)
    REJECTED = "rejected"  # a human rejected the proposed action (or closed its pull request)
    ESCALATED = "escalated"  # handed to humans: low confidence, policy, breaker, failed fix, no merge
    RECOVERED = "recovered"  # the workload recovered on its own while its fix waited; nothing changed


class HealingState(TypedDict, total=False):
    """Everything one healing run knows. See the module docstring for the storage rules."""

    run_id: str
    incident: JsonDict  # an `Incident` as JSON: fingerprint, target, trigger, started_at, ...
    evidence: Annotated[list[JsonDict], operator.add]  # `Evidence` snapshots, one per gathering pass
    diagnoses: Annotated[list[DiagnosisCandidate], operator.add]
    follows: Annotated[list[FollowRecord], operator.add]  # dependencies the run moved on to, in order
    reasoner_error: str | None  # why the reasoner gave no diagnosis this attempt
    audit: AuditFindings
    open_pr_for_fingerprint: str | None  # URL of an already open PR for this incident's fingerprint
    decision: DecisionRecord
    approval: ApprovalRecord
    actions: Annotated[list[ActionRecord], operator.add]
    verifications: Annotated[list[VerificationRecord], operator.add]
    merge_wait: MergeWaitRecord  # the current attempt's wait on its pull request, once it opened one
    attempt: int  # 1-based; the remediation loop bumps it
    trace_event_ids: Annotated[list[str], operator.add]
    outcome: str  # a `RunOutcome` value, written by the terminal node
    outcome_reason: str  # one line: why the run ended that way


def to_data(model: BaseModel) -> JsonDict:
    """A domain model as the JSON dict the state stores."""
    return model.model_dump(mode="json")


def initial_state(run_id: str, incident: Incident) -> HealingState:
    """The state a run starts from."""
    if not run_id:
        raise ValueError("run_id must not be empty")
    return HealingState(
        run_id=run_id,
        incident=to_data(incident),
        evidence=[],
        diagnoses=[],
        actions=[],
        verifications=[],
        trace_event_ids=[],
        attempt=1,
        reasoner_error=None,
        open_pr_for_fingerprint=None,
    )


def follow_record(
    source: WorkloadRef, to: WorkloadRef, diagnosis: Diagnosis, attempt: int = 1
) -> FollowRecord:
    """The hop from `source` to the dependency `to` that `diagnosis` blamed."""
    return FollowRecord(
        attempt=attempt,
        source=to_data(source),
        to=to_data(to),
        diagnosis=to_data(diagnosis),
    )


def incident_of(state: HealingState) -> Incident:
    """The run's incident; raises KeyError when the state has none (a wiring bug)."""
    if "incident" not in state:
        raise KeyError("state has no incident")
    return Incident.model_validate(state["incident"])


def subject_of(state: HealingState) -> WorkloadRef:
    """The workload the run investigates and may change now: the incident's target until the run
    follows a dependency the diagnosis blamed (see graph/policies/follow), then that dependency."""
    follows = state.get("follows") or []
    if follows:
        return WorkloadRef.model_validate(follows[-1]["to"])
    return incident_of(state).target


def visited_of(state: HealingState) -> list[WorkloadRef]:
    """Every workload the run has investigated, the incident's target first."""
    follows = state.get("follows") or []
    return [incident_of(state).target, *(WorkloadRef.model_validate(f["to"]) for f in follows)]


def subject_incident(state: HealingState) -> Incident:
    """The incident as the current subject sees it: same id and fingerprint, the subject as target.

    Nodes that gather, diagnose, judge or change read this, so a followed dependency is what they
    work on while idempotency (the fingerprint) stays the incident's.
    """
    incident = incident_of(state)
    subject = subject_of(state)
    if subject == incident.target:
        return incident
    return incident.model_copy(update={"target": subject})


def current_attempt(state: HealingState) -> int:
    """The 1-based attempt number."""
    return int(state.get("attempt", 1))


def latest_evidence(state: HealingState) -> Evidence | None:
    """The most recent evidence snapshot, if any."""
    snapshots = state.get("evidence") or []
    return Evidence.model_validate(snapshots[-1]) if snapshots else None


def candidate(
    diagnosis: Diagnosis, reasoner: str, attempt: int, subject: WorkloadRef | None = None
) -> DiagnosisCandidate:
    """Wrap a diagnosis for the `diagnoses` list; `subject` is the workload it diagnoses."""
    wrapped = DiagnosisCandidate(attempt=attempt, reasoner=reasoner, diagnosis=to_data(diagnosis))
    if subject is not None:
        wrapped["subject"] = str(subject)
    return wrapped


def diagnoses_for(state: HealingState, attempt: int | None = None) -> list[Diagnosis]:
    """The current subject's diagnosis candidates of one attempt (default: the current one), in order."""
    wanted = current_attempt(state) if attempt is None else attempt
    candidates = state.get("diagnoses") or []
    target = str(incident_of(state).target) if "incident" in state else None
    subject = str(subject_of(state)) if "incident" in state else None
    return [
        Diagnosis.model_validate(c["diagnosis"])
        for c in candidates
        if c["attempt"] == wanted and c.get("subject", target) == subject
    ]


def best_diagnosis(state: HealingState) -> Diagnosis | None:
    """The current attempt's most confident candidate (the later one on a tie), or None."""
    best: Diagnosis | None = None
    for diagnosis in diagnoses_for(state):
        if best is None or diagnosis.confidence >= best.confidence:
            best = diagnosis
    return best


def incident_diagnosis(state: HealingState) -> Diagnosis | None:
    """The diagnosis of the incident itself: the one that blamed a dependency when the run followed
    one (what is wrong with the dependency is its own diagnosis, in the trace), else the best one."""
    follows = state.get("follows") or []
    if follows:
        return Diagnosis.model_validate(follows[0]["diagnosis"])
    return best_diagnosis(state)
