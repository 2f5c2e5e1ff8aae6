"""The rules, in order: one per fault cause, each in the module named after its `RootCause`.

This tuple is the one registry: to add a fault cause, write `rules/<cause>.py` and list its rule
here. Order matters only for ties: the most confident finding wins, and of equals the one listed
first.
"""

from __future__ import annotations

from agent.reasoners.rules.bad_command import bad_command
from agent.reasoners.rules.bad_config_value import bad_config_value
from agent.reasoners.rules.bad_image import bad_image
from agent.reasoners.rules.context import Rule
from agent.reasoners.rules.crash_loop import crash_loop
from agent.reasoners.rules.dependency_down import dependency_down
from agent.reasoners.rules.liveness_probe import liveness_probe
from agent.reasoners.rules.missing_config_key import missing_config_key
from agent.reasoners.rules.missing_env import missing_env
from agent.reasoners.rules.missing_secret import missing_secret
from agent.reasoners.rules.node_pressure import node_pressure
from agent.reasoners.rules.oom import oom
from agent.reasoners.rules.readiness_probe import readiness_probe
from agent.reasoners.rules.scaled_to_zero import scaled_to_zero
from agent.reasoners.rules.unschedulable import unschedulable

CATALOGUE: tuple[Rule, ...] = (
    oom,
    bad_image,
    missing_config_key,
    missing_secret,
    missing_env,
    bad_command,
    readiness_probe,
    liveness_probe,
    unschedulable,
    dependency_down,
    bad_config_value,
    scaled_to_zero,
    node_pressure,
    crash_loop,  # the generic fallback: category unknown, low confidence
)

# What a Service (a run followed its consumers to it) is judged by: it has no containers, logs or
# revisions, so the workload rules have nothing to read and only the dependency's rule applies.
SERVICE_CATALOGUE: tuple[Rule, ...] = (dependency_down,)
