"""Paramedic's settings: one pydantic-settings model, from env (`PARAMEDIC_…`) and an optional YAML file.

Precedence, highest first: explicit arguments, environment variables, the YAML file, defaults.
Secrets are `SecretStr` (masked in every repr/log) and may be given as files (`*_file`).
"""

from __future__ import annotations

from contextvars import ContextVar
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

DEFAULT_EXCLUDED_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease")

# The YAML path is passed through a ContextVar because pydantic-settings builds sources
# from the class, not the instance; it is set only for the duration of `load_settings`.
_CONFIG_PATH: ContextVar[Path | None] = ContextVar("paramedic_config_path", default=None)


class Mode(StrEnum):
    """How far Paramedic may go on its own."""

    REPORT = "report"  # never mutates; posts the diagnosis
    APPROVE = "approve"  # every action waits for a human
    AUTONOMOUS = "autonomous"  # acts when confidence clears the act threshold


class SettingsError(ValueError):
    """Settings that cannot be used; the message names the offending field(s)."""


def _read_secret(value: SecretStr | None, file: Path | None, what: str) -> str | None:
    if value is not None and value.get_secret_value():
        return value.get_secret_value()
    if file is None:
        return None
    try:
        text = file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SettingsError(f"{what}: cannot read secret file {file}: {exc.strerror}") from exc
    return text or None


class ClusterSettings(BaseModel):
    """How to reach Kubernetes."""

    kubeconfig: Path | None = None
    context: str | None = None
    in_cluster: bool = False
    # With no cluster configured, `demo`, `eval` and `serve --sandbox` start the embedded sandbox.
    sandbox: bool = False


class ScopeSettings(BaseModel):
    """What the watcher looks at."""

    namespaces: list[str] = Field(default_factory=list, description="Empty means all namespaces.")
    namespace_selector: str | None = Field(default=None, description="Label selector on namespaces.")
    exclude_namespaces: list[str] = Field(default_factory=lambda: list(DEFAULT_EXCLUDED_NAMESPACES))
    exclude_workloads: list[str] = Field(
        default_factory=list, description="Glob patterns on 'namespace/kind/name'."
    )
    restart_threshold: int = Field(default=3, ge=1)
    restart_window_seconds: int = Field(default=600, ge=1)
    grace_period_seconds: int = Field(default=60, ge=0)


class LLMSettings(BaseModel):
    """Which reasoner and, for LLM providers, which endpoint, and how far one investigation may go.

    The budgets hold per investigation (one analyst diagnosis, one auditor review): model turns,
    tool calls, tokens (input + output) and wall time; when one is spent the investigation ends
    with category `unknown`, which escalates (docs/llm.md).
    """

    provider: Literal["rules", "openai", "ollama", "hybrid"] = "rules"
    # For `hybrid`, which LLM backs the rules engine.
    llm_backend: Literal["openai", "ollama"] = "openai"
    model: str = "gpt-4o-mini"
    base_url: str | None = None
    api_key: SecretStr | None = None
    api_key_file: Path | None = None
    timeout_seconds: float = Field(default=60.0, gt=0, description="One model request.")
    max_retries: int = Field(default=2, ge=0, le=10, description="Of a request that timed out or got a 5xx.")
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    tools: bool = Field(default=True, description="Offer the read-only investigation tools.")
    auditor_review: bool = Field(default=True, description="The auditor reviews mutating proposals too.")
    max_turns: int = Field(default=10, ge=1, le=50, description="Model requests per investigation.")
    max_tool_calls: int = Field(default=8, ge=0, le=50)
    max_tokens: int = Field(default=60_000, ge=1_000, description="Input + output tokens per investigation.")
    max_wall_seconds: float = Field(default=180.0, gt=0)
    opening_tokens: int = Field(default=3_000, ge=500, description="The opening evidence, with tools.")
    oneshot_tokens: int = Field(default=6_000, ge=500, description="The evidence when no tool can be used.")
    context_tokens: int = Field(default=16_384, ge=4_096, description="The largest prompt ever sent.")
    # Ollama's context window; unset, it is `context_tokens`, so no prompt is silently truncated.
    num_ctx: int | None = Field(default=None, ge=2_048)
    witty_summary: bool = False
    price_per_million_input_tokens: float = Field(default=0.0, ge=0)
    price_per_million_output_tokens: float = Field(default=0.0, ge=0)

    def api_key_value(self) -> str | None:
        """The API key from `api_key` or `api_key_file`, or None."""
        return _read_secret(self.api_key, self.api_key_file, "llm.api_key_file")

    def llm_provider(self) -> Literal["openai", "ollama"] | None:
        """The LLM actually called: the provider, `llm_backend` for hybrid, None for rules."""
        if self.provider == "rules":
            return None
        return self.llm_backend if self.provider == "hybrid" else self.provider

    def prompt_window(self) -> int:
        """The largest prompt (tokens) the tool loop lets grow: `context_tokens`, or a smaller `num_ctx`."""
        if self.num_ctx is not None and self.llm_provider() == "ollama":
            return min(self.context_tokens, self.num_ctx)
        return self.context_tokens

    def ollama_num_ctx(self) -> int:
        """The `num_ctx` sent to Ollama: at least the largest prompt the loop may send."""
        return self.num_ctx if self.num_ctx is not None else self.context_tokens


