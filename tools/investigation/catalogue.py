"""How an investigation tool is declared: its name, the backend it reads, its arguments and its body.

Every tool is a read. Its arguments are a pydantic model (unknown fields refused, bounds checked),
whose docstring is the description the model sees; its body gets the `Backends` and the validated
arguments, returns JSON-shaped data and raises `ToolFailure` for an expected failure. Redaction,
scope checks, size caps and error handling are not the body's job: `toolset.InvestigationTools.call`
does them for every tool in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

from tools.gitops.base import GitOpsRepo
from tools.investigation.scope import NamespaceScope
from tools.kubernetes import KubeClient
from tools.prometheus import PrometheusClient
from tools.result import ToolFailure, ToolResult, ToolStatus

Backend = Literal["kubernetes", "prometheus", "git"]
T = TypeVar("T")


@dataclass(frozen=True)
class Limits:
    """Caps on what one tool call returns (the model's context is the scarce resource)."""

    max_result_chars: int = 4_000  # the JSON text of one result (~1k tokens), after every other cap
    default_tail_lines: int = 80
    max_tail_lines: int = 300
    max_log_chars: int = 4_000
    max_events: int = 25
    max_pods: int = 20
    max_series: int = 20
    max_points: int = 60
    max_alerts: int = 30
    max_commits: int = 10
    max_diff_chars: int = 4_000
    max_pulls: int = 20

    def __post_init__(self) -> None:
        if min(vars(self).values()) < 1:
            raise ValueError("every investigation limit must be at least 1")


@dataclass(frozen=True)
class Backends:
    """What the tools read: the cluster, Prometheus and Git (each may be absent), the scope and the clock."""

    kube: KubeClient | None
    prometheus: PrometheusClient | None
    repo: GitOpsRepo | None
    scope: NamespaceScope
    clock: Callable[[], datetime]
    limits: Limits = Limits()

    def has(self, backend: Backend) -> bool:
        """Whether `backend` is configured."""
        if backend == "kubernetes":
            return self.kube is not None
        if backend == "prometheus":
            return self.prometheus is not None and self.prometheus.configured
        return self.repo is not None

    def cluster(self) -> KubeClient:
        """The Kubernetes client (the toolset checks `has` first)."""
        if self.kube is None:
            raise ToolFailure("no Kubernetes cluster is configured", ToolStatus.UNAVAILABLE)
        return self.kube

    def metrics(self) -> PrometheusClient:
        """The Prometheus client."""
        if self.prometheus is None or not self.prometheus.configured:
            raise ToolFailure("Prometheus is not configured", ToolStatus.UNAVAILABLE)
        return self.prometheus

    def git(self) -> GitOpsRepo:
        """The GitOps repository."""
        if self.repo is None:
            raise ToolFailure("no GitOps repository is configured", ToolStatus.UNAVAILABLE)
        return self.repo


class ToolArgs(BaseModel):
    """Arguments of a tool: unknown fields are refused so a typo is an error, not a silent default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def namespaces(self) -> list[str]:
        """The namespaces this call reads (checked against the scope before it runs)."""
        namespace = getattr(self, "namespace", None)
        return [namespace] if isinstance(namespace, str) else []


@dataclass(frozen=True)
class ToolSpec:
    """One read-only tool."""

    name: str
    backend: Backend
    args: type[ToolArgs]
    run: Callable[[Backends, Any], Any]

    def description(self) -> str:
        """What the model is told the tool does (the arguments model's docstring)."""
        return " ".join((self.args.__doc__ or self.name).split())

    def function_spec(self) -> dict[str, Any]:
        """The OpenAI-style function spec (`bind_tools` accepts it for OpenAI and Ollama alike).

        Slimmed for the prompt: the arguments are validated here anyway, so the model is shown only
        names, types, enums, defaults, bounds and descriptions (no titles, patterns or lengths)."""
        schema = self.args.model_json_schema()
        properties = {name: _slim(prop) for name, prop in (schema.get("properties") or {}).items()}
        parameters: dict[str, Any] = {"type": "object", "properties": properties}
        if schema.get("required"):
            parameters["required"] = schema["required"]
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description(), "parameters": parameters},
        }


_KEPT = ("type", "enum", "default", "description", "minimum", "maximum", "items")


def _slim(prop: dict[str, Any]) -> dict[str, Any]:
    """A property schema without what only validation needs; `X | None` shown as plain X."""
    options = [o for o in prop.get("anyOf") or [] if o.get("type") != "null"]
    base = {**options[0], **{k: v for k, v in prop.items() if k != "anyOf"}} if len(options) == 1 else prop
    slim = {k: v for k, v in base.items() if k in _KEPT}
    if slim.get("default", 0) is None:
        del slim["default"]
    return slim


def unwrap(result: ToolResult[T]) -> T:
    """The data of a successful tools-layer result; its failure, with its status, otherwise."""
    if not result.ok or result.data is None:
        raise ToolFailure(result.error or f"{result.tool} returned nothing", result.status)
    return result.data
