"""How the sandbox's registries treat hosts the data files do not describe (private registries).

Default: an image on an unknown registry exists and runs its command. `unreachable` makes such
pulls fail like a host that does not resolve, `auth-required` like a registry answering 401
(unless the pod has an image pull secret for that host). Per-host overrides in `hosts`.
Environment: `PARAMEDIC_SANDBOX_REGISTRY_UNKNOWN=unreachable`,
`PARAMEDIC_SANDBOX_REGISTRY_HOSTS='{"registry.corp.example": "auth-required"}'`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

UnknownRegistry = Literal["exists", "unreachable", "auth-required"]


class RegistrySettings(BaseSettings):
    """The sandbox registry's answer for private / unknown registries."""

    model_config = SettingsConfigDict(env_prefix="PARAMEDIC_SANDBOX_REGISTRY_", extra="ignore")

    unknown: UnknownRegistry = "exists"
    hosts: dict[str, UnknownRegistry] = Field(default_factory=dict)

    def mode(self, host: str) -> UnknownRegistry:
        """What pulling from `host` (not a registry the data describes) does."""
        return self.hosts.get(host, self.unknown)
