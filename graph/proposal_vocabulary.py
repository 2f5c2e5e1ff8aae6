"""A reasoner's proposal in the policy's vocabulary.

The reasoners name the commit to revert `sha` and the revision to roll back to `to_revision`, and
add context parameters (`container`, `field`, `old`, `new`, ...). The policy (graph/policies)
and the tools speak `commit` and `revision` and refuse parameters they do not know, failing
closed. `canonical` renames the aliases and folds the context into the free-text `description`
parameter, so nothing the reasoner said is lost and nothing unknown reaches the policy.
"""

from __future__ import annotations

from typing import Any

from agent.domain import ActionType, ProposedRemediation

# Parameter names per action, as graph/policies/evaluate.py accepts them.
FREE_TEXT = ("reason", "summary", "title", "description", "message")
ACTION_PARAMETERS: dict[ActionType, tuple[str, ...]] = {
    ActionType.SCALE: ("replicas",),
    ActionType.ROLLBACK: ("revision",),
    ActionType.REVERT_COMMIT: ("commit",),
}
ALIASES: dict[ActionType, dict[str, str]] = {
    ActionType.REVERT_COMMIT: {"sha": "commit"},
    ActionType.ROLLBACK: {"to_revision": "revision"},
}


def canonical(remediation: ProposedRemediation) -> tuple[ProposedRemediation, list[str]]:
    """The proposal with policy parameter names, and a line per change made (empty: it already was)."""
    action = remediation.action
    aliases = ALIASES.get(action, {})
    known = set(FREE_TEXT) | set(ACTION_PARAMETERS.get(action, ()))
    parameters: dict[str, Any] = {}
    context: list[str] = []
    changes: list[str] = []
    for key, value in remediation.parameters.items():
        name = aliases.get(key, key)
        if name in known and name not in parameters:
            parameters[name] = value
            if name != key:
                changes.append(f"parameter {key!r} renamed {name!r}")
        else:
            context.append(f"{key}={value}")
            changes.append(f"parameter {key!r} moved into the description")
    if context:
        described = "; ".join(context)
        existing = parameters.get("description")
        parameters["description"] = f"{existing}; {described}" if isinstance(existing, str) else described
    if not changes:
        return remediation, []
    return remediation.model_copy(update={"parameters": parameters}), changes
