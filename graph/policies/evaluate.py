"""The remediation policy: judge a proposed action on a workload, purely, failing closed.

A proposal passes only when every check passes; the verdict lists every failed check (or,
when allowed, what was checked), so a human reading an escalation sees all that was wrong.
graph/policies/remediation_guard hands the same judgement to the tools that write.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agent.domain import ActionType, ProposedRemediation, WorkloadRef
from graph.policies.config import RESTART_ANNOTATION_FIELD, PolicyConfig
from graph.policies.markers import marker_problems
from graph.policies.patch import image_repository, structural_problem, values_of, walk
from graph.policies.privilege import privilege_problems
from graph.state import PolicyVerdictData
from tools.guard import FieldAllowListGuard, GuardDecision, Verdict, WriteRequest

MUTATING = frozenset(ActionType) - {ActionType.NOTIFY, ActionType.NONE}
# Actions whose result is a pull request: they need a repository, and an open one makes another redundant.
PR_ACTIONS = frozenset({ActionType.GITOPS_PR, ActionType.REVERT_COMMIT})
_IMAGE_ACTIONS = frozenset({ActionType.ROLLBACK, ActionType.REVERT_COMMIT})
_PATCH_REQUIRED = frozenset({ActionType.PATCH, ActionType.GITOPS_PR})
_PATCH_FORBIDDEN = frozenset({ActionType.NOTIFY, ActionType.NONE})
# Patches a narrow action may carry; anything beyond is not that action any more.
_PATCH_ONLY = {ActionType.SCALE: ("spec.replicas",), ActionType.RESTART: (RESTART_ANNOTATION_FIELD,)}

_FREE_TEXT_PARAMETERS = frozenset({"reason", "summary", "title", "description", "message"})
_ACTION_PARAMETERS: dict[ActionType, frozenset[str]] = {
    ActionType.SCALE: frozenset({"replicas"}),
    ActionType.ROLLBACK: frozenset({"revision"}),
    ActionType.REVERT_COMMIT: frozenset({"commit"}),
}
_MAX_TEXT = 4096
_SHA = re.compile(r"[0-9a-f]{7,40}\Z")
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\Z")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\Z")

# Tool-level action names (tools/guard.py WriteRequest.action) that mean an ActionType.
ACTION_ALIASES: dict[str, ActionType] = {
    "open_pr": ActionType.GITOPS_PR,
    "commit_manifest": ActionType.GITOPS_PR,
    "revert": ActionType.REVERT_COMMIT,
    "rollout_restart": ActionType.RESTART,
    "rollout_undo": ActionType.ROLLBACK,
}


@dataclass(frozen=True)
class PolicyVerdict:
    """Policy's answer: allowed or not, and the reasons (failures when denied, checks when allowed)."""

    action: str
    allowed: bool
    reasons: tuple[str, ...] = field(default_factory=tuple)

    def to_data(self) -> PolicyVerdictData:
        """The verdict as the graph state stores it."""
        return PolicyVerdictData(
            verdict="allow" if self.allowed else "deny", action=self.action, reasons=list(self.reasons)
        )

    def to_guard_decision(self) -> GuardDecision:
        """The verdict as a tool guard answers."""
        verdict = Verdict.ALLOW if self.allowed else Verdict.DENY
        return GuardDecision(verdict, "; ".join(self.reasons) or verdict.value)


def parse_action(action: ActionType | str) -> ActionType | None:
    """The ActionType an action name means (ActionType values or tool aliases), or None."""
    if isinstance(action, ActionType):
        return action
    if not isinstance(action, str):
        return None
    try:
        return ActionType(action)
    except ValueError:
        return ACTION_ALIASES.get(action)


