"""The read-only investigation toolset and its single exit point, `InvestigationTools.call`.

Whatever a model asks for goes through `call`: an unknown name, arguments that are not a JSON
object or do not validate, a namespace outside the scope, a backend that is not configured, a
failing read — each comes back as an error result the model can read, never as an exception.
Every result, error messages included, is redacted (`tools.redaction`: markers already in place
are left alone) and capped before anyone sees it. There is no write tool to ask for: the
catalogue holds reads only, and `call` knows nothing else.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from tools.gitops.base import GitOpsRepo
from tools.investigation import git_tools, kube_activity, kube_objects, prom_tools
from tools.investigation.catalogue import Backends, Limits, ToolSpec
from tools.investigation.outcome import ToolOutcome, cap_text, compact_json
from tools.investigation.scope import NamespaceScope
from tools.kubernetes import KubeClient
from tools.prometheus import PrometheusClient
from tools.redaction import redact, redact_data
from tools.result import ToolFailure, ToolStatus

CATALOGUE: tuple[ToolSpec, ...] = (
    *kube_objects.TOOLS,
    *kube_activity.TOOLS,
    *prom_tools.TOOLS,
    *git_tools.TOOLS,
)
# Words no read-only tool is named after: a guard against a write tool ever joining the catalogue.
WRITE_WORDS = ("delete", "patch", "apply", "create", "update", "scale", "restart", "rollback", "undo",
               "merge", "exec", "write", "edit", "set", "replace", "evict", "drain", "cordon")  # fmt: skip


def _read_only(specs: Iterable[ToolSpec]) -> dict[str, ToolSpec]:
    by_name: dict[str, ToolSpec] = {}
    for spec in specs:
        words = set(spec.name.split("_"))
        if words & set(WRITE_WORDS):
            raise ValueError(f"{spec.name} is named like a write; the investigation tools only read")
        if spec.name in by_name:
            raise ValueError(f"two investigation tools are named {spec.name}")
        by_name[spec.name] = spec
    return by_name


def _problems(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or '(arguments)'}: {e['msg']}" for e in exc.errors())


def _summary(content: Any) -> str:
    """A short description of a result for the trace: list sizes and short scalars."""
    if not isinstance(content, Mapping):
        return f"{len(compact_json(content))} chars"
    parts = []
    for key, value in content.items():
        if isinstance(value, list):
            parts.append(f"{key}: {len(value)}")
        elif isinstance(value, bool | int | float) or (isinstance(value, str) and len(value) <= 40):
            parts.append(f"{key}={value}")
    return ", ".join(parts)[:200] or "ok"


class InvestigationTools:
    """The read-only tools over one cluster, Prometheus and Git, bound to a scope."""

    def __init__(self, backends: Backends, specs: Iterable[ToolSpec] = CATALOGUE) -> None:
        self._backends = backends
        self._specs = _read_only(specs)

    @classmethod
    def create(
        cls,
        *,
        kube: KubeClient | None = None,
        prometheus: PrometheusClient | None = None,
        repo: GitOpsRepo | None = None,
        scope: NamespaceScope | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        limits: Limits | None = None,
    ) -> InvestigationTools:
        """The toolset over whichever backends are given (the others' tools are not offered)."""
        backends = Backends(kube, prometheus, repo, scope or NamespaceScope(), clock, limits or Limits())
        return cls(backends)

    @property
    def limits(self) -> Limits:
        """The caps on every result."""
        return self._backends.limits

    def offered(self) -> list[ToolSpec]:
        """The tools whose backend is configured, in catalogue order."""
        return [spec for spec in self._specs.values() if self._backends.has(spec.backend)]

    def names(self) -> list[str]:
        """The names of the offered tools."""
        return [spec.name for spec in self.offered()]

    def function_specs(self) -> list[dict[str, Any]]:
        """OpenAI-style function specs of the offered tools (what `bind_tools` gets)."""
        return [spec.function_spec() for spec in self.offered()]

    def call(self, name: str, arguments: Any) -> ToolOutcome:
        """Run tool `name` with `arguments`; every failure is an error outcome, every result redacted."""
        started = time.monotonic()
        args_seen = dict(arguments) if isinstance(arguments, Mapping) else {"(raw)": str(arguments)[:500]}
        args_seen = redact_data(args_seen)

        def failed(status: ToolStatus, message: str) -> ToolOutcome:
            elapsed = round((time.monotonic() - started) * 1000, 1)
            return ToolOutcome.failed(name, args_seen, status, redact(message), elapsed)

        spec = self._specs.get(name)
        if spec is None or not self._backends.has(spec.backend):
            known = ", ".join(self.names())
            if spec is None:
                return failed(ToolStatus.ERROR, f"unknown tool {name!r}; the tools are: {known}")
            return failed(ToolStatus.UNAVAILABLE, f"{name} is not available: no {spec.backend} is configured")
        if not isinstance(arguments, Mapping):
            return failed(ToolStatus.ERROR, f"the arguments of {name} must be a JSON object")
        try:
            args = spec.args.model_validate(dict(arguments))
            for namespace in args.namespaces():
                self._backends.scope.check(namespace)
            content = spec.run(self._backends, args)
        except ValidationError as exc:
            return failed(ToolStatus.ERROR, f"invalid arguments for {name}: {_problems(exc)}")
        except ToolFailure as exc:
            return failed(exc.status, str(exc))
        except Exception as exc:  # a bug in a tool body is the model's error to read, not a dead run
            return failed(ToolStatus.ERROR, f"{name} failed: {type(exc).__name__}: {exc}")
        content = redact_data(content)
        text, truncated = cap_text(compact_json(content), self.limits.max_result_chars)
        elapsed = round((time.monotonic() - started) * 1000, 1)
        summary = _summary(content)
        return ToolOutcome(name, args_seen, ToolStatus.OK, content, summary, elapsed, text, truncated)
