"""Image references as container runtimes parse them (the distribution/reference grammar).

`nginx` means `docker.io/library/nginx:latest`; a first path component with a dot or a colon, or
`localhost`, is a registry host; the repository path must be lowercase; a tag is at most 128
word characters, dots and dashes; a digest is `sha256:` + 64 hex digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DOCKER_HUB = "docker.io"
_HUB_ALIASES = ("docker.io", "index.docker.io", "registry-1.docker.io")
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_PATH = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
_HOST = re.compile(r"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9-]+)*(?::[0-9]+)?$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


class InvalidReference(ValueError):
    """The reference does not parse: the kubelet reports InvalidImageName."""


@dataclass(frozen=True)
class ImageReference:
    """A parsed, normalised image reference."""

    host: str  # docker.io, ghcr.io, registry.k8s.io, localhost:5000 ...
    path: str  # library/nginx, bitnami/redis, paramedic-demo/web-api
    tag: str  # "latest" when neither tag nor digest was given
    digest: str | None = None
    explicit_tag: bool = True

    @property
    def repository(self) -> str:
        """`host/path` (`docker.io/library/nginx`)."""
        return f"{self.host}/{self.path}"

    @property
    def short_repository(self) -> str:
        """The repository the way people write it (`nginx`, `bitnami/redis`, `ghcr.io/org/app`)."""
        if self.host == DOCKER_HUB:
            return self.path.removeprefix("library/")
        return self.repository

    @property
    def canonical(self) -> str:
        """What containerd reports: `docker.io/library/nginx:1.25` or `...@sha256:...`."""
        if self.digest and not self.explicit_tag:
            return f"{self.repository}@{self.digest}"
        if self.digest:
            return f"{self.repository}:{self.tag}@{self.digest}"
        return f"{self.repository}:{self.tag}"


def parse_reference(image: str) -> ImageReference:
    """Parse and normalise `image`; InvalidReference with the runtime's message when it does not parse."""
    text = image.strip()
    if not text:
        raise InvalidReference("invalid reference format")
    rest, digest = text, None
    if "@" in rest:
        rest, digest = rest.split("@", 1)
        if not _DIGEST.match(digest):
            raise InvalidReference("invalid reference format")
    tag = None
    last = rest.rsplit("/", 1)[-1]
    if ":" in last:
        rest, tag = rest.rsplit(":", 1)
        if not _TAG.match(tag):
            raise InvalidReference("invalid reference format")
    host, path = DOCKER_HUB, rest
    first, _, remainder = rest.partition("/")
    if remainder and ("." in first or ":" in first or first == "localhost"):
        if not _HOST.match(first):
            raise InvalidReference("invalid reference format")
        host, path = first.lower(), remainder
    if host in _HUB_ALIASES:
        host = DOCKER_HUB
    if host == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
    if not _PATH.match(path):
        if _PATH.match(path.lower()):
            raise InvalidReference(f"invalid reference format: repository name ({path}) must be lowercase")
        raise InvalidReference("invalid reference format")
    return ImageReference(host, path, tag or "latest", digest, explicit_tag=tag is not None or digest is None)


def kubelet_reference_error(image: str, error: InvalidReference) -> str:
    """The message the kubelet puts on an InvalidImageName container."""
    return f'Failed to apply default image tag "{image}": couldn\'t parse image name "{image}": {error}'
