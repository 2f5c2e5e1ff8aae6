"""A nodeSelector (or required node affinity) no node satisfies, read against the labels nodes have.

The scheduler says only "didn't match Pod's node affinity/selector"; which label is wrong, and to
what, comes from the nodes' labels (Node STATUS evidence). A selector value one slip away from a
value nodes really carry (`SSD` for `ssd`, `nvme-fast` for `nvme_fast`) is a near miss: the fix
patches the selector to the real value, when that makes some schedulable node match. The selector
of the revision the workload last worked on is restored first when nodes still satisfy it. Any
other mismatch (no node has the label at all, several candidates, an affinity expression) goes to
humans with the labels the nodes do have.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from agent.domain import ProposedRemediation
from agent.reasoners.rules import fields, history, remedies
from agent.reasoners.rules.context import RuleContext, cite
from agent.reasoners.rules.observations import CommitObs, NodeObs

SELECTOR_MISMATCH = re.compile(
    r"didn't match (?:Pod's )?node (?:affinity|selector)|node\(s\) didn't match node selector"
)
_MAX_LABELS_SHOWN = 12


@dataclass(frozen=True)
class SelectorFix:
    """What is wrong with the selector, where, and the fix."""

    remediation: ProposedRemediation
    faulty_field: str
    explanation: str
    cited: tuple[str, ...]
    confidence: float


def _selector(pod_spec: dict[str, Any]) -> dict[str, str]:
    raw = pod_spec.get("nodeSelector")
    return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}


def _satisfied_by(selector: dict[str, str], nodes: list[NodeObs]) -> list[NodeObs]:
    return [
        n for n in nodes if not n.unschedulable and all(n.labels.get(k) == v for k, v in selector.items())
    ]


def _near(a: str, b: str) -> bool:
    """One slip apart: equal but for case or `-`/`_`/`.`, or at most one edit (two for long values)."""
    norm = re.compile(r"[-_.\s]")
    if a.lower() == b.lower() or norm.sub("", a.lower()) == norm.sub("", b.lower()):
        return True
    return _edits(a.lower(), b.lower()) <= (2 if min(len(a), len(b)) >= 8 else 1)


def _edits(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def labels_listing(nodes: list[NodeObs], keys: set[str] | None = None) -> str:
    """The nodes' labels (those with `keys`, when given), for humans: `node-a: disktype=ssd, ...`."""
    lines = []
    for node in nodes:
        shown = {k: v for k, v in sorted(node.labels.items()) if keys is None or k in keys}
        text = ", ".join(f"{k}={v}" for k, v in list(shown.items())[:_MAX_LABELS_SHOWN]) or "no such label"
        lines.append(f"{node.node}: {text}")
    return "; ".join(lines)


def fix_selector(ctx: RuleContext) -> SelectorFix | None:
    """The selector's fault and fix, when the pods' nodeSelector is what keeps them off every node."""
    view = ctx.view
    selector = _selector(view.pod_spec)
    nodes = view.nodes
    if not selector or not nodes or _satisfied_by(selector, nodes):
        return None
    unmatched = [k for k, v in selector.items() if not any(n.labels.get(k) == v for n in nodes)]
    cited = cite(nodes)
    field = fields.node_selector(unmatched[0]) if len(unmatched) == 1 else fields.pod_spec("nodeSelector")
    commit = _selector_commit(ctx, selector, unmatched)
    if commit is not None:
        return SelectorFix(
            remedies.revert_commit(
                commit.sha,
                f"commit {commit.sha[:12]} set the nodeSelector no node satisfies, and nothing else",
            ),
            field,
            f"No node carries the labels the nodeSelector asks for ({_pairs(selector, unmatched)}); "
            f"commit {commit.sha[:12]} set them.",
            cite(cited, [commit.item_id]),
            0.9,
        )
    good = history.known_good(view, _selector)
    if (
        good is not None
        and isinstance(good.value, dict)
        and _satisfied_by(_selector({"nodeSelector": good.value}), nodes)
    ):
        patch = {"spec": {"template": {"spec": {"nodeSelector": remedies.restore(selector, good.value)}}}}
        return SelectorFix(
            remedies.gitops_pr(patch, f"restore the nodeSelector of {good.source}", field="nodeSelector"),
            field,
            f"No node carries the labels the nodeSelector asks for ({_pairs(selector, unmatched)}); "
            f"{good.source} selected nodes that exist.",
            cite(cited, good.cited),
            0.9 if good.proven else 0.85,
        )
    near = _near_miss(selector, unmatched, nodes)
    if near is not None:
        fixed, matching = near
        changes = ", ".join(f"{k}={selector[k]} -> {fixed[k]}" for k in unmatched)
        patch = {"spec": {"template": {"spec": {"nodeSelector": fixed}}}}
        why = f"{_pairs(selector, unmatched)} is a near miss of the labels nodes carry ({changes})"
        return SelectorFix(
            remedies.gitops_pr(
                patch,
                f"{why}; {', '.join(n.node for n in matching)} would match",
                field="nodeSelector",
                old={k: selector[k] for k in unmatched},
                new=fixed,
            ),
            field,
            f"No node matches the nodeSelector: {why}.",
            cited,
            0.85,
        )
    listing = labels_listing(nodes, set(unmatched))
    return SelectorFix(
        remedies.notify(
            f"no node carries {_pairs(selector, unmatched)}; the nodes have: {listing}",
            node_labels=listing,
        ),
        field,
        f"No node carries the labels the nodeSelector asks for ({_pairs(selector, unmatched)}); "
        f"the nodes have: {listing}.",
        cited,
        0.85,
    )


