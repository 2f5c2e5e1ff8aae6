"""What the watcher looks at: namespaces (a list or a label selector), exclusions, ParamedicWatch targets.

Namespace labels and ParamedicWatch objects arrive through watch streams, so a `Scope` is updated
while it is read; its methods are thread-safe.
"""

from __future__ import annotations

import fnmatch
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.config import ScopeSettings, Thresholds
from agent.domain import WorkloadRef
from agent.watch_labels import (
    ACT_LABEL,
    ASK_LABEL,
    GIT_REPO_LABEL,
    LLM_MODEL_LABEL,
    LLM_PROVIDER_LABEL,
    MODE_LABEL,
    WATCH_LABEL,
)

# -- label selectors ---------------------------------------------------------------------------

_REQUIREMENT = re.compile(
    r"""^\s*(?:
        (?P<not>!)\s*(?P<nkey>[\w./-]+)                                   # !key
      | (?P<skey>[\w./-]+)\s*(?P<sop>in|notin)\s*\((?P<values>[^)]*)\)     # key in (a,b)
      | (?P<ekey>[\w./-]+)\s*(?P<eop>==|=|!=)\s*(?P<value>[\w./-]*)        # key=value
      | (?P<xkey>[\w./-]+)                                                # key
    )\s*$""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Requirement:
    """One clause of a label selector."""

    key: str
    op: Literal["=", "!=", "in", "notin", "exists", "!exists"]
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether the labels satisfy this clause (Kubernetes semantics: `!=`/`notin` match absent keys)."""
        present = self.key in labels
        value = labels.get(self.key)
        if self.op == "exists":
            return present
        if self.op == "!exists":
            return not present
        if self.op in ("=", "in"):
            return present and value in self.values
        return not present or value not in self.values


def _split_clauses(text: str) -> list[str]:
    clauses: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            clauses.append("".join(current))
            current = []
        else:
            current.append(char)
    clauses.append("".join(current))
    return clauses


def parse_selector(text: str) -> tuple[Requirement, ...]:
    """Parse a label selector (`a=b,c!=d,e in (f,g),h notin (i),j,!k`); ValueError names the bad clause."""
    requirements: list[Requirement] = []
    for clause in _split_clauses(text):
        if not clause.strip():
            raise ValueError(f"label selector {text!r}: empty clause")
        match = _REQUIREMENT.match(clause)
        if match is None:
            raise ValueError(f"label selector {text!r}: cannot parse {clause.strip()!r}")
        if match["nkey"]:
            requirements.append(Requirement(match["nkey"], "!exists"))
        elif match["skey"]:
            values = tuple(v.strip() for v in match["values"].split(",") if v.strip())
            if not values:
                raise ValueError(f"label selector {text!r}: {clause.strip()!r} lists no values")
            requirements.append(Requirement(match["skey"], "in" if match["sop"] == "in" else "notin", values))
        elif match["ekey"]:
            op: Literal["=", "!="] = "!=" if match["eop"] == "!=" else "="
            requirements.append(Requirement(match["ekey"], op, (match["value"],)))
        else:
            requirements.append(Requirement(match["xkey"], "exists"))
    return tuple(requirements)


def selector_matches(requirements: tuple[Requirement, ...], labels: Mapping[str, str] | None) -> bool:
    """True when every clause matches (an empty selector matches everything)."""
    labels = labels or {}
    return all(req.matches(labels) for req in requirements)


# -- ParamedicWatch ----------------------------------------------------------------------------


class TargetRef(BaseModel):
    """`spec.targetRef` of a ParamedicWatch."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    kind: str = "Deployment"
    name: str = Field(min_length=1, max_length=253)
    namespace: str | None = None
    api_version: str | None = Field(default=None, alias="apiVersion")


class WatchLLM(BaseModel):
    """`spec.llm`: which reasoner this target wants."""

    model_config = ConfigDict(extra="ignore")

    provider: Literal["rules", "openai", "ollama", "hybrid"] | None = None
    model: str | None = None


class WatchSpec(BaseModel):
    """`spec` of a ParamedicWatch (paramedic.dev/v1alpha1)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    target_ref: TargetRef = Field(alias="targetRef")
    mode: Literal["report", "approve", "autonomous"] | None = None
    llm: WatchLLM | None = None
    git_repo: str | None = Field(default=None, alias="gitRepo")
    restart_threshold: int | None = Field(default=None, ge=1, alias="restartThreshold")
    thresholds: Thresholds | None = None


@dataclass(frozen=True)
class WatchTarget:
    """A ParamedicWatch resolved: which object declares it, which workload it targets, its overrides."""

    watch_namespace: str
    watch_name: str
    target: WorkloadRef
    spec: WatchSpec

    @property
    def watch_key(self) -> str:
        """`namespace/name` of the ParamedicWatch object."""
        return f"{self.watch_namespace}/{self.watch_name}"

    def labels(self) -> dict[str, str]:
        """What incidents for this target carry, so the graph can honour the overrides."""
        out = {WATCH_LABEL: self.watch_key}
        spec = self.spec
        if spec.mode:
            out[MODE_LABEL] = spec.mode
        if spec.llm and spec.llm.provider:
            out[LLM_PROVIDER_LABEL] = spec.llm.provider
        if spec.llm and spec.llm.model:
            out[LLM_MODEL_LABEL] = spec.llm.model
        if spec.git_repo:
            out[GIT_REPO_LABEL] = spec.git_repo
        if spec.thresholds:
            out[ACT_LABEL] = str(spec.thresholds.act)
            out[ASK_LABEL] = str(spec.thresholds.ask)
        return out


def parse_watch(obj: Mapping[str, Any]) -> WatchTarget:
    """A ParamedicWatch object as a `WatchTarget`; ValueError with the field names when it is invalid."""
    metadata = meta if isinstance(meta := obj.get("metadata"), Mapping) else {}
    namespace, name = metadata.get("namespace"), metadata.get("name")
    if not isinstance(namespace, str) or not namespace or not isinstance(name, str) or not name:
        raise ValueError("ParamedicWatch without metadata.namespace/name")
    try:
        spec = WatchSpec.model_validate(obj.get("spec") or {})
    except ValidationError as exc:
        problems = "; ".join(
            f"spec.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ValueError(f"ParamedicWatch {namespace}/{name}: {problems}") from None
    ref = spec.target_ref
    target = WorkloadRef(namespace=ref.namespace or namespace, kind=ref.kind, name=ref.name)
    return WatchTarget(namespace, name, target, spec)


# -- the scope ---------------------------------------------------------------------------------


def _key(ref: WorkloadRef) -> tuple[str, str, str]:
    return ref.namespace, ref.kind.lower(), ref.name


class Scope:
    """Decides which namespaces and workloads are watched, and which ParamedicWatch covers a workload."""

    def __init__(self, settings: ScopeSettings | None = None) -> None:
        self.settings = settings or ScopeSettings()
        self._selector = (
            parse_selector(self.settings.namespace_selector) if self.settings.namespace_selector else None
        )
        self._namespace_labels: dict[str, dict[str, str]] = {}
        self._targets: dict[tuple[str, str, str], WatchTarget] = {}
        self._watches: dict[str, tuple[str, str, str]] = {}  # watch key -> target key
        self._lock = threading.Lock()

    @property
    def needs_namespace_labels(self) -> bool:
        """True when a namespace selector is set, so namespace objects must be watched."""
        return self._selector is not None

    @property
    def watched_namespaces(self) -> tuple[str, ...]:
        """The namespaces to stream from one by one; empty means the whole cluster."""
        return tuple(self.settings.namespaces)

    # namespaces

    def set_namespace(self, name: str, labels: Mapping[str, str] | None) -> None:
        """Record a namespace's labels (from the namespaces stream)."""
        with self._lock:
            self._namespace_labels[name] = dict(labels or {})

    def drop_namespace(self, name: str) -> None:
        """Forget a deleted namespace."""
        with self._lock:
            self._namespace_labels.pop(name, None)

    def _namespace_excluded(self, namespace: str) -> bool:
        return any(fnmatch.fnmatchcase(namespace, pattern) for pattern in self.settings.exclude_namespaces)

    def namespace_in_scope(self, namespace: str) -> bool:
        """Configured list, selector and exclusions (ParamedicWatch targets aside)."""
        if not namespace or self._namespace_excluded(namespace):
            return False
        if self.settings.namespaces and namespace not in self.settings.namespaces:
            return False
        if self._selector is not None:
            with self._lock:
                labels = self._namespace_labels.get(namespace)
            return labels is not None and selector_matches(self._selector, labels)
        return True

    def namespace_relevant(self, namespace: str) -> bool:
        """Whether anything in the namespace may be in scope: cheap filter before owner resolution."""
        if self.namespace_in_scope(namespace):
            return True
        with self._lock:
            return any(key[0] == namespace for key in self._targets)

    # workloads

    def workload_excluded(self, ref: WorkloadRef) -> bool:
        """Matches an `exclude_workloads` glob on `namespace/kind/name` (kind in any case, or `deploy`)."""
        names = {
            f"{ref.namespace}/{ref.kind}/{ref.name}",
            f"{ref.namespace}/{ref.kind.lower()}/{ref.name}",
            str(ref),
        }
        if ref.kind == "Deployment":
            names.add(f"{ref.namespace}/deploy/{ref.name}")
        return any(fnmatch.fnmatchcase(n, p) for p in self.settings.exclude_workloads for n in names)

    def in_scope(self, ref: WorkloadRef) -> bool:
        """Exclusions always win; a ParamedicWatch target is watched even outside the namespace scope."""
        if self.workload_excluded(ref):
            return False
        if self.target_of(ref) is not None:
            return True
        return self.namespace_in_scope(ref.namespace)

    # ParamedicWatch targets

    def set_watch(self, target: WatchTarget) -> None:
        """Add or replace a ParamedicWatch (its target may have changed)."""
        with self._lock:
            old = self._watches.pop(target.watch_key, None)
            if old is not None:
                self._targets.pop(old, None)
            self._watches[target.watch_key] = _key(target.target)
            self._targets[_key(target.target)] = target

    def drop_watch(self, watch_namespace: str, watch_name: str) -> WatchTarget | None:
        """Remove a deleted ParamedicWatch; returns what it targeted."""
        with self._lock:
            key = self._watches.pop(f"{watch_namespace}/{watch_name}", None)
            return self._targets.pop(key, None) if key is not None else None

    def target_of(self, ref: WorkloadRef) -> WatchTarget | None:
        """The ParamedicWatch covering this workload, if any."""
        with self._lock:
            return self._targets.get(_key(ref))

    def targets(self) -> list[WatchTarget]:
        """Every known ParamedicWatch target."""
        with self._lock:
            return list(self._targets.values())

    def restart_threshold(self, ref: WorkloadRef) -> int:
        """The workload's ParamedicWatch `restartThreshold`, else the configured one."""
        target = self.target_of(ref)
        if target is not None and target.spec.restart_threshold is not None:
            return target.spec.restart_threshold
        return self.settings.restart_threshold
