"""The sandbox's image catalogue: which images exist and how the programs inside them behave.

A real cluster pulls images from a registry; here an image reference resolves to an
`ImageSpec` that declares what the program needs (memory, env vars and their valid values,
dependencies reached through a URL in an env var) and what it offers (port, health path,
start-up time, binaries). The kubelet simulation asks the catalogue; an unknown repository or
tag is what a registry answers "not found" for (-> ErrImagePull).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sandbox.registry import Found, ImageReference, ImageRegistry, InvalidReference, Refused, parse_reference
from sandbox.registry.pull import missing_repository, not_found
from sandbox.registry.reference import kubelet_reference_error

# A validator returns None for a good value, else the error the program reports for it.
Validator = Callable[[str], str | None]


def int_between(lo: int, hi: int, what: str) -> Validator:
    """A validator for an integer in [lo, hi]."""

    def check(value: str) -> str | None:
        try:
            n = int(value)
        except ValueError:
            return f"ValueError: invalid literal for int() with base 10: {value!r} ({what})"
        if not lo <= n <= hi:
            return f"ValueError: {what} must be between {lo} and {hi}, got {n}"
        return None

    return check


def one_of(*allowed: str, what: str) -> Validator:
    """A validator for a value from a fixed set."""

    def check(value: str) -> str | None:
        if value not in allowed:
            expected = ", ".join(allowed)
            return f"ValueError: unsupported value {value!r} for {what} (expected one of {expected})"
        return None

    return check


def url_with_scheme(*schemes: str) -> Validator:
    """A validator for a connection URL (`postgres://user:pw@host:5432/db`)."""

    def check(value: str) -> str | None:
        parts = urlsplit(value)
        if parts.scheme not in schemes or not parts.hostname:
            return f"ValueError: invalid connection URL {value!r} (expected {schemes[0]}://host:port/...)"
        try:
            _ = parts.port
        except ValueError:
            return f"ValueError: invalid port in {value!r}"
        return None

    return check


@dataclass(frozen=True)
class EnvVar:
    """An environment variable the program reads."""

    name: str
    required: bool = False
    validate: Validator | None = None
    # The value is a URL of a network dependency (a Service the program connects to).
    dependency: bool = False
    default_port: int = 0
    # What a value the validator rejects does: "crash" at start, "degrade" (runs, requests fail), "warn".
    on_invalid: str = "degrade"


@dataclass(frozen=True)
class ImageSpec:
    """How one image (one tag of one repository) behaves when run."""

    repository: str
    tag: str
    style: str  # log style: "uvicorn", "celery", "go-json", "postgres", "redis", "nginx", "shell"
    memory_mib: float  # working set once started
    cpu_millis: int = 20  # typical usage while serving
    memory_growth_mib_per_min: float = 0.0  # a leak, for the images that have one
    memory_per_env: tuple[tuple[str, float], ...] = ()  # extra MiB per unit of an env var's value
    port: int | None = None
    health_path: str | None = None
    http_paths: tuple[str, ...] = ()  # paths answering 200 (the health path is always one)
    startup_seconds: float = 3.0
    env: tuple[EnvVar, ...] = ()
    binaries: frozenset[str] = frozenset({"sh"})
    entrypoint: tuple[str, ...] = ()
    flags: frozenset[str] = frozenset()  # accepted `--flag` args; others -> usage error, exit 2
    request_rate: float = 0.0  # requests/second it serves (0: not an HTTP service)
    error_rate: float = 0.0  # baseline fraction of 5xx
    size_bytes: int = 50_000_000
    # env var -> {value -> error}: values this particular tag does not support.
    unsupported: tuple[tuple[str, str, str], ...] = ()
    # Public images (sandbox.profiles): the behaviour profile, base distro, variant, version and CMD.
    profile: str | None = None
    base: str = ""
    variant: str = ""
    version: str = ""
    cmd: tuple[str, ...] = ()

    @property
    def reference(self) -> str:
        """`repository:tag`."""
        return f"{self.repository}:{self.tag}"

    @property
    def digest(self) -> str:
        """A stable, made-up content digest (what `imageID` shows)."""
        return "sha256:" + hashlib.sha256(self.reference.encode()).hexdigest()

    @property
    def name(self) -> str:
        """The behaviour profile's name (programs read it to adapt, e.g. nginx-unprivileged)."""
        return self.profile or ""

    def serves(self, path: str) -> bool:
        """Whether an HTTP GET of `path` answers 200 once the program is up."""
        if self.style == "nginx":
            return True
        return path == self.health_path or path in self.http_paths


