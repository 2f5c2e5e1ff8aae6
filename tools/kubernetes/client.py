"""A Kubernetes API connection with per-call timeouts and errors mapped to `ToolFailure`.

Calls go through the official client's generated API classes but ask for the raw response
(`_preload_content=False`) and decode JSON here: the tools reason about objects exactly as the
API server sent them (what `kubectl get -o json` shows), not as the generated models reshape them.

The client's own urllib3 retries are switched off; `call_tool` retries transient failures
(connection errors, timeouts, 429 and 5xx) with back-off, so every retry shows up in one place.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import urllib3
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from tools.result import RetryPolicy, ToolFailure, ToolResult, ToolStatus, TraceSink, call_tool

Obj = dict[str, Any]

DEFAULT_TIMEOUT = 10.0
DEFAULT_RETRY = RetryPolicy()
_UNAVAILABLE_CODES = frozenset({429, 502, 503, 504})


class KubeConfigError(ValueError):
    """The kubeconfig or in-cluster configuration cannot be loaded."""


class NotFound(ToolFailure):
    """The API server answered 404 for the object or resource."""


def api_client_from_config(
    kubeconfig: str | Path | None = None, context: str | None = None, *, in_cluster: bool | None = None
) -> k8s.ApiClient:
    """Build an `ApiClient` from a kubeconfig file (and context) or the in-cluster service account.

    `in_cluster=None` picks in-cluster config only when no kubeconfig is given and the process
    runs in a pod (`KUBERNETES_SERVICE_HOST` is set); otherwise the default kubeconfig is used.
    """
    configuration = k8s.Configuration()
    configuration.retries = 0  # tenacity (via call_tool) owns retries
    if in_cluster is None:
        in_cluster = kubeconfig is None and bool(os.environ.get("KUBERNETES_SERVICE_HOST"))
    try:
        if in_cluster:
            if kubeconfig is not None:
                raise KubeConfigError("give either a kubeconfig or in_cluster=True, not both")
            k8s_config.load_incluster_config(client_configuration=configuration)
        else:
            path = Path(kubeconfig).expanduser() if kubeconfig is not None else None
            if path is not None and not path.is_file():
                raise KubeConfigError(f"kubeconfig {path} does not exist")
            k8s_config.load_kube_config(
                config_file=str(path) if path else None,
                context=context,
                client_configuration=configuration,
                persist_config=False,
            )
    except ConfigException as exc:
        raise KubeConfigError(f"cannot load Kubernetes configuration: {exc}") from exc
    return k8s.ApiClient(configuration)


def status_message(exc: ApiException) -> str:
    """The `message` of the `Status` body the API server answered with, or the HTTP reason."""
    body = exc.body
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    if body:
        try:
            status = json.loads(body)
        except ValueError:
            return str(body).strip()[:500]
        if isinstance(status, Mapping) and status.get("message"):
            return str(status["message"])
    return str(exc.reason or "no reason given")


def failure_from_api_exception(exc: ApiException, what: str) -> ToolFailure:
    """Map an API error to a `ToolFailure`: 429/5xx are transient, 4xx are not."""
    code = exc.status or 0
    message = status_message(exc)
    if code in _UNAVAILABLE_CODES:
        return ToolFailure(
            f"{what}: API server unavailable (HTTP {code}): {message}", ToolStatus.UNAVAILABLE, transient=True
        )
    if code >= 500:
        return ToolFailure(f"{what}: API server error (HTTP {code}): {message}", transient=True)
    if code == 404:
        return NotFound(f"{what}: not found: {message}")
    if code in (401, 403):
        return ToolFailure(f"{what}: not permitted (HTTP {code}): {message}")
    return ToolFailure(f"{what}: rejected (HTTP {code}): {message}")


@dataclass(frozen=True)
class KubeClient:
    """One cluster connection: the API groups the tools use, a request timeout and a retry policy."""

    api: k8s.ApiClient
    timeout: float = DEFAULT_TIMEOUT
    retry: RetryPolicy = DEFAULT_RETRY

    def __post_init__(self) -> None:
        if self.timeout <= 0:
            raise ValueError("timeout must be positive")

    @classmethod
    def from_config(
        cls,
        kubeconfig: str | Path | None = None,
        context: str | None = None,
        *,
        in_cluster: bool | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retry: RetryPolicy = DEFAULT_RETRY,
    ) -> KubeClient:
        """Connect with a kubeconfig (path and context) or in-cluster config; see `api_client_from_config`."""
        return cls(api_client_from_config(kubeconfig, context, in_cluster=in_cluster), timeout, retry)

    @property
    def core(self) -> k8s.CoreV1Api:
        """The core/v1 API."""
        return k8s.CoreV1Api(self.api)

    @property
    def apps(self) -> k8s.AppsV1Api:
        """The apps/v1 API."""
        return k8s.AppsV1Api(self.api)

    @property
    def batch(self) -> k8s.BatchV1Api:
        """The batch/v1 API."""
        return k8s.BatchV1Api(self.api)

    def close(self) -> None:
        """Release the connection pool."""
        self.api.close()

    def server_version(self, timeout: float = 3.0) -> str:
        """The API server's `gitVersion` (a cheap reachability check); raises when it cannot be reached."""
        return str(k8s.VersionApi(self.api).get_code(_request_timeout=timeout).git_version)

    def raw(self, what: str, method: Callable[..., Any], *args: Any, **kwargs: Any) -> bytes:
        """Call a generated API method with the timeout and return the response body bytes.

        `what` names the request in error messages ("get deployment shop/web").
        """
        try:
            response = method(*args, _preload_content=False, _request_timeout=self.timeout, **kwargs)
            body: bytes = response.data  # an unread urllib3 response: the raw body
            return body
        except ApiException as exc:
            if not exc.status:  # the REST layer's own errors: TLS failures, unencodable bodies
                raise ToolFailure(f"{what}: {exc.reason}") from exc
            raise failure_from_api_exception(exc, what) from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            detail = _root_cause(exc)
            raise ToolFailure(
                f"{what}: cannot reach the API server at {self.api.configuration.host}: {detail}",
                ToolStatus.UNAVAILABLE,
                transient=True,
            ) from exc

    def json(self, what: str, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Obj:
        """Like `raw`, decoding the JSON object the server answered with."""
        body = self.raw(what, method, *args, **kwargs)
        try:
            value = json.loads(body)
        except ValueError as exc:
            raise ToolFailure(f"{what}: the API server answered with invalid JSON") from exc
        if not isinstance(value, dict):
            raise ToolFailure(f"{what}: expected a JSON object, got {type(value).__name__}")
        return value

    def text(self, what: str, method: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
        """Like `raw`, decoding the body as UTF-8 text (invalid bytes replaced)."""
        return self.raw(what, method, *args, **kwargs).decode("utf-8", errors="replace")

    def run(
        self,
        tool: str,
        arguments: Mapping[str, Any],
        fn: Callable[[], Any],
        sink: TraceSink,
        summarize: Callable[[Any], str] = lambda _: "ok",
        retry: RetryPolicy | None = None,
    ) -> ToolResult[Any]:
        """`call_tool` with this client's retry policy."""
        return call_tool(tool, arguments, fn, sink=sink, summarize=summarize, retry=retry or self.retry)


def _root_cause(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    if isinstance(reason, BaseException):
        return f"{type(reason).__name__}: {reason}"
    return f"{type(exc).__name__}: {exc}"
