"""The root-cause taxonomy: one category per kind of fault the sandbox can inject.

Reasoners answer with one of these (plus their own `unknown`); the values are stable strings
because they are stored in eval datasets and run records.
"""

from __future__ import annotations

from enum import StrEnum


class FaultCategory(StrEnum):
    """Root-cause categories of the fault catalogue."""

    OOM = "oom"
    BAD_IMAGE = "bad_image"
    MISSING_ENV = "missing_env"
    MISSING_CONFIG_KEY = "missing_config_key"
    MISSING_SECRET = "missing_secret"
    BAD_COMMAND = "bad_command"
    READINESS_PROBE = "readiness_probe"
    LIVENESS_PROBE = "liveness_probe"
    UNSCHEDULABLE = "unschedulable"
    DEPENDENCY_DOWN = "dependency_down"
    BAD_CONFIG_VALUE = "bad_config_value"
    SCALED_TO_ZERO = "scaled_to_zero"
    NODE_PRESSURE = "node_pressure"


CATEGORIES: tuple[str, ...] = tuple(c.value for c in FaultCategory)