def _target_problems(target: WorkloadRef | None, config: PolicyConfig, mutating: bool) -> list[str]:
    if target is None:
        return ["missing target: a remediation must name the workload it changes"]
    problems = []
    ns = target.namespace
    if not _DNS_LABEL.match(ns):
        problems.append(f"namespace {ns!a} is not a valid namespace name")
    if not _DNS_SUBDOMAIN.match(target.name):
        problems.append(f"workload name {target.name!a} is not a valid object name")
    if not mutating:
        return problems
    if ns in config.protected_namespaces or ns.startswith(config.protected_prefixes):
        problems.append(f"namespace {ns!r} is protected: never changed")
    elif config.namespaces and ns not in config.namespaces:
        problems.append(f"namespace {ns!r} is not in the namespace allow-list")
    if target.kind not in config.allowed_kinds:
        allowed = ", ".join(config.allowed_kinds)
        problems.append(f"kind {target.kind!a} may not be changed (allowed: {allowed})")
    return problems


def _replica_problem(value: Any, config: PolicyConfig, where: str) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return f"{where} must be an integer, got {value!r}"
    if value == 0:
        return f"{where}=0: scaling to zero is never a fix"
    if not config.min_replicas <= value <= config.max_replicas:
        return f"{where}={value} is outside {config.min_replicas}..{config.max_replicas}"
    return None


def _parameter_problems(action: ActionType, parameters: Any, config: PolicyConfig) -> list[str]:
    if not isinstance(parameters, Mapping):
        return [f"unparseable parameters: expected an object, got {type(parameters).__name__}"]
    allowed = _FREE_TEXT_PARAMETERS | _ACTION_PARAMETERS.get(action, frozenset())
    problems = [
        f"unexpected parameter {key!a} for {action.value}" for key in parameters if key not in allowed
    ]
    for key in _FREE_TEXT_PARAMETERS & set(parameters):
        value = parameters[key]
        if not isinstance(value, str) or len(value) > _MAX_TEXT:
            problems.append(f"parameter {key!r} must be text of at most {_MAX_TEXT} characters")
    if action is ActionType.SCALE:
        if "replicas" not in parameters:
            problems.append("scale needs parameters.replicas")
        elif problem := _replica_problem(parameters["replicas"], config, "replicas"):
            problems.append(problem)
    if action is ActionType.REVERT_COMMIT:
        commit = parameters.get("commit")
        if not isinstance(commit, str) or not _SHA.match(commit):
            problems.append(f"revert_commit needs parameters.commit as a hex commit sha, got {commit!r}")
    if action is ActionType.ROLLBACK and "revision" in parameters:
        revision = parameters["revision"]
        if isinstance(revision, bool) or not isinstance(revision, int) or revision < 0:
            problems.append(f"rollback revision must be a non-negative integer, got {revision!r}")
    return problems


def _manifest_images(manifest: Mapping[str, Any] | None) -> set[str]:
    if manifest is None:
        return set()
    return {image_repository(v) for _, v in values_of(manifest, "image") if isinstance(v, str)}


def _container_names(manifest: Mapping[str, Any]) -> set[str]:
    names = set()
    for parent, key, value in walk(manifest):
        if key == "name" and parent.endswith("spec.containers[*]") and isinstance(value, str):
            names.add(value)
    return names


def _patch_problems(
    action: ActionType, patch: Mapping[str, Any], manifest: Mapping[str, Any] | None, config: PolicyConfig
) -> list[str]:
    if structural := structural_problem(patch, config):
        return [structural.reason]
    problems = marker_problems(patch)
    if action in _PATCH_ONLY:
        field_guard = FieldAllowListGuard(allow=_PATCH_ONLY[action])
    else:
        image_actions = frozenset(a.value for a in _IMAGE_ACTIONS)
        field_guard = FieldAllowListGuard(allow=config.field_allow_list, image_actions=image_actions)
    decision = field_guard(WriteRequest(action.value, "", "", "", patch=patch))
    if not decision.allowed:
        problems.append(decision.reason)
    problems.extend(privilege_problems(patch, manifest))
    current_repos = _manifest_images(manifest)
    for path, image in values_of(patch, "image"):
        if action not in _IMAGE_ACTIONS:
            problems.append(f"changes an image at {path} ({image!r}): only rollback/revert may")
        elif not isinstance(image, str) or not image.strip():
            problems.append(f"image at {path} must be a non-empty reference")
        elif not (image.startswith(config.allowed_registries) if config.allowed_registries else False) and (
            image_repository(image) not in current_repos
        ):
            problems.append(
                f"image {image!r} is not from the workload's own repositories: a rollback returns to an "
                "earlier tag, never to a new registry"
            )
    for path, value in values_of(patch, "replicas"):
        if path == "spec.replicas" and (problem := _replica_problem(value, config, path)):
            problems.append(problem)
    problems.extend(_container_problems(patch, manifest))
    return problems


