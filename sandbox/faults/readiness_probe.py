"""A readiness probe on a path the program does not serve -> Running, never Ready."""

from __future__ import annotations

from sandbox.faults.context import FaultContext, FaultPlan, FaultType
from sandbox.faults.probes import probe_fault
from sandbox.faults.taxonomy import FaultCategory


def build(ctx: FaultContext) -> FaultPlan:
    """Readiness probe on a path the program does not serve -> Running, never Ready."""
    return probe_fault(ctx, "readiness")


FAULT = FaultType(
    "readiness_probe", FaultCategory.READINESS_PROBE, "readiness probe on an unserved path", "git", build
)
