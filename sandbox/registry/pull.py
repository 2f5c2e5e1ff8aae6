"""Resolving an image reference like a registry would: found, or refused with the registry's words.

`ImageRegistry.resolve` answers for public images from the shipped catalogue (repository and
tag grammar), for typos of known repositories and closed namespaces (no such repository), and
for unknown hosts per `RegistrySettings`. The messages are containerd's, as the kubelet shows
them in `Failed to pull image ...` events.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from sandbox.registry.catalog import RegistryCatalog
from sandbox.registry.reference import ImageReference
from sandbox.registry.settings import RegistrySettings


@dataclass(frozen=True)
class Found:
    """The registry has the image."""

    ref: ImageReference
    profile: str
    base: str
    variant: str = ""
    version: str = ""
    known: bool = True  # False: an unknown repository assumed to exist (its behaviour is not modelled)


@dataclass(frozen=True)
class Refused:
    """The pull fails: the gRPC code and containerd's description after `failed to resolve reference`."""

    ref: ImageReference
    code: str  # NotFound | Unknown
    detail: str

    def message(self, image: str) -> str:
        """The kubelet's `Failed to pull image` message."""
        c = self.ref.canonical
        return (
            f'Failed to pull image "{image}": rpc error: code = {self.code} desc = failed to pull and '
            f'unpack image "{c}": failed to resolve reference "{c}": {self.detail}'
        )


Resolution = Found | Refused


def _manifest_url(ref: ImageReference) -> str:
    return f"https://{ref.host}/v2/{ref.path}/manifests/{ref.digest or ref.tag}"


def not_found(ref: ImageReference) -> Refused:
    """The repository exists, the tag (or digest) does not."""
    return Refused(ref, "NotFound", f"{ref.canonical}: not found")


def missing_repository(ref: ImageReference, style: str) -> Refused:
    """What `ref.host` answers for a repository it does not have."""
    if style == "insufficient_scope":
        return Refused(
            ref,
            "Unknown",
            "pull access denied, repository does not exist or may require authorization: server message: "
            "insufficient_scope: authorization failed",
        )
    if style == "ghcr_token":
        scope = quote(f"repository:{ref.path}:pull", safe="")
        return Refused(
            ref,
            "Unknown",
            "failed to authorize: failed to fetch anonymous token: unexpected status from GET request to "
            f"https://{ref.host}/token?scope={scope}&service={ref.host}: 401 Unauthorized",
        )
    if style == "quay_unauthorized":
        return Refused(
            ref, "Unknown", f"unexpected status from HEAD request to {_manifest_url(ref)}: 401 UNAUTHORIZED"
        )
    return not_found(ref)


def unreachable(ref: ImageReference) -> Refused:
    """A registry host that does not resolve."""
    name = ref.host.split(":")[0]
    return Refused(
        ref,
        "Unknown",
        f'failed to do request: Head "{_manifest_url(ref)}": dial tcp: lookup {name} on 127.0.0.53:53: '
        "no such host",
    )


def unauthorized(ref: ImageReference) -> Refused:
    """A private registry without credentials."""
    return Refused(
        ref, "Unknown", f"unexpected status from HEAD request to {_manifest_url(ref)}: 401 Unauthorized"
    )


class ImageRegistry:
    """Every registry the sandbox's nodes pull from."""

    def __init__(
        self, catalog: RegistryCatalog | None = None, settings: RegistrySettings | None = None
    ) -> None:
        self.catalog = catalog or RegistryCatalog.shipped()
        self.settings = settings or RegistrySettings()

    def tags(self, ref: ImageReference) -> list[str]:
        """Representative existing tags of a known repository (empty when unknown)."""
        repo = self.catalog.get(ref)
        return repo.entry.listed() if repo is not None and not repo.entry.any_tag else []

    def resolve(self, ref: ImageReference, credentials: frozenset[str] = frozenset()) -> Resolution:
        """Whether the image exists; `credentials` are the registry hosts the pod has pull secrets for."""
        repo = self.catalog.get(ref)
        if repo is not None:
            if ref.digest and not ref.explicit_tag:
                return Found(ref, repo.entry.profile, repo.entry.base)
            match = repo.entry.match(ref.tag)
            if match is None:
                return not_found(ref)
            return Found(
                ref,
                match.profile or repo.entry.profile,
                match.base or repo.entry.base,
                match.variant,
                repo.entry.full_version(match),
            )
        style = self.catalog.missing_style(ref.host)
        if style is not None:  # a public registry we know
            if self.catalog.closed(ref) or self.catalog.resembles(ref):
                return missing_repository(ref, style)
            return Found(ref, "unknown", "unknown", known=False)
        mode = self.settings.mode(ref.host)
        if mode == "unreachable":
            return unreachable(ref)
        if mode == "auth-required" and ref.host not in credentials:
            return unauthorized(ref)
        return Found(ref, "unknown", "unknown", known=False)
