"""The remediation policy: pure checks of a proposed action, also usable as a tool guard."""

from graph.policies.config import RESTART_ANNOTATION, PolicyConfig
from graph.policies.evaluate import (
    ACTION_ALIASES,
    MUTATING,
    PR_ACTIONS,
    PolicyVerdict,
    evaluate,
    evaluate_remediation,
    parse_action,
)
from graph.policies.remediation_guard import RemediationPolicy

__all__ = [
    "ACTION_ALIASES",
    "MUTATING",
    "PR_ACTIONS",
    "RESTART_ANNOTATION",
    "PolicyConfig",
    "PolicyVerdict",
    "RemediationPolicy",
    "evaluate",
    "evaluate_remediation",
    "parse_action",
]
