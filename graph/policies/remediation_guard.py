"""The remediation policy as a `tools.guard.PolicyGuard`: the tools that write are handed the very
policy the decision node used, so a write the policy would deny never happens."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from agent.domain import ActionType, WorkloadRef
from graph.policies.config import PolicyConfig
from graph.policies.evaluate import PolicyVerdict, evaluate
from tools.guard import GuardDecision, WriteRequest

# Parameters the Git tools add to describe where a write goes; they are not part of the remediation.
_GIT_BOOKKEEPING = frozenset({"path", "branch", "head", "base", "number"})
# Git operations that carry no patch of their own: the commit they publish was judged when made.
_PATCHLESS_GIT_ACTIONS = frozenset({"open_pr", "merge", "close_pr"})


def _bookkeeping_problems(values: Mapping[str, Any]) -> list[str]:
    return [
        f"tool parameter {key!r} must be a short string or an integer"
        for key, value in values.items()
        if isinstance(value, bool) or not isinstance(value, (str, int)) or len(str(value)) > 512
    ]


@dataclass(frozen=True)
class RemediationPolicy:
    """The remediation policy as a `tools.guard.PolicyGuard`, optionally bound to the live manifest.

    Tool requests name their actions as the tools do (`commit_manifest`, `open_pr`, `revert`,
    `merge`, `close_pr`) and add Git bookkeeping parameters; they are translated and judged exactly
    as a proposal.
    """

    config: PolicyConfig = field(default_factory=PolicyConfig)
    manifest: Mapping[str, Any] | None = None

    def __call__(self, request: WriteRequest) -> GuardDecision:
        """Judge a tool's write request exactly as the decision node judges a proposal."""
        try:
            target = WorkloadRef(namespace=request.namespace, kind=request.kind, name=request.name)
        except (ValidationError, TypeError):
            target = None
        parameters: Any = request.parameters
        problems: list[str] = []
        if isinstance(parameters, Mapping):
            parameters = {k: v for k, v in parameters.items() if k not in _GIT_BOOKKEEPING}
            problems = _bookkeeping_problems(
                {k: v for k, v in request.parameters.items() if k in _GIT_BOOKKEEPING}
            )
        if request.action == "merge" and not self.config.allow_merge:
            problems.append("merging is not allowed by policy (auto-merge is off)")
        # Merging and closing a pull request are judged as the pull request itself (same scope).
        action = ActionType.GITOPS_PR if request.action in ("merge", "close_pr") else request.action
        patchless = request.action in _PATCHLESS_GIT_ACTIONS
        verdict = evaluate(
            action,
            target,
            parameters=parameters,
            patch=request.patch,
            manifest=self.manifest,
            config=self.config,
            patch_required=False if patchless else None,
        )
        if problems:
            failed = () if verdict.allowed else verdict.reasons
            verdict = PolicyVerdict(verdict.action, False, (*problems, *failed))
        return verdict.to_guard_decision()
