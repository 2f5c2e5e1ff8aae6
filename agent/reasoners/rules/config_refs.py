"""What `missing_config_key` and `missing_secret` share: the kubelet naming a ConfigMap or Secret (or a
key of one) that a pod references and that does not exist, the reference in the pod spec, and
whether the fault is the reference (a recent change pointed it somewhere empty) or the object.

The kubelet's wording: for environment variables, the container waits in CreateContainerConfigError
with `configmap "x" not found`, `secret "x" not found` or `couldn't find key K in Secret ns/x`; for
volumes, the pod stays ContainerCreating with FailedMount events `MountVolume.SetUp failed for volume
"v" : secret "x" not found` (or `... references non-existent secret key: K`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from agent.domain import ProposedRemediation, RootCause
from agent.reasoners.rules import fields, history, remedies
from agent.reasoners.rules.context import Finding, RuleContext, cite
from agent.reasoners.rules.observations import find_container

_KINDS = {"configmap": "ConfigMap", "secret": "Secret", "config map": "ConfigMap"}
_MISSING_KEY = re.compile(
    r"couldn't find key (?P<key>[\w.-]+) in (?P<kind>ConfigMap|Secret) (?:(?P<ns>[\w.-]+)/)?(?P<name>[\w.-]+)"
)
_MISSING_OBJECT = re.compile(
    r"(?:volume \"(?P<volume>[\w.-]+)\"\s*:\s*)?(?P<kind>configmap|secret) \"(?P<name>[\w.-]+)\" not found",
    re.IGNORECASE,
)
_MISSING_VOLUME_KEY = re.compile(
    r"volume \"(?P<volume>[\w.-]+)\"\s*:.*?references non-existent (?P<kind>secret|config map) key:? "
    r"(?P<key>[\w.-]+)",
    re.IGNORECASE,
)
CONFIG_ERRORS = ("CreateContainerConfigError", "CreateContainerError")


@dataclass(frozen=True)
class MissingRef:
    """A ConfigMap or Secret (or a key of one) the pod needs and the cluster does not have."""

    kind: str  # ConfigMap or Secret
    name: str
    key: str | None
    item_id: str  # the status or event that says so
    volume: str | None = None

    @property
    def what(self) -> str:
        """`key K in Secret x`, or `Secret x`."""
        return f"key {self.key} in {self.kind} {self.name}" if self.key else f"{self.kind} {self.name}"


def missing_refs(ctx: RuleContext) -> list[MissingRef]:
    """Every missing ConfigMap/Secret (or key) the container statuses and events name, in order."""
    sources = [(c.item_id, c.messages) for c in ctx.view.containers if c.messages] + [
        (e.item_id, e.message) for e in ctx.view.events
    ]
    out: list[MissingRef] = []
    for item_id, text in sources:
        for m in _MISSING_KEY.finditer(text):
            out.append(MissingRef(_kind(m.group("kind")), m.group("name"), m.group("key"), item_id))
        for m in _MISSING_OBJECT.finditer(text):
            out.append(MissingRef(_kind(m.group("kind")), m.group("name"), None, item_id, m.group("volume")))
        for m in _MISSING_VOLUME_KEY.finditer(text):
            volume = m.group("volume")
            kind = _kind(m.group("kind"))
            name = _volume_source(ctx.view.pod_spec, volume, kind)
            if name:
                out.append(MissingRef(kind, name, m.group("key"), item_id, volume))
    seen: set[tuple[str, str, str | None]] = set()
    unique = []
    for ref in out:
        if (ref.kind, ref.name, ref.key) not in seen:
            seen.add((ref.kind, ref.name, ref.key))
            unique.append(ref)
    return unique


def _kind(text: str) -> str:
    return _KINDS.get(text.lower(), text)


def _volume_source(pod_spec: dict[str, Any], volume: str, kind: str) -> str | None:
    for v in pod_spec.get("volumes") or []:
        if isinstance(v, dict) and v.get("name") == volume:
            source = v.get("secret" if kind == "Secret" else "configMap") or {}
            name = source.get("secretName" if kind == "Secret" else "name")
            return str(name) if name else None
    return None


def failing_on_config(ctx: RuleContext) -> bool:
    """True when the pods fail on it now: a container waiting in a config error, or pods not started."""
    if any(c.reasons & set(CONFIG_ERRORS) for c in ctx.view.containers):
        return True
    return any(c.waiting_reason == "ContainerCreating" for c in ctx.view.containers) or any(
        p.phase == "Pending" for p in ctx.view.pods
    )


@dataclass(frozen=True)
class Reference:
    """Where the pod spec uses the missing object: a container's env entry, or a volume."""

    container: str | None
    env: str | None = None  # the variable, for an env entry
    volume: str | None = None
    env_from: bool = False

    @property
    def field(self) -> str | None:
        """The reference's path in the workload's manifest."""
        if self.container and self.env:
            return fields.env(self.container, self.env)
        if self.volume:
            return fields.pod_spec(f"volumes[{self.volume}]")
        return None


def reference_to(ctx: RuleContext, ref: MissingRef) -> Reference | None:
    """The first place the live pod spec refers to the missing object (and key)."""
    spec = ctx.view.pod_spec
    key_ref = "secretKeyRef" if ref.kind == "Secret" else "configMapKeyRef"
    for container in spec.get("containers") or []:
        if not isinstance(container, dict):
            continue
        for entry in container.get("env") or []:
            source = ((entry or {}).get("valueFrom") or {}).get(key_ref) or {}
            if source.get("name") == ref.name and (ref.key is None or source.get("key") == ref.key):
                return Reference(container.get("name"), env=entry.get("name"))
        whole = "secretRef" if ref.kind == "Secret" else "configMapRef"
        for source in container.get("envFrom") or []:
            if ((source or {}).get(whole) or {}).get("name") == ref.name:
                return Reference(container.get("name"), env_from=True)
    if ref.volume or _volume_named(spec, ref):
        return Reference(None, volume=ref.volume or _volume_named(spec, ref))
    return None