class GitSettings(BaseModel):
    """Where the GitOps manifests live."""

    provider: Literal["local", "github"] = "local"
    local_path: Path | None = None
    github_repo: str | None = Field(default=None, description="owner/name")
    github_base_url: str = "https://api.github.com"
    token: SecretStr | None = None
    token_file: Path | None = None
    base_branch: str = "main"
    auto_merge: bool = False
    # Without auto-merge a run that opened a pull request waits for a human to merge or close it;
    # it escalates (and notifies) when nobody has after this long (seconds of the run's clock).
    merge_timeout_seconds: float = Field(default=86_400.0, gt=0)
    # How often (wall seconds) the server looks at the pull requests runs are waiting on.
    merge_poll_seconds: float = Field(default=30.0, gt=0)

    @field_validator("github_repo")
    @classmethod
    def _owner_slash_name(cls, value: str | None) -> str | None:
        if value is not None and (value.count("/") != 1 or value.startswith("/") or value.endswith("/")):
            raise ValueError("must be 'owner/name'")
        return value

    def token_value(self) -> str | None:
        """The GitHub token from `token` or `token_file`, or None."""
        return _read_secret(self.token, self.token_file, "git.token_file")


class Thresholds(BaseModel):
    """Confidence thresholds of the decision node."""

    act: float = Field(default=0.8, ge=0.0, le=1.0)
    ask: float = Field(default=0.5, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        if self.ask > self.act:
            raise ValueError("ask threshold must not exceed act threshold")
        return self


class BreakerSettings(BaseModel):
    """Circuit breakers: per target, and global on reasoner failures."""

    max_attempts: int = Field(default=3, ge=1)
    window_seconds: int = Field(default=3600, ge=1)
    cooldown_seconds: int = Field(default=1800, ge=0)
    llm_failure_limit: int = Field(default=5, ge=1)
    llm_cooldown_seconds: int = Field(default=300, ge=0)


class MemorySettings(BaseModel):
    """Incident memory: what finished runs teach later ones (docs/memory.md)."""

    enabled: bool = True  # record finished runs, recall similar ones, learn fix success rates
    retention_days: int | None = Field(default=365, ge=1, description="None keeps entries forever.")
    max_incidents: int | None = Field(default=10_000, ge=1, description="None: no cap on entries.")


class VerificationSettings(BaseModel):
    """How long verification watches a workload after a change (seconds)."""

    timeout_seconds: float = Field(default=600.0, gt=0)
    poll_seconds: float = Field(default=10.0, gt=0)
    settle_seconds: float = Field(default=30.0, ge=0)  # a merged change needs a GitOps sync first
    stable_seconds: float = Field(default=60.0, ge=0)  # ready, restarts unchanged, this long
    max_error_ratio: float = Field(default=0.05, ge=0.0, le=1.0)  # HTTP 5xx, where Prometheus measures it


class IncidentSettings(BaseModel):
    """How repeated sightings of one failure are folded (the watcher and the alert intake alike)."""

    # After a run ends, sightings of its fingerprint (a watcher re-detection, a repeated alert)
    # attach to that run for this long instead of opening another; after it, the incident reopens.
    cooldown_seconds: float = Field(default=300.0, ge=0)


class NotificationSettings(BaseModel):
    """Where to post diagnoses and escalations (Slack, Discord or a generic JSON webhook)."""

    webhook_url: SecretStr | None = None
    webhook_url_file: Path | None = None

    def webhook_url_value(self) -> str | None:
        """The webhook URL (it embeds a secret for Slack/Discord), or None."""
        return _read_secret(self.webhook_url, self.webhook_url_file, "notifications.webhook_url_file")


class HASettings(BaseModel):
    """Several replicas over one PostgreSQL store (docs/deploy.md, HA mode).

    With `enabled`, replicas elect a leader through a `coordination.k8s.io/v1` Lease: only the
    leader watches the cluster and starts or adopts runs; every replica serves the API. The lease
    timings are those of Kubernetes controllers (a dead leader is replaced within about
    `lease_duration_seconds` + `retry_period_seconds`). A run's owner refreshes its claim every
    `heartbeat_seconds`; a claim silent for `owner_timeout_seconds` belongs to a replica that is
    gone, and the leader adopts the run from its checkpoint.
    """

    enabled: bool = False
    lease_name: str = Field(default="paramedic-leader", min_length=1, max_length=253)
    lease_namespace: str = Field(default="paramedic", min_length=1, max_length=63)
    identity: str | None = Field(default=None, description="this replica's name; default: host name + id")
    lease_duration_seconds: int = Field(default=12, ge=2)
    renew_deadline_seconds: int = Field(default=8, ge=2)
    retry_period_seconds: int = Field(default=2, ge=1)
    heartbeat_seconds: float = Field(default=3.0, gt=0)
    owner_timeout_seconds: float = Field(default=20.0, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> HASettings:
        # The Kubernetes client's own rules (it exits the process on a violation, so check first).
        if self.lease_duration_seconds <= self.renew_deadline_seconds:
            raise ValueError("ha.lease_duration_seconds must exceed ha.renew_deadline_seconds")
        if self.renew_deadline_seconds <= 1.2 * self.retry_period_seconds:
            raise ValueError("ha.renew_deadline_seconds must exceed 1.2 x ha.retry_period_seconds")
        if self.owner_timeout_seconds <= 2 * self.heartbeat_seconds:
            raise ValueError("ha.owner_timeout_seconds must exceed twice ha.heartbeat_seconds")
        return self


GENERATED_TOKEN_FILE = "api-token"  # under data_dir: the token `serve` generates when none is set


class ServerSettings(BaseModel):
    """The HTTP API (docs/security.md: the auth modes)."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    # The bearer token: inline, or (better) a file, re-read when it changes. With neither,
    # `paramedic serve` generates `<data_dir>/api-token` at first start.
    token: SecretStr | None = None
    token_file: Path | None = None
    # Reads that expose incident data (runs, traces, incidents, SSE, metrics, the dashboard) need
    # the token too; set false only behind something else that authenticates.
    protect_reads: bool = True
    # Host names accepted (besides loopback ones) on requests let in without a token, when the
    # server listens on loopback: a DNS-rebinding page names its own host and is refused.
    allowed_hosts: list[str] = Field(default_factory=list)

    def token_value(self) -> str | None:
        """The bearer token required on mutating endpoints, or None."""
        return _read_secret(self.token, self.token_file, "server.token_file")


class _YamlFileSource(PydanticBaseSettingsSource):
    """Reads the `--config` YAML file; its path comes through the settings' init kwargs."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path | None) -> None:
        super().__init__(settings_cls)
        self._path = path

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # pragma: no cover
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        if self._path is None:
            return {}
        try:
            data = yaml.safe_load(self._path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise SettingsError(f"config file {self._path}: {exc.strerror}") from exc
        except yaml.YAMLError as exc:
            raise SettingsError(f"config file {self._path}: not valid YAML: {exc}") from exc
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise SettingsError(f"config file {self._path}: top level must be a mapping")
        return data


class Settings(BaseSettings):
    """Everything Paramedic can be told. Env: `PARAMEDIC_MODE`, `PARAMEDIC_LLM__PROVIDER`, …"""

    model_config = SettingsConfigDict(
        env_prefix="PARAMEDIC_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    mode: Mode = Mode.REPORT
    data_dir: Path = Path(".paramedic")
    storage_url: str | None = Field(
        default=None, description="sqlite:///path or postgresql://…; default: SQLite under data_dir"
    )
    prometheus_url: str | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["auto", "json", "console"] = "auto"
    cluster: ClusterSettings = Field(default_factory=ClusterSettings)
    scope: ScopeSettings = Field(default_factory=ScopeSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    git: GitSettings = Field(default_factory=GitSettings)
    thresholds: Thresholds = Field(default_factory=Thresholds)
    breaker: BreakerSettings = Field(default_factory=BreakerSettings)
    verification: VerificationSettings = Field(default_factory=VerificationSettings)
    incidents: IncidentSettings = Field(default_factory=IncidentSettings)
    notifications: NotificationSettings = Field(default_factory=NotificationSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    memory: MemorySettings = Field(default_factory=MemorySettings)
    ha: HASettings = Field(default_factory=HASettings)

    @field_validator("storage_url")
    @classmethod
    def _known_storage(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("sqlite://", "postgresql://", "postgres://")):
            raise ValueError("must start with sqlite://, postgresql:// or postgres://")
        return value

    @field_validator("prometheus_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/") if value else value

    def generated_token_path(self) -> Path:
        """Where `paramedic serve` keeps the token it generates when none is configured."""
        return self.data_dir / GENERATED_TOKEN_FILE

    def api_token_value(self) -> str | None:
        """The API token a client should send: the configured one, else the generated one (if any)."""
        configured = self.server.token_value()
        if configured or self.server.token is not None or self.server.token_file is not None:
            return configured
        generated = self.generated_token_path()
        return _read_secret(None, generated, "the generated API token") if generated.exists() else None

    def resolved_storage_url(self) -> str:
        """The storage URL, defaulting to a SQLite file under the data directory."""
        return self.storage_url or f"sqlite:///{(self.data_dir / 'paramedic.db').as_posix()}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        yaml_path = _CONFIG_PATH.get()
        return (init_settings, env_settings, _YamlFileSource(settings_cls, yaml_path))


def format_validation_error(exc: ValidationError) -> str:
    """One line per problem, each naming the field by its dotted path."""
    lines = []
    for err in exc.errors():
        field = ".".join(str(part) for part in err["loc"]) or "(settings)"
        lines.append(f"invalid setting '{field}': {err['msg']}")
    return "\n".join(lines)


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build settings from env, an optional YAML file and overrides; raise SettingsError naming fields."""
    token = _CONFIG_PATH.set(config_file)
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(format_validation_error(exc)) from None
    finally:
        _CONFIG_PATH.reset(token)