_SELECTOR_LINE = re.compile(r"^\s*(?:nodeSelector:\s*(?:\{\s*\})?|[\w./-]+:\s*['\"]?[\w./-]*['\"]?)\s*$")


_KEY = re.compile(r"^\s*([\w./-]+):")


def _selector_commit(ctx: RuleContext, selector: dict[str, str], unmatched: list[str]) -> CommitObs | None:
    """The live commit that set an unmatched selector label and changed nothing but nodeSelector lines:
    reverting it undoes exactly the fault (a commit that also changed other fields is not reverted)."""
    wanted = {re.sub(r"\s+", "", f"{k}:{selector[k]}") for k in unmatched}
    for commit in ctx.view.live_commits:
        lines = commit.changed_lines()
        added = {re.sub(r"[\s'\"]+", "", line[1:]) for line in lines if line[0] == "+"}
        if not wanted & added or not any("nodeSelector" in line for line in lines):
            continue
        keys = {m.group(1) for line in lines if line[0] == "+" and (m := _KEY.match(line[1:]))}
        if keys <= {"nodeSelector", *selector} and all(_SELECTOR_LINE.match(line[1:]) for line in lines):
            return commit
    return None


def _near_miss(
    selector: dict[str, str], unmatched: list[str], nodes: list[NodeObs]
) -> tuple[dict[str, str], list[NodeObs]] | None:
    """The unmatched labels set to the one near value nodes carry, and the nodes that would then match;
    None unless every unmatched label has exactly one near value and some schedulable node matches."""
    fixed: dict[str, str] = {}
    for key in unmatched:
        candidates = {n.labels[key] for n in nodes if key in n.labels and _near(selector[key], n.labels[key])}
        if len(candidates) != 1:
            return None
        fixed[key] = next(iter(candidates))
    matching = _satisfied_by({**selector, **fixed}, nodes)
    return (fixed, matching) if matching else None


def affinity_listing(ctx: RuleContext) -> str | None:
    """The nodes' labels for humans, when the pods require node affinity (nothing is patched then)."""
    affinity = (ctx.view.pod_spec.get("affinity") or {}).get("nodeAffinity") or {}
    required = affinity.get("requiredDuringSchedulingIgnoredDuringExecution") or {}
    keys = {
        str(expr.get("key"))
        for term in required.get("nodeSelectorTerms") or []
        for expr in (term or {}).get("matchExpressions") or []
        if isinstance(expr, dict) and expr.get("key")
    }
    return labels_listing(ctx.view.nodes, keys) if keys and ctx.view.nodes else None


def _pairs(selector: dict[str, str], keys: list[str]) -> str:
    return ", ".join(f"{k}={selector[k]}" for k in keys) or ", ".join(f"{k}={v}" for k, v in selector.items())