def _volume_named(spec: dict[str, Any], ref: MissingRef) -> str | None:
    for v in spec.get("volumes") or []:
        if isinstance(v, dict) and _volume_source(spec, str(v.get("name")), ref.kind) == ref.name:
            return str(v.get("name"))
    return None


def key_of(ctx: RuleContext, ref: MissingRef, where: Reference | None) -> str | None:
    """The key the pod wants from the object: named by the kubelet, else by the env entry."""
    if ref.key or where is None or where.container is None or where.env is None:
        return ref.key
    entry: dict[str, Any] = next(
        (
            e
            for e in (ctx.view.container_spec(where.container) or {}).get("env") or []
            if e.get("name") == where.env
        ),
        {},
    )
    source = (entry.get("valueFrom") or {}).get(
        "secretKeyRef" if ref.kind == "Secret" else "configMapKeyRef"
    ) or {}
    key = source.get("key")
    return str(key) if key else None


@dataclass(frozen=True)
class RefFix:
    """Who is at fault (the reference, or the object) and the fix."""

    faulty_resource: str
    faulty_field: str | None
    remediation: ProposedRemediation
    cited: tuple[str, ...]
    confidence: float


def changed_reference(ctx: RuleContext, ref: MissingRef, where: Reference | None) -> RefFix | None:
    """When the workload's own reference changed since the revision that worked (or a commit still in
    effect made it): the reference is the fault, and the fix puts it back."""
    if where is None or where.container is None or where.env is None:
        return None
    container, var = where.container, where.env
    good = history.known_good(ctx.view, _entry_of(container, var))
    if good is not None and good.value is not None:
        now: dict[str, Any] = next(
            (e for e in (ctx.view.container_spec(container) or {}).get("env") or [] if e.get("name") == var),
            {},
        )
        entry = {"name": var, **_restore_entry(now, good.value)}
        return RefFix(
            ctx.workload,
            where.field,
            remedies.set_env(container, var, entry, f"point {var} back where {good.source} read it"),
            good.cited,
            0.9 if good.proven else 0.85,
        )
    commit = ctx.view.suspect_commit(re.compile(rf"^\s*name:\s*['\"]?{re.escape(ref.name)}['\"]?\s*$"))
    if commit is not None and any(
        line.startswith("+") and re.search(rf"\b{re.escape(ref.name)}\b", line)
        for line in commit.changed_lines()
    ):
        why = f"commit {commit.sha[:12]} made {var} read {ref.what}, which does not exist"
        return RefFix(
            ctx.workload, where.field, remedies.revert_commit(commit.sha, why), (commit.item_id,), 0.85
        )
    return None


@dataclass(frozen=True)
class RefFacts:
    """What both rules read about a missing reference: where the pod spec makes it, the key, the ids to
    cite, and the part of the signature not shown (pods not failing on it now)."""

    where: Reference | None
    key: str | None
    cited: tuple[str, ...]
    missing: tuple[str, ...]


def ref_facts(ctx: RuleContext, ref: MissingRef) -> RefFacts:
    """The facts about `ref` the rules share."""
    config_error = [c for c in ctx.view.containers if c.reasons & set(CONFIG_ERRORS)]
    missing = () if failing_on_config(ctx) else ("pods failing on it now",)
    where = reference_to(ctx, ref)
    cited = (ref.item_id, *(c.item_id for c in config_error))
    return RefFacts(where, key_of(ctx, ref, where), cited, missing)


def changed_finding(
    ctx: RuleContext, ref: MissingRef, facts: RefFacts, rule: str, category: RootCause
) -> Finding | None:
    """The finding when the workload's own reference is the fault (see `changed_reference`)."""
    changed = changed_reference(ctx, ref, facts.where)
    if changed is None:
        return None
    return Finding(
        rule=rule,
        category=category,
        confidence=changed.confidence,
        explanation=f"The pod now reads {ref.what}, which does not exist, so its containers cannot "
        "start; the reference changed since the workload last worked.",
        faulty_resource=changed.faulty_resource,
        faulty_field=changed.faulty_field,
        remediation=changed.remediation,
        cited=cite(facts.cited, changed.cited),
        missing=facts.missing,
    )


def missing_finding(
    ctx: RuleContext,
    ref: MissingRef,
    facts: RefFacts,
    *,
    rule: str,
    category: RootCause,
    remediation: ProposedRemediation,
    confidence: float,
    cited: list[str],
) -> Finding:
    """The finding when the referenced object or key itself is missing: the fault is on it."""
    return Finding(
        rule=rule,
        category=category,
        confidence=confidence,
        explanation=f"The pod references {ref.what}, which does not exist, so its containers cannot start.",
        faulty_resource=f"{ref.kind} {ctx.view.target.namespace}/{ref.name}",
        faulty_field=fields.data(facts.key) if facts.key else None,
        remediation=remediation,
        cited=cite(cited),
        missing=facts.missing,
    )


def _restore_entry(now: dict[str, Any], good: dict[str, Any]) -> dict[str, Any]:
    patch = remedies.restore(
        {k: v for k, v in now.items() if k != "name"}, {k: v for k, v in good.items() if k != "name"}
    )
    return patch if isinstance(patch, dict) else {}


def _entry_of(container: str, var: str) -> history.Getter:
    def read(pod_spec: dict[str, Any]) -> Any:
        env = (find_container(pod_spec, container) or {}).get("env") or []
        return next((e for e in env if isinstance(e, dict) and e.get("name") == var), None)

    return read
