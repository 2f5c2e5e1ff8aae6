"""The OpenAPI document says what the server really answers.

Starlette answers 400 ("There was an error parsing the body") before any handler runs when a
request's body cannot be read as the media type it names (a form body that is not a form, a
multipart body without its boundary). Every operation that takes a body can therefore answer
400; FastAPI does not list it, so the document is completed here, once for every router.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

UNREADABLE_BODY = {
    "description": "The body cannot be read as the media type it names.",
    "content": {
        "application/json": {
            "schema": {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}
        }
    },
}
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def document_body_errors(app: FastAPI) -> None:
    """Make `app.openapi()` list the 400 that every operation with a request body may answer."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            for item in document.get("paths", {}).values():
                for method in _METHODS:
                    operation = item.get(method)
                    if operation and "requestBody" in operation:
                        operation.setdefault("responses", {}).setdefault("400", UNREADABLE_BODY)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to customise the document
