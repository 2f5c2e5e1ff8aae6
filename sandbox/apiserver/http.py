"""HTTP plumbing shared by the API handlers: the parsed resource path, JSON/Status responses, request
bodies, selectors, continue tokens and the Scale view of a workload."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any, Protocol

import orjson
import yaml
from starlette.requests import Request
from starlette.responses import Response

from sandbox.apiserver.protobuf import DecodeError, decode_object
from sandbox.selectors import parse_field_selector, parse_label_selector
from sandbox.store import ApiError, ResourceType, clone


class LogSource(Protocol):
    """Where container logs come from (the simulated kubelet)."""

    def read(
        self, namespace: str, pod: str, container: str | None = None, previous: bool = False
    ) -> list: ...


def json_response(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def error_response(exc: ApiError) -> Response:
    return json_response(exc.status(), exc.code)


def truthy(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes")


class Target:
    """A parsed resource path."""

    def __init__(self, rt: ResourceType, namespace: str | None, name: str | None, sub: str | None):
        self.rt, self.namespace, self.name, self.sub = rt, namespace, name, sub


def method_not_allowed() -> ApiError:
    message = "the server does not allow this method on the requested resource"
    return ApiError(405, "MethodNotAllowed", message)


def check_preconditions(preconditions: dict[str, Any], current: dict[str, Any]) -> None:
    """DeleteOptions.preconditions: 409 when the stored object is not the one the client meant."""
    meta = current["metadata"]
    for field, label in (("uid", "UID"), ("resourceVersion", "ResourceVersion")):
        wanted = preconditions.get(field)
        if wanted and wanted != meta.get(field):
            raise ApiError(
                409,
                "Conflict",
                f"Precondition failed: {label} in precondition: {wanted}, {label} in object meta: "
                f"{meta.get(field)}",
            )


def wants_table(request: Request) -> bool:
    return "as=Table" in request.headers.get("accept", "")


def decode_continue(token: str | None) -> int:
    if not token:
        return 0
    try:
        return max(0, int(base64.urlsafe_b64decode(token.encode()).decode()))
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "BadRequest", "invalid continue token") from None


async def read_body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return {}
    content_type = request.headers.get("content-type", "")
    if "protobuf" in content_type:
        try:
            return decode_object(raw)
        except DecodeError as exc:
            # 415 is what a server that cannot read the body's media type answers.
            raise ApiError(415, "UnsupportedMediaType", str(exc)) from None
    try:
        if "yaml" in content_type:
            return yaml.safe_load(raw)
        return orjson.loads(raw)
    except (orjson.JSONDecodeError, yaml.YAMLError) as exc:
        raise ApiError(400, "BadRequest", f"the body of the request could not be decoded: {exc}") from None


def as_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, "BadRequest", "the body of the request must be an object")
    obj = clone(body)
    if not isinstance(obj.get("metadata", {}), dict):
        raise ApiError(400, "BadRequest", "metadata must be an object")
    return obj


def scale_of(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj["metadata"]
    labels = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta["name"],
            "namespace": meta.get("namespace"),
            "uid": meta.get("uid"),
            "resourceVersion": meta.get("resourceVersion"),
            "creationTimestamp": meta.get("creationTimestamp"),
        },
        "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 0)},
        "status": {
            "replicas": (obj.get("status") or {}).get("replicas", 0),
            "selector": ",".join(f"{k}={v}" for k, v in labels.items()),
        },
    }


def predicate(request: Request) -> Callable[[dict[str, Any]], bool]:
    """The label and field selectors of a list or watch request, as one test of an object."""
    labels = parse_label_selector(request.query_params.get("labelSelector"))
    fields = parse_field_selector(request.query_params.get("fieldSelector"))

    def matches(obj: dict[str, Any]) -> bool:
        return labels.matches(obj.get("metadata", {}).get("labels") or {}) and fields.matches(obj)

    return matches
