"""A Service investigated on its own (a run followed its consumers to it): a selector that matches
no pod, read against the labels the namespace's pods really carry and the Git history of the
Service's manifest.

Signature: the Service has a selector, no pod of its namespace matches it (pods that match but are
unready are their workload's fault, not the selector's), and its consumers fail because of it (the
watcher saw a workload reach this Service while it selected nothing: `agent.incident_labels`).
Without a failing consumer the selector is still wrong, but nothing says it is an outage: the
finding is partial and the run escalates with what was seen.

The fix restores the selector's last known-good value. Walking the commits that changed the
selector, newest first, each one undone in turn, the known-good value is the first that selects
pods that are ready now (proven by the pods themselves, not presumed). When one commit made the
whole change and changed nothing but the selector, reverting it is the fix; otherwise humans get
the value to restore (a revert would undo more than the fault, and the field allow-list lets no
patch rewrite a selector).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent import incident_labels
from agent.domain import ProposedRemediation, RootCause
from agent.incident_labels import watcher_facts
from agent.reasoners.rules import fields, remedies
from agent.reasoners.rules.context import Finding, RuleContext, cite
from agent.reasoners.rules.observations import CommitObs, ServiceObs
from tools.scan.objects import label_text

SERVICE = "Service"
_PAIR = re.compile(r"^(?P<indent>\s*)(?P<key>[\w./-]+):\s*['\"]?(?P<value>[\w./-]*)['\"]?\s*$")
_HEADER = re.compile(r"^(?P<indent>\s*)(?P<key>[\w./-]+):\s*(?:#.*)?$")


@dataclass(frozen=True)
class SelectorChange:
    """What one commit did to a selector: the pairs it removed and added, and whether it changed
    anything else (then reverting it would undo more than the selector)."""

    commit: CommitObs
    removed: dict[str, str]
    added: dict[str, str]
    only_selector: bool


def selector_change(commit: CommitObs) -> SelectorChange | None:
    """The selector pairs a commit changed, read from its diff (context lines locate the `selector:`
    block); None when it changed no selector pair."""
    removed: dict[str, str] = {}
    added: dict[str, str] = {}
    only_selector = len(commit.files) <= 1
    block: int | None = None  # indentation of the `selector:` header we are under
    child: int | None = None  # indentation of its pairs
    for raw in commit.diff.splitlines():
        if raw.startswith("@@"):
            block = child = None
            continue
        if not raw or raw.startswith(("+++", "---", "diff ", "index ")):
            continue
        marker, line = raw[0], raw[1:]
        if marker not in " +-" or not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        if block is not None and indent <= block:
            block = child = None
        header = _HEADER.match(line)
        pair = _PAIR.match(line)
        in_selector = False
        if header is not None and header["key"] == "selector":
            block, child, in_selector = indent, None, True
        elif block is not None and header is not None:
            block = child = None  # a nested map (matchLabels): a workload's selector, not a Service's
        elif block is not None and pair is not None and child in (None, indent):
            child, in_selector = indent, True
            if marker == "-":
                removed[pair["key"]] = pair["value"]
            elif marker == "+":
                added[pair["key"]] = pair["value"]
        if marker != " " and not in_selector:
            only_selector = False
    if not removed and not added:
        return None
    return SelectorChange(commit, removed, added, only_selector)


def _undo(selector: dict[str, str], change: SelectorChange) -> dict[str, str] | None:
    """The selector before `change`, or None when the change is not what the selector holds now."""
    if any(selector.get(k) != v for k, v in change.added.items()):
        return None
    before = {k: v for k, v in selector.items() if k not in change.added}
    before.update(change.removed)
    return before


def _text(selector: dict[str, str]) -> str:
    return label_text(selector) or "(empty)"


def _consumers_fail(ctx: RuleContext, resource: str) -> bool:
    """Whether the watcher saw a workload reach this Service while it selected nothing."""
    facts = watcher_facts(ctx.incident)
    return (
        facts.get(incident_labels.DEPENDENCY) == resource
        and facts.get(incident_labels.DEPENDENCY_STATE) == incident_labels.SELECTOR_MATCHES_NOTHING
    )


def selector_drift(ctx: RuleContext) -> Finding | None:
    """The Service's selector matches no pod: the fault and, from its history, the fix."""
    view = ctx.view
    if view.target.kind != SERVICE:
        return None
    service = next((s for s in view.services if s.name == view.target.name), None)
    if service is None or not service.selector:
        return None
    selected = service.matching(service.selector)
    if selected:
        return _unready_backends(ctx, service, selected)
    resource = ctx.workload
    missing = (
        () if _consumers_fail(ctx, resource) else ("a workload failing because it reaches this Service",)
    )
    lead = f"{resource} selects {_text(service.selector)}, which no pod carries, so it has no endpoints"
    fix, why, cited = _restore(service, ctx)
    return Finding(
        rule="dependency_down",
        category=RootCause.DEPENDENCY_DOWN,
        confidence=0.9 if cited else 0.8,
        explanation=f"{lead}; {why}",
        faulty_resource=resource,
        faulty_field=fields.SELECTOR,
        remediation=fix,
        cited=cite([service.item_id], cited),
        missing=missing,
    )


