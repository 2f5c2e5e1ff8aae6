"""The policy guard every mutating tool call goes through.

The guard is supplied by the caller (the graph composes the full policy); tools only know the
protocol and refuse to write when the verdict is not `allow`. `FieldAllowListGuard` is the
mechanism for the field allow-list, kept here because manifest patching needs it too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from tools.redaction import MARKER_PATTERN
from tools.result import ToolFailure, ToolStatus


class Verdict(StrEnum):
    """What the guard says of a proposed write."""

    ALLOW = "allow"
    DENY = "deny"
    NEEDS_APPROVAL = "needs_approval"


@dataclass(frozen=True)
class WriteRequest:
    """A proposed mutation, described well enough for a policy to judge it without I/O."""

    action: str  # patch, scale, restart, rollback, delete_pod, commit_manifest, open_pr, merge, ...
    namespace: str
    kind: str
    name: str
    patch: Mapping[str, Any] | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GuardDecision:
    """The guard's verdict and why."""

    verdict: Verdict
    reason: str

    @property
    def allowed(self) -> bool:
        """True only for an explicit allow."""
        return self.verdict is Verdict.ALLOW


class PolicyGuard(Protocol):
    """Judges a write request. Must be pure: no I/O, same input same answer."""

    def __call__(self, request: WriteRequest) -> GuardDecision: ...


def enforce(guard: PolicyGuard, request: WriteRequest) -> GuardDecision:
    """Ask the guard; anything but an explicit allow raises DENIED / NEEDS_APPROVAL (fail closed).

    Every mutating tool (Kubernetes writes, GitOps commits and pull requests) calls this before
    it sends anything, so a broken policy can never turn into a permitted write. A patch holding a
    redaction marker is refused whatever the guard says: the marker stands for a secret the caller
    never saw, and written out it would replace that secret (graph/policies/markers says it too).
    """
    if request.patch is not None and MARKER_PATTERN.search(
        json.dumps(request.patch, default=str, ensure_ascii=False)
    ):
        raise ToolFailure(
            f"{request.action} refused: the patch holds a redacted value («redacted:…»), not the value",
            ToolStatus.DENIED,
        )
    try:
        decision = guard(request)
    except Exception as exc:
        raise ToolFailure(
            f"policy guard failed ({type(exc).__name__}: {exc}); {request.action} refused", ToolStatus.DENIED
        ) from exc
    if not isinstance(decision, GuardDecision):
        raise ToolFailure(
            f"policy guard returned {type(decision).__name__}, not a decision", ToolStatus.DENIED
        )
    if decision.verdict is Verdict.NEEDS_APPROVAL:
        raise ToolFailure(f"{request.action} needs approval: {decision.reason}", ToolStatus.NEEDS_APPROVAL)
    if not decision.allowed:
        raise ToolFailure(f"{request.action} denied by policy: {decision.reason}", ToolStatus.DENIED)
    return decision


def deny_all(request: WriteRequest) -> GuardDecision:
    """The fail-closed guard: nothing may be written."""
    return GuardDecision(Verdict.DENY, f"no policy guard configured; {request.action} refused")


# Paths are dotted, list items by merge key: spec.template.spec.containers[*].resources.limits.memory
DEFAULT_FIELD_ALLOW_LIST: tuple[str, ...] = (
    "spec.replicas",
    "spec.template.metadata.annotations.*",
    "spec.template.spec.containers[*].resources",
    "spec.template.spec.containers[*].resources.*",
    "spec.template.spec.containers[*].resources.*.*",
    "spec.template.spec.containers[*].env",
    "spec.template.spec.containers[*].env[*]",
    "spec.template.spec.containers[*].env[*].*",
    "spec.template.spec.containers[*].env[*].*.*",
    "spec.template.spec.containers[*].env[*].*.*.*",
    "spec.template.spec.containers[*].readinessProbe",
    "spec.template.spec.containers[*].readinessProbe.*",
    "spec.template.spec.containers[*].readinessProbe.*.*",
    "spec.template.spec.containers[*].livenessProbe",
    "spec.template.spec.containers[*].livenessProbe.*",
    "spec.template.spec.containers[*].livenessProbe.*.*",
    "spec.template.spec.containers[*].startupProbe",
    "spec.template.spec.containers[*].startupProbe.*",
    "spec.template.spec.containers[*].startupProbe.*.*",
    "spec.template.spec.containers[*].name",  # the merge key itself, needed to address a container
    "spec.template.spec.containers[*].env[*].name",
)
# Image changes are allowed only for rollback/revert actions.
IMAGE_FIELD = "spec.template.spec.containers[*].image"


def patch_paths(patch: Any, prefix: str = "") -> Iterable[str]:
    """Every leaf path a strategic-merge-style patch touches; list items become `[*]`."""
    if isinstance(patch, Mapping):
        if not patch and prefix:
            yield prefix
        for key, value in patch.items():
            if str(key).startswith("$"):  # strategic-merge directives ($patch, $retainKeys, ...)
                yield f"{prefix}.{key}" if prefix else str(key)
                continue
            yield from patch_paths(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(patch, list):
        if not patch:
            yield prefix
        for item in patch:
            yield from patch_paths(item, f"{prefix}[*]")
    else:
        yield prefix


def _pattern(pattern: str) -> re.Pattern[str]:
    # `[*]` is a literal list-item marker; a bare `*` stands for one path segment.
    marker = "\x00"
    escaped = re.escape(pattern.replace("[*]", marker))
    regex = escaped.replace(re.escape(marker), r"\[\*\]").replace(r"\*", r"[^.]+")
    return re.compile(regex + r"\Z")


def fields_outside(paths: Iterable[str], allow: Iterable[str]) -> list[str]:
    """The paths that no allow-list pattern covers (`*` matches one dotted segment)."""
    compiled = [_pattern(p) for p in allow]
    return sorted({p for p in paths if not any(c.match(p) for c in compiled)})


@dataclass(frozen=True)
class FieldAllowListGuard:
    """Allows patches that touch only allow-listed fields (image only for rollback/revert)."""

    allow: tuple[str, ...] = DEFAULT_FIELD_ALLOW_LIST
    image_actions: frozenset[str] = frozenset({"rollback", "revert", "revert_commit"})

    def __call__(self, request: WriteRequest) -> GuardDecision:
        if request.patch is None:
            return GuardDecision(Verdict.ALLOW, "no field patch")
        allow = self.allow + ((IMAGE_FIELD,) if request.action in self.image_actions else ())
        outside = fields_outside(patch_paths(request.patch), allow)
        if outside:
            reason = "patch touches fields outside the allow-list: " + ", ".join(outside)
            return GuardDecision(Verdict.DENY, reason)
        return GuardDecision(Verdict.ALLOW, "all patched fields are allow-listed")
