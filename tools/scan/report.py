"""Running the checks over a snapshot, and the report in machine-readable forms (JSON, SARIF 2.1.0)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, Field

from tools.scan.checks import CHECKS, Check
from tools.scan.finding import Finding, Severity
from tools.scan.snapshot import Snapshot

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}


class ScanReport(BaseModel):
    """Every finding, worst first, and how many objects were looked at."""

    findings: list[Finding] = Field(default_factory=list)
    workloads: int = 0
    checks: list[str] = Field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Findings per severity, every severity named."""
        found = Counter(f.severity.value for f in self.findings)
        return {s.value: found.get(s.value, 0) for s in Severity}

    def at_or_above(self, severity: Severity) -> list[Finding]:
        """The findings as bad as `severity` or worse (what `--fail-on` counts)."""
        return [f for f in self.findings if f.severity.rank >= severity.rank]

    def to_json(self) -> dict[str, Any]:
        """The report as JSON: findings, counts, and what was scanned."""
        return {
            "workloads": self.workloads,
            "checks": self.checks,
            "counts": self.counts(),
            "findings": [f.model_dump(mode="json") for f in self.findings],
        }

    def to_sarif(self, version: str = "0") -> dict[str, Any]:
        """The report as SARIF 2.1.0: one rule per check, one result per finding (logical locations)."""
        titles = {c.id: c.title for c in CHECKS}
        return {
            "$schema": SARIF_SCHEMA,
            "version": "2.1.0",
            "runs": [
                {
                    "tool": {
                        "driver": {
                            "name": "paramedic-scan",
                            "version": version,
                            "rules": [
                                {"id": check, "shortDescription": {"text": titles.get(check, check)}}
                                for check in self.checks
                            ],
                        }
                    },
                    "results": [_sarif_result(f) for f in self.findings],
                }
            ],
        }


def _sarif_result(finding: Finding) -> dict[str, Any]:
    return {
        "ruleId": finding.check,
        "level": _SARIF_LEVEL[finding.severity],
        "message": {"text": finding.message},
        "locations": [
            {
                "logicalLocations": [
                    {"fullyQualifiedName": finding.target, "kind": finding.kind, "name": finding.name}
                ]
            }
        ],
        "properties": {
            "severity": finding.severity.value,
            "container": finding.container,
            "patch": finding.patch,
        },
    }


def run_checks(snapshot: Snapshot, checks: Iterable[Check] = CHECKS) -> ScanReport:
    """Every check over the snapshot; findings worst first, then by object."""
    chosen = list(checks)
    findings = [finding for check in chosen for finding in check.run(snapshot)]
    findings.sort(key=lambda f: (-f.severity.rank, f.namespace, f.kind, f.name, f.check, f.container or ""))
    return ScanReport(findings=findings, workloads=len(snapshot.workloads), checks=[c.id for c in chosen])
