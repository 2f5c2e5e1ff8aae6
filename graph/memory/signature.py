"""An incident's signature, from the run's state: before the diagnosis (what the analyst recalls
with) and at the end of the run (what memory records, with the category, the fix and its outcome)."""

from __future__ import annotations

from typing import Any

from agent.domain import ActionType, Evidence, EvidenceKind, Incident, ProposedRemediation
from graph.memory.log_masking import mask_line, trouble_lines
from graph.memory.models import IncidentSignature, MemoryOutcome
from graph.state import HealingState, incident_diagnosis, incident_of
from tools.evidence.item_data import EventData, PodStatusData, read_status

MAX_REASONS = 8
MAX_LOG_LINES = 5

_FIELD_NAMES = {
    "resources.limits.memory": "the memory limit",
    "resources.requests.memory": "the memory request",
    "resources.limits.cpu": "the CPU limit",
    "resources.requests.cpu": "the CPU request",
    "image": "the image",
    "command": "the command",
    "args": "the arguments",
    "replicas": "the replica count",
}
_FIELD_PREFIXES = {
    "env": "the environment",
    "envFrom": "the environment",
    "readinessProbe": "the readiness probe",
    "livenessProbe": "the liveness probe",
    "startupProbe": "the startup probe",
    "data": "the configuration",
    "nodeSelector": "the node selector",
    "tolerations": "the tolerations",
}
_VERBS = {
    ActionType.GITOPS_PR.value: "changing {field} by pull request",
    ActionType.PATCH.value: "patching {field}",
    ActionType.SCALE.value: "scaling the workload",
    ActionType.RESTART.value: "restarting the workload",
    ActionType.ROLLBACK.value: "rolling back to an earlier revision",
    ActionType.REVERT_COMMIT.value: "reverting the suspect commit",
    ActionType.NOTIFY.value: "notifying humans",
    ActionType.NONE.value: "changing nothing",
}


def _add(found: dict[str, None], value: str) -> None:
    value = value.strip().lower()
    if value and len(found) < MAX_REASONS:
        found[value] = None


def reasons_of(incident: Incident, evidence: Evidence | None) -> tuple[str, ...]:
    """The incident's reason and the reasons its events and containers give, lower case, distinct."""
    found: dict[str, None] = {}
    _add(found, incident.reason)
    for item in evidence.items if evidence else []:
        if item.kind is EvidenceKind.EVENT:
            event = EventData.read(item.data)
            if event.type != "Normal":
                _add(found, event.reason)
        elif item.kind is EvidenceKind.STATUS:
            status = read_status(item.data)
            if isinstance(status, PodStatusData):
                _add(found, status.reason)
                for container in status.containers:
                    _add(found, container.waiting_reason)
                    _add(found, container.last_terminated_reason or container.terminated_reason)
    return tuple(found)


def log_fingerprints(evidence: Evidence | None) -> tuple[str, ...]:
    """The distinct trouble lines of the evidence's logs, masked (see graph.memory.log_masking)."""
    found: dict[str, None] = {}
    for item in evidence.of_kind(EvidenceKind.LOG) if evidence else []:
        for line in trouble_lines(item.text, MAX_LOG_LINES):
            found[line] = None
    return tuple(list(found)[:MAX_LOG_LINES])


def _paths(value: Any, prefix: str) -> list[str]:
    if isinstance(value, dict):
        out: list[str] = []
        for key, inner in value.items():
            if key == "name" and prefix.endswith("[]"):
                continue  # a list entry's merge key (a container's name) is not a change
            out.extend(_paths(inner, f"{prefix}.{key}" if prefix else str(key)))
        return out or ([prefix] if prefix else [])
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return [p for entry in value for p in _paths(entry, f"{prefix}[]")]
    return [prefix] if prefix else []


def changed_fields(remediation: ProposedRemediation | None) -> tuple[str, ...]:
    """The dotted paths the proposal's manifest patch sets, container names masked, sorted."""
    patch = remediation.manifest_patch() if remediation else None
    return tuple(sorted(set(_paths(patch, "")))) if patch else ()


def _short(path: str) -> str:
    for marker in ("containers[].", "initContainers[]."):
        if marker in path:
            return path.split(marker, 1)[1]
    return path.removeprefix("spec.template.spec.").removeprefix("spec.")


def fix_kind_of(remediation: ProposedRemediation | None) -> str | None:
    """What kind of fix a proposal is: its action, and the fields it changes in short form
    (`gitops_pr:resources.limits.memory`, `rollback`); None when nothing is proposed."""
    if remediation is None:
        return None
    fields = sorted({_short(path) for path in changed_fields(remediation)})
    if not fields or remediation.action in (ActionType.ROLLBACK, ActionType.SCALE):
        return remediation.action.value
    return f"{remediation.action.value}:{'+'.join(fields[:3])}"


def _field_name(short: str) -> str:
    if short in _FIELD_NAMES:
        return _FIELD_NAMES[short]
    head = short.split(".", 1)[0].removesuffix("[]")
    return _FIELD_PREFIXES.get(head, short)


def describe_fix(fix_kind: str | None) -> str:
    """A fix kind in words: `patch:resources.limits.memory` -> "patching the memory limit"."""
    if not fix_kind:
        return "no fix"
    action, _, fields = fix_kind.partition(":")
    names = list(dict.fromkeys(_field_name(f) for f in fields.split("+") if f)) or ["the workload"]
    template = _VERBS.get(action, action.replace("_", " ") + " {field}")
    return template.format(field=" and ".join(names))


def signature_before_diagnosis(incident: Incident, evidence: Evidence | None) -> IncidentSignature:
    """What is known before the reasoner answers: the workload kind, reasons and log lines."""
    return IncidentSignature(
        workload_kind=incident.target.kind,
        reasons=reasons_of(incident, evidence),
        log_fingerprints=log_fingerprints(evidence),
    )


def _first_evidence(state: HealingState) -> Evidence | None:
    snapshots = state.get("evidence") or []
    return Evidence.model_validate(snapshots[0]) if snapshots else None


def signature_of_run(state: HealingState) -> IncidentSignature:
    """The whole signature of a run: what was seen first, what was diagnosed, what the fix changed."""
    incident = incident_of(state)
    base = signature_before_diagnosis(incident, _first_evidence(state))
    diagnosis = incident_diagnosis(state)
    remediation = diagnosis.remediation if diagnosis else None
    fields = set(changed_fields(remediation))
    if diagnosis and diagnosis.faulty_field:
        fields.add(mask_line(diagnosis.faulty_field).replace("[<str>]", "[]"))
    return IncidentSignature(
        workload_kind=base.workload_kind,
        reasons=base.reasons,
        log_fingerprints=base.log_fingerprints,
        category=diagnosis.category.value if diagnosis else None,
        changed_fields=tuple(sorted(fields)),
        fix_kind=fix_kind_of(remediation),
    )


def outcome_of(state: HealingState) -> MemoryOutcome | None:
    """How a finished run ended for memory; None while it has not ended."""
    outcome = state.get("outcome")
    if outcome == "healed":
        return MemoryOutcome.HEALED
    if outcome == "rejected":
        return MemoryOutcome.REJECTED
    if outcome == "reported":
        return MemoryOutcome.REPORTED
    if outcome != "escalated":
        return None
    actions: list[Any] = list(state.get("actions") or [])
    if any(a.get("phase") == "rollback" for a in actions):
        return MemoryOutcome.ROLLED_BACK
    if any(not v["healthy"] for v in state.get("verifications") or []):
        return MemoryOutcome.FAILED
    return MemoryOutcome.ESCALATED
