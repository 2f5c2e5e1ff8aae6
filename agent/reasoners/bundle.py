"""The opening evidence a model reads first: compact, ranked, within a token budget.

The gathered evidence of a crash-looping Deployment is about 7k tokens as full JSON; a model with
tools needs the gist and fetches the rest. Each item becomes one JSON line of its id, kind,
source and a trimmed text (the live manifest keeps only what a patch addresses); lines go in by
rank (manifest, the workload's and its pods' status, crash logs, warnings, metrics, alerts,
current logs, recent change, the neighbours) until the budget is spent, and the ids left out are
named on a last line so the model can ask for them (the `evidence_item` tool).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agent.domain import Evidence, EvidenceItem, EvidenceKind
from agent.reasoners import tokens
from agent.reasoners.untrusted import scrub

MAX_OMITTED_IDS = 60
_TEXT_CHARS = {
    EvidenceKind.STATUS: 500,
    EvidenceKind.EVENT: 260,
    EvidenceKind.METRIC: 300,
    EvidenceKind.ALERT: 400,
    EvidenceKind.ROLLOUT: 240,
    EvidenceKind.COMMIT: 200,
    EvidenceKind.MANIFEST: 600,
}
_LOG_CHARS = 900  # the tail: where a crash says why
_DIFF_CHARS = 500
_CONTAINER_FIELDS = ("name", "image", "command", "args", "env", "envFrom", "resources", "readinessProbe",
                     "livenessProbe", "startupProbe", "ports")  # fmt: skip


Render = Callable[[EvidenceItem], dict[str, Any]]


@dataclass(frozen=True)
class Bundle:
    """The rendered evidence block, what it left out, and its estimated size."""

    text: str
    shown: tuple[str, ...]
    omitted: tuple[str, ...]
    tokens: int


def _tail(text: str, chars: int) -> str:
    return text if len(text) <= chars else "…" + text[-chars:]


def _head(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[:chars] + "…"


def _item_line(item: EvidenceItem) -> dict[str, Any]:
    if item.kind is EvidenceKind.LOG:
        text = _tail(item.text, _LOG_CHARS)
    else:
        text = _head(item.text, _TEXT_CHARS.get(item.kind, 300))
    line: dict[str, Any] = {"id": item.id, "kind": item.kind.value, "source": item.source, "text": text}
    if item.kind is EvidenceKind.COMMIT:
        files = item.data.get("files")
        if isinstance(files, list):
            line["files"] = files[:5]
    return line


def _with_diff(item: EvidenceItem) -> dict[str, Any]:
    line = _item_line(item)
    diff = item.data.get("diff")
    if isinstance(diff, str) and diff:
        line["diff"] = _head(diff, _DIFF_CHARS)
    return line


def compact_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    """What a patch addresses: kind, name, replicas and each container's runtime fields."""
    spec = manifest.get("spec") or {}
    pod = (spec.get("template") or {}).get("spec") or {}
    containers = [
        {k: c[k] for k in _CONTAINER_FIELDS if k in c}
        for c in pod.get("containers") or []
        if isinstance(c, dict)
    ]
    out: dict[str, Any] = {"kind": manifest.get("kind"), "name": (manifest.get("metadata") or {}).get("name")}
    if "replicas" in spec:
        out["replicas"] = spec["replicas"]
    out["containers"] = containers
    for key in ("volumes", "nodeSelector", "tolerations", "initContainers"):
        if pod.get(key):
            out[key] = pod[key]
    return out


def _rank(evidence: Evidence) -> list[tuple[str, dict[str, Any]]]:
    """(id, line) for every item, most telling first."""
    target = evidence.target
    own_status = f"status:{target.kind.lower()}/{target.name}"
    items = evidence.items

    def pick(
        pred: Callable[[EvidenceItem], bool], render: Render = _item_line
    ) -> list[tuple[str, dict[str, Any]]]:
        return [(i.id, render(i)) for i in items if pred(i)]

    def is_pod(i: EvidenceItem) -> bool:
        return i.kind is EvidenceKind.STATUS and i.id.startswith("status:pod/")

    def warning(i: EvidenceItem) -> bool:
        return i.kind is EvidenceKind.EVENT and i.text.startswith("Warning")

    commits = [i for i in items if i.kind is EvidenceKind.COMMIT]
    newest = commits[0].id if commits else None
    ranked: list[tuple[str, dict[str, Any]]] = []
    if evidence.manifest is not None:
        ranked.append(("manifest:live", {"id": "manifest:live", "kind": "manifest",
                                         "manifest": compact_manifest(evidence.manifest)}))  # fmt: skip
    ranked += pick(lambda i: i.id == own_status)
    ranked += pick(is_pod)[:3]
    ranked += pick(lambda i: i.kind is EvidenceKind.LOG and i.id.endswith(":previous"))
    ranked += pick(warning)[:8]
    ranked += pick(lambda i: i.kind in (EvidenceKind.METRIC, EvidenceKind.ALERT))
    ranked += pick(lambda i: i.kind is EvidenceKind.LOG and not i.id.endswith(":previous"))
    ranked += pick(lambda i: i.id == newest, _with_diff)
    ranked += pick(lambda i: i.id.startswith("verification:"))
    ranked += pick(lambda i: i.kind is EvidenceKind.ROLLOUT)[-3:]
    ranked += pick(lambda i: i.kind is EvidenceKind.COMMIT and i.id != newest)
    ranked += pick(lambda i: i.kind is EvidenceKind.STATUS and i.id.startswith("status:deployment/"))
    seen = {i for i, _ in ranked}
    ranked += [(i.id, _item_line(i)) for i in items if i.id not in seen]  # the rest, in gathering order
    return ranked


def _json_line(obj: Any, boundary: str) -> str:
    return scrub(json.dumps(obj, ensure_ascii=False, default=str, sort_keys=True), boundary)


def _omitted_line(omitted: list[str], boundary: str) -> str | None:
    if not omitted:
        return None
    note = {"not_shown": omitted[:MAX_OMITTED_IDS], "more_not_listed": max(0, len(omitted) - MAX_OMITTED_IDS)}
    return _json_line(note, boundary)


def build_bundle(evidence: Evidence, budget_tokens: int, boundary: str) -> Bundle:
    """The evidence block within `budget_tokens` (estimated), best items first."""
    if budget_tokens < 1:
        raise ValueError("the bundle budget must be positive")
    picked: list[tuple[str, str, int]] = []  # (id, line, tokens)
    omitted: list[str] = []
    used = 0
    reserve = 30 + 12 * min(len(evidence.items), MAX_OMITTED_IDS)  # room for the omitted-ids line
    for item_id, obj in _rank(evidence):
        line = _json_line(obj, boundary)
        cost = tokens.estimate(line) + 1
        if used + cost <= budget_tokens - min(reserve, budget_tokens // 4):
            picked.append((item_id, line, cost))
            used += cost
        else:
            omitted.append(item_id)
    note = _omitted_line(omitted, boundary)
    # the reserve is a guess: drop the lowest-ranked shown items until the note fits too
    while picked and note is not None and used + tokens.estimate(note) + 1 > budget_tokens:
        item_id, _, cost = picked.pop()
        used -= cost
        omitted.insert(0, item_id)
        note = _omitted_line(omitted, boundary)
    lines = [line for _, line, _ in picked]
    shown = [item_id for item_id, _, _ in picked]
    if note is not None:
        lines.append(note)
        used += tokens.estimate(note) + 1
    text = "\n".join(lines) if lines else "(no evidence)"
    return Bundle(text, tuple(shown), tuple(omitted), used)