def _family(**base: Any) -> Callable[..., ImageSpec]:
    """The tags of one of the sandbox's own repositories: `base` facts, overridden per tag."""

    def tag(tag: str, **over: Any) -> ImageSpec:
        return ImageSpec(tag=tag, **{**base, **over})

    return tag


def _dependency(name: str, default_port: int, *schemes: str) -> EnvVar:
    """A required URL of a Service the program connects to at start (it crashes on a bad one)."""
    return EnvVar(
        name,
        required=True,
        validate=url_with_scheme(*schemes),
        dependency=True,
        default_port=default_port,
        on_invalid="crash",
    )


_LOG_LEVEL = EnvVar(
    "LOG_LEVEL", validate=one_of("debug", "info", "warning", "error", what="LOG_LEVEL"), on_invalid="warn"
)
_py_web_api = _family(
    repository="ghcr.io/paramedic-demo/web-api",
    style="uvicorn",
    memory_mib=180,
    cpu_millis=120,
    port=8080,
    health_path="/healthz",
    http_paths=("/metrics", "/api/orders"),
    startup_seconds=4.0,
    env=(
        _dependency("DATABASE_URL", 5432, "postgres", "postgresql"),
        EnvVar("POOL_SIZE", validate=int_between(1, 100, "POOL_SIZE")),
        EnvVar("FEATURE_PAYMENTS_V2", validate=one_of("on", "off", what="FEATURE_PAYMENTS_V2")),
        _LOG_LEVEL,
    ),
    binaries=frozenset({"sh", "python", "uvicorn", "gunicorn"}),
    entrypoint=("uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8080"),
    flags=frozenset({"--host", "--port", "--workers", "--log-level", "--proxy-headers"}),
    request_rate=8.0,
    error_rate=0.002,
    size_bytes=61_234_112,
)
_worker = _family(
    repository="ghcr.io/paramedic-demo/worker",
    style="celery",
    memory_mib=70,
    memory_per_env=(("WORKER_CONCURRENCY", 14.0),),
    cpu_millis=200,
    port=9090,
    health_path="/healthz",
    http_paths=("/metrics",),
    startup_seconds=3.0,
    env=(
        _dependency("QUEUE_URL", 6379, "redis"),
        EnvVar("WORKER_CONCURRENCY", required=True, validate=int_between(1, 32, "WORKER_CONCURRENCY")),
        _LOG_LEVEL,
    ),
    binaries=frozenset({"sh", "python", "celery"}),
    entrypoint=("celery", "-A", "jobs", "worker"),
    flags=frozenset({"--loglevel", "--concurrency", "-A", "--queues"}),
    size_bytes=58_102_544,
)
_joke = _family(
    repository="ghcr.io/paramedic-demo/joke-service",
    style="go-json",
    memory_mib=40,
    memory_growth_mib_per_min=1.5,
    cpu_millis=30,
    port=8080,
    health_path="/health",
    http_paths=("/joke", "/metrics"),
    startup_seconds=1.0,
    env=(EnvVar("JOKE_CATEGORY", validate=one_of("programming", "dad", "any", what="JOKE_CATEGORY")),),
    binaries=frozenset({"joke-service"}),
    entrypoint=("/joke-service",),
    flags=frozenset({"--port", "--category"}),
    request_rate=4.0,
    error_rate=0.03,
    size_bytes=9_871_360,
)


def _build() -> dict[str, ImageSpec]:
    specs = [
        _py_web_api("1.4.0", unsupported=(("FEATURE_PAYMENTS_V2", "on", "payments v2 is not available"),)),
        _py_web_api("1.4.1", unsupported=(("FEATURE_PAYMENTS_V2", "on", "payments v2 is not available"),)),
        _py_web_api("1.5.0"),
        # 1.6.0 loads a bigger product cache at start: the same limits that suit 1.5.0 OOM here.
        _py_web_api("1.6.0", memory_mib=420),
        _py_web_api("latest"),
        _worker("2.1.0"),
        _worker("2.2.0", memory_mib=90),
        _worker("latest"),
        _joke("0.9.0", memory_growth_mib_per_min=0.0, error_rate=0.01),
        _joke("1.0.0"),
        _joke("1.1.0", memory_growth_mib_per_min=6.0),
        _joke("latest"),
    ]
    return {s.reference: s for s in specs}


def normalise_reference(image: str) -> tuple[str, str, str | None]:
    """(repository as people write it, tag, digest) of an image reference; ValueError if malformed."""
    ref = parse_reference(image)
    return ref.short_repository, ref.tag, ref.digest


def canonical_reference(image: str) -> str:
    """The fully qualified name containerd reports (`docker.io/library/postgres:15`)."""
    ref = parse_reference(image)
    return f"{ref.repository}@{ref.digest}" if ref.digest else f"{ref.repository}:{ref.tag}"


