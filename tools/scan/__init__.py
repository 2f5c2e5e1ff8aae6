"""The proactive scan: read-only checks over the cluster that find the risks before they page.

snapshot = read_snapshot(kube, namespaces)      one list call per kind and namespace
report = run_checks(snapshot)                   every check in tools/scan/checks, worst first
report.to_json() / report.to_sarif()            machine-readable forms; `at_or_above` for CI gates
"""

from tools.scan.checks import CHECKS, Check
from tools.scan.finding import Finding, Severity
from tools.scan.report import ScanReport, run_checks
from tools.scan.snapshot import Recurring, Snapshot, read_snapshot, scanned_namespaces

__all__ = [
    "CHECKS",
    "Check",
    "Finding",
    "Recurring",
    "ScanReport",
    "Severity",
    "Snapshot",
    "read_snapshot",
    "run_checks",
    "scanned_namespaces",
]
