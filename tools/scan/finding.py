"""A scan finding: one risk on one object, how bad it is, and the change that removes it."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from tools.boundary import redact_text
from tools.scan.objects import name_of, namespace_of


class Severity(StrEnum):
    """How soon a finding is likely to page someone, lowest first."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 for info up to 4 for critical: for sorting and `--fail-on`."""
        return list(Severity).index(self)


class Finding(BaseModel):
    """One risk a read-only check found."""

    model_config = ConfigDict(frozen=True)

    check: str = Field(description="The check's id, e.g. 'no-memory-limit'.")
    severity: Severity
    namespace: str
    kind: str
    name: str
    container: str | None = None
    message: str
    patch: str | None = Field(
        default=None,
        description="A suggested fix as YAML: a strategic-merge patch of the object, or a manifest.",
    )

    @field_validator("message", "patch")
    @classmethod
    def _redacted(cls, value: str | None) -> str | None:
        # The scan reads the cluster itself, and a message or a patch may quote what it read: both
        # leave the tools layer (CLI, API, dashboard), so both pass the redaction boundary here,
        # where every check's finding is made.
        return redact_text(value) if value is not None else None

    @property
    def target(self) -> str:
        """`namespace/kind/name`."""
        return f"{self.namespace}/{self.kind.lower()}/{self.name}"


def as_yaml(patch: dict[str, Any]) -> str:
    """A patch as the YAML a finding suggests."""
    # libyaml's dumper when present: the pure-Python one costs milliseconds a patch.
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return str(yaml.dump(patch, Dumper=dumper, sort_keys=False, default_flow_style=False))


def container_patch(container: str, fields: dict[str, Any]) -> dict[str, Any]:
    """A strategic-merge patch of one container of a workload's pod template."""
    return {"spec": {"template": {"spec": {"containers": [{"name": container, **fields}]}}}}


def container_finding(
    check: str,
    severity: Severity,
    workload: Mapping[str, Any],
    container: str,
    message: str,
    fields: dict[str, Any],
) -> Finding:
    """A finding on one container of a workload; its patch sets `fields` on that container."""
    return Finding(
        check=check,
        severity=severity,
        namespace=namespace_of(workload),
        kind=str(workload.get("kind")),
        name=name_of(workload),
        container=container,
        message=message,
        patch=as_yaml(container_patch(container, fields)),
    )
