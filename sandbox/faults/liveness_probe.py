"""A liveness probe on a path the program does not serve -> killed and restarted."""

from __future__ import annotations

from sandbox.faults.context import FaultContext, FaultPlan, FaultType
from sandbox.faults.probes import probe_fault
from sandbox.faults.taxonomy import FaultCategory


def build(ctx: FaultContext) -> FaultPlan:
    """Liveness probe on a path the program does not serve -> killed and restarted."""
    return probe_fault(ctx, "liveness")


FAULT = FaultType(
    "liveness_probe", FaultCategory.LIVENESS_PROBE, "liveness probe on an unserved path", "git", build
)
