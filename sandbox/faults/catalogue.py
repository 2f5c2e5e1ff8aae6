"""The fault catalogue: every injectable fault type, one module per cause, listed in one place.

A new cause is a module `faults/<cause>.py` exporting `FAULT` (a `FaultType` whose name is its
`FaultCategory` value) and a line here.
"""

from __future__ import annotations

from sandbox.faults import (
    bad_command,
    bad_config_value,
    bad_image,
    dependency_down,
    liveness_probe,
    missing_config_key,
    missing_env,
    node_pressure,
    oom,
    readiness_probe,
    scaled_to_zero,
    unschedulable,
)
from sandbox.faults.context import FaultType

FAULT_TYPES: dict[str, FaultType] = {
    m.FAULT.name: m.FAULT
    for m in (
        oom,
        bad_image,
        missing_env,
        missing_config_key,
        bad_command,
        readiness_probe,
        liveness_probe,
        unschedulable,
        dependency_down,
        bad_config_value,
        scaled_to_zero,
        node_pressure,
    )
}


def fault_type(name: str) -> FaultType:
    """A fault type by name; ValueError listing the known ones."""
    try:
        return FAULT_TYPES[name]
    except KeyError:
        raise ValueError(f"unknown fault type {name!r}; known: {', '.join(sorted(FAULT_TYPES))}") from None
