"""Optional one-liners for summaries: a small fixed set per category, chosen deterministically.

A quip is garnish: it is shown next to the facts, never instead of them.
"""

from __future__ import annotations

import hashlib

from agent.domain import RootCause

QUIPS: dict[RootCause, tuple[str, ...]] = {
    RootCause.OOM: ("It ate all the memory and asked for seconds.", "Too much data, too little RAM."),
    RootCause.BAD_IMAGE: ("That tag exists only in someone's imagination.", "Pulling hard; nothing there."),
    RootCause.MISSING_ENV: ("It went looking for a variable that never showed up.",),
    RootCause.MISSING_CONFIG_KEY: ("The ConfigMap forgot a key; the pod did not.",),
    RootCause.MISSING_SECRET: ("It asked for a secret nobody had told it.",),
    RootCause.BAD_COMMAND: ("It was told to run something that isn't there.",),
    RootCause.READINESS_PROBE: ("Healthy inside, knocking on the wrong door.",),
    RootCause.LIVENESS_PROBE: ("Declared dead by a probe that checks the wrong pulse.",),
    RootCause.UNSCHEDULABLE: ("It asked for a bigger room than the building has.",),
    RootCause.DEPENDENCY_DOWN: ("Not its fault: the friend it calls is not picking up.",),
    RootCause.BAD_CONFIG_VALUE: ("Right key, wrong value.",),
    RootCause.SCALED_TO_ZERO: ("Zero replicas: very quiet, very unavailable.",),
    RootCause.NODE_PRESSURE: ("The node is crowded and somebody had to leave.",),
    RootCause.UNKNOWN: ("A mystery; humans have been paged.",),
}


def quip_for(category: RootCause, seed: str) -> str:
    """A quip for the category, the same one for the same seed (e.g. an incident fingerprint)."""
    options = QUIPS[category]
    index = int(hashlib.sha256(seed.encode()).hexdigest(), 16) % len(options)
    return options[index]