@dataclass(frozen=True)
class Pull:
    """What pulling an image gives: its spec, or the kubelet's waiting reason and message."""

    spec: ImageSpec | None
    reason: str = ""  # ErrImagePull | InvalidImageName
    message: str = ""


@dataclass
class ImageCatalogue:
    """Image references -> behaviour: the sandbox's own images, then the public registries' model.

    The sandbox's own images (`images`, e.g. `ghcr.io/paramedic-demo/*`) are explicit: their
    namespace holds nothing else. Every other reference is resolved by `registry`, and a found
    image gets the spec of its behaviour profile (`sandbox.profiles`). Extend with `add`.
    """

    images: dict[str, ImageSpec] = field(default_factory=_build)
    registry: ImageRegistry = field(default_factory=ImageRegistry)

    def resolve(self, image: str, credentials: frozenset[str] = frozenset()) -> ImageSpec | None:
        """The spec an image reference pulls, or None when the registry would refuse it."""
        return self.pull(image, credentials).spec

    def pull(self, image: str, credentials: frozenset[str] = frozenset()) -> Pull:
        """Pull `image` with pull secrets for the registry hosts in `credentials`."""
        try:
            ref = parse_reference(image)
        except InvalidReference as err:
            return Pull(None, "InvalidImageName", kubelet_reference_error(image, err))
        own = self._own(ref, image)
        if own is not None:
            return own if isinstance(own, Pull) else Pull(own)
        found = self.registry.resolve(ref, credentials)
        if isinstance(found, Refused):
            return Pull(None, "ErrImagePull", found.message(image))
        return Pull(public_spec(found))

    def _own(self, ref: ImageReference, image: str) -> ImageSpec | Pull | None:
        """A sandbox image, a refusal inside the sandbox's own namespaces, or None (not ours)."""
        name = ref.short_repository
        spec = self.images.get(f"{name}:{ref.tag}")
        if spec is not None:
            if ref.digest and spec.digest != ref.digest:
                return Pull(None, "ErrImagePull", not_found(ref).message(image))
            return spec
        same_repo = [s for s in self.images.values() if s.repository == name]
        if same_repo:
            if ref.digest and not ref.explicit_tag:
                match = next((s for s in same_repo if s.digest == ref.digest), None)
                if match is not None:
                    return match
            return Pull(None, "ErrImagePull", not_found(ref).message(image))
        namespaces = {s.repository.rsplit("/", 1)[0] for s in self.images.values() if "/" in s.repository}
        if name.rsplit("/", 1)[0] in namespaces:
            style = self.registry.catalog.missing_style(ref.host) or "not_found"
            return Pull(None, "ErrImagePull", missing_repository(ref, style).message(image))
        return None

    def add(self, spec: ImageSpec) -> None:
        """Publish an image (a new tag of a repository, or a new repository)."""
        self.images[spec.reference] = spec

    def tags(self, repository: str) -> list[str]:
        """Known tags of a repository, sorted (the sandbox's own, else the registry's listing)."""
        own = sorted(s.tag for s in self.images.values() if s.repository == repository)
        if own:
            return own
        try:
            return sorted(self.registry.tags(parse_reference(repository)))
        except InvalidReference:
            return []


def public_spec(found: Found) -> ImageSpec:
    """The spec of a public image the registry has: its profile's behaviour for this tag."""
    from sandbox.profiles import profile
    from sandbox.profiles.model import tools_of
    from sandbox.shell.toolsets import programs_for

    prof = profile(found.profile)
    base = prof.base or found.base
    _, commands, _ = programs_for(base, tools_of(prof, found.variant))
    return ImageSpec(
        repository=found.ref.short_repository,
        tag=found.ref.tag,
        style=prof.style,
        memory_mib=prof.memory_mib,
        cpu_millis=2,
        port=prof.port,
        health_path=prof.health_path,
        startup_seconds=prof.startup_seconds,
        env=tuple(EnvVar(name, required=True, on_invalid="crash") for name in prof.required_env),
        binaries=frozenset(commands) | frozenset(prof.programs),
        entrypoint=prof.entrypoint,
        size_bytes=prof.size_bytes,
        profile=prof.name if found.known else "unknown",
        base=base,
        variant=found.variant,
        version=found.version,
        cmd=prof.cmd,
    )


def memory_need_mib(spec: ImageSpec, env: Mapping[str, str]) -> float:
    """The working set the program settles at, given its environment."""
    need = spec.memory_mib
    for name, per_unit in spec.memory_per_env:
        try:
            need += per_unit * max(0, int(env.get(name, "0")))
        except ValueError:
            continue
    return need