def _container_problems(patch: Mapping[str, Any], manifest: Mapping[str, Any] | None) -> list[str]:
    spec = patch.get("spec", {})
    template = spec.get("template", {}) if isinstance(spec, Mapping) else {}
    pod = template.get("spec", {}) if isinstance(template, Mapping) else {}
    containers = pod.get("containers", []) if isinstance(pod, Mapping) else []
    if not isinstance(containers, list):
        return ["spec.template.spec.containers must be a list"]
    known = _container_names(manifest) if manifest is not None else None
    problems = []
    for item in containers:
        name = item.get("name") if isinstance(item, Mapping) else None
        if not isinstance(name, str) or not name:
            problems.append("every patched container must be addressed by its name")
        elif known is not None and name not in known:
            problems.append(f"patch addresses container {name!r}, which the workload does not have")
    return problems


def evaluate(
    action: ActionType | str,
    target: WorkloadRef | None,
    *,
    parameters: Any = None,
    patch: Any = None,
    manifest: Mapping[str, Any] | None = None,
    config: PolicyConfig | None = None,
    patch_required: bool | None = None,
) -> PolicyVerdict:
    """Judge one proposed action on `target`. Pure; anything unexpected is a denial with a reason.

    `manifest` is the workload's current manifest when known: it lets the policy tell an earlier
    image of the same repository from a foreign one, and an existing secret from a new one.
    `patch_required` overrides whether the action must carry a patch (default: by action).
    """
    config = config or PolicyConfig()
    parsed = parse_action(action)
    if parsed is None:
        return PolicyVerdict(str(action), False, (f"unknown action {action!a}: not in the allow-list",))
    problems = []
    if parsed not in config.allowed_actions:
        problems.append(f"action {parsed.value} is not in the action allow-list")
    problems.extend(_target_problems(target, config, parsed in MUTATING))
    problems.extend(_parameter_problems(parsed, {} if parameters is None else parameters, config))
    if patch is None:
        if parsed in _PATCH_REQUIRED if patch_required is None else patch_required:
            problems.append(f"{parsed.value} needs a patch")
    elif parsed in _PATCH_FORBIDDEN:
        problems.append(f"{parsed.value} changes nothing, so it may not carry a patch")
    else:
        problems.extend(_patch_problems(parsed, patch, manifest, config))
    if problems:
        return PolicyVerdict(parsed.value, False, tuple(dict.fromkeys(problems)))
    checked = ["action allow-listed", f"target {target} in scope"]
    if patch is not None:
        checked.append("patch within field allow-list, no privilege escalation, no redacted value")
    return PolicyVerdict(parsed.value, True, tuple(checked))


def evaluate_remediation(
    remediation: ProposedRemediation | None,
    target: WorkloadRef | None,
    *,
    manifest: Mapping[str, Any] | None = None,
    config: PolicyConfig | None = None,
) -> PolicyVerdict:
    """Judge a reasoner's proposal for the incident's target (never a target the proposal names)."""
    if remediation is None:
        return PolicyVerdict("none", False, ("no remediation proposed",))
    verdict = evaluate(
        remediation.action,
        target,
        parameters=remediation.request_parameters(),
        patch=remediation.manifest_patch(),
        manifest=manifest,
        config=config,
    )
    notes = "; ".join(f"{key}={value}" for key, value in remediation.notes.items())
    if len(notes) > _MAX_TEXT:
        problem = f"the proposal's notes must be text of at most {_MAX_TEXT} characters"
        failed = () if verdict.allowed else verdict.reasons
        return PolicyVerdict(verdict.action, False, (*failed, problem))
    return verdict