def _unready_backends(ctx: RuleContext, service: ServiceObs, selected: list[str]) -> Finding | None:
    """The selector matches pods: none ready is their workload's fault, not the selector's. Said as a
    partial match (an `unknown` that escalates) rather than calling the Service healthy."""
    if service.ready_matching(service.selector):
        return None  # it serves
    shown = ", ".join(selected[:3]) + (f" and {len(selected) - 3} more" if len(selected) > 3 else "")
    return Finding(
        rule="dependency_down",
        category=RootCause.DEPENDENCY_DOWN,
        confidence=0.4,
        explanation=f"{ctx.workload} selects {len(selected)} pod(s) ({shown}) and none is ready: "
        "the fault is in the workload behind them, not in the Service.",
        faulty_resource=ctx.workload,
        remediation=remedies.notify(
            f"the pods {ctx.workload} selects are unready ({shown}); investigate them"
        ),
        cited=(service.item_id,),
        missing=("a selector that matches no pod",),
    )


def _restore(service: ServiceObs, ctx: RuleContext) -> tuple[ProposedRemediation, str, tuple[str, ...]]:
    """The remediation restoring the selector's last known-good value, why, and the commits cited."""
    selector = dict(service.selector)
    walked: list[SelectorChange] = []
    for commit in ctx.view.live_commits:  # newest first; reverted pairs already cancelled out
        change = selector_change(commit)
        if change is None:
            continue
        before = _undo(selector, change)
        if before is None:
            break  # the history does not explain the selector as it is now: stop guessing
        walked.append(change)
        selector = before
        ready = service.ready_matching(selector)
        if not ready:
            continue
        cited = tuple(c.commit.item_id for c in walked)
        first = walked[0].commit.sha[:12]
        good = f"before commit {walked[-1].commit.sha[:12]} it selected {_text(selector)}, which " + (
            f"{len(ready)} ready pod(s) carry ({', '.join(ready[:3])})"
        )
        if len(walked) == 1 and change.only_selector:
            return (
                remedies.revert_commit(
                    change.commit.sha,
                    f"commit {first} changed the Service's selector to labels no pod carries, and "
                    f"nothing else; {good}",
                    selector=_text(selector),
                ),
                f"commit {first} changed it; {good}.",
                cited,
            )
        return (
            remedies.notify(
                f"restore the Service's selector to {_text(selector)}: {good}; reverting would undo more "
                "than the selector",
                selector=_text(selector),
            ),
            f"{good}.",
            cited,
        )
    carried = sorted({_text(labels) for _, labels, ready in service.pods if ready})
    return (
        remedies.notify(
            f"restore the Service's selector to the labels its pods carry (ready pods carry: "
            f"{'; '.join(carried[:5]) or 'none'})",
            dependency=ctx.workload,
        ),
        "its history shows no earlier selector that ready pods carry.",
        (),
    )
