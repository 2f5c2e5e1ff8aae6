"""Image behaviour profiles: what the programs in well-known images do (see `model.Profile`).

`profile(name)` returns a registered profile; importing this package registers them all.
`launch` (in `sandbox.profiles.launch`) starts a container's program from its profile.
"""

from sandbox.profiles import (  # noqa: F401 - each module registers its profiles
    apps,
    bitnami,
    databases,
    nginx,
    platform,
    runtimes,
    services,
    webservers,
)
from sandbox.profiles.model import PROFILES, Profile, register_facts

register_facts()  # the profiles that add no programs


def profile(name: str) -> Profile:
    """The profile `name` (the `unknown` fallback for names not registered)."""
    return PROFILES.get(name) or PROFILES["unknown"]


__all__ = ["PROFILES", "Profile", "profile"]
