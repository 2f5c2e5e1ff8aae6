"""Wilson score intervals for the report's rates: how sure a rate measured on a few scenarios is.

A rate of 19/26 is 73 %, but with 26 trials the true rate could be anywhere from about 54 % to
86 %; the Wilson interval says so, and unlike the normal approximation it stays inside [0, 1]
and is sensible at 0/n and n/n.
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict

Z95 = 1.959963984540054  # the standard normal's 97.5th percentile


class Interval(BaseModel):
    """`successes` of `trials`, and the Wilson 95 % interval around their ratio (None with no trial)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    successes: int
    trials: int
    low: float | None
    high: float | None

    @property
    def rate(self) -> float | None:
        """successes / trials."""
        return self.successes / self.trials if self.trials else None


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of `successes` out of `trials`; None when there are no trials."""
    if trials < 0 or not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials, got {successes}/{trials}")
    if trials == 0:
        return None
    p = successes / trials
    z2 = z * z
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / (1 + z2 / trials)
    # Clamp the float noise at the ends (0/n must give exactly 0 as its lower bound).
    return max(0.0, centre - half) if successes else 0.0, min(
        1.0, centre + half
    ) if successes < trials else 1.0


def interval(successes: int, trials: int) -> Interval:
    """`successes`/`trials` with its Wilson 95 % interval."""
    bounds = wilson(successes, trials)
    return Interval(
        successes=successes,
        trials=trials,
        low=bounds[0] if bounds else None,
        high=bounds[1] if bounds else None,
    )
