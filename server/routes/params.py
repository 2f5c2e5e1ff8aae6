"""What the API routers share: path and paging parameters, the error responses they document,
and store calls whose bad-input and not-found errors become 400 and 404."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status

from server.auth import require_token
from server.runstore import InvalidInputError, NotFoundError
from server.schemas import ErrorBody

T = TypeVar("T")

RunId = Annotated[str, Path(min_length=1, max_length=200, description="The run's id.")]
Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=1000, description="The last page's `next_cursor`.")]


def error(code: int, description: str) -> dict[int | str, dict[str, Any]]:
    """An error response as the OpenAPI document lists it."""
    return {code: {"model": ErrorBody, "description": description}}


UNAUTHORIZED = error(401, "The bearer token is missing or wrong.")


def token_post(
    router: APIRouter, response_model: type[Any], responses: dict[int | str, dict[str, Any]]
) -> Callable[..., Callable[[Callable[..., Any]], Callable[..., Any]]]:
    """`router.post` for writes that need the bearer token, answering `response_model` (or
    `responses`): the contract one family of write routes shares; each names its path and summary."""

    def post(path: str, *, summary: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return router.post(
            path,
            response_model=response_model,
            responses=responses,
            dependencies=[Depends(require_token)],
            summary=summary,
        )

    return post


async def from_store(call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking store call off the event loop; bad input answers 400, an unknown id 404."""
    try:
        return await asyncio.to_thread(call, *args, **kwargs)
    except InvalidInputError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=str(exc)) from exc
    except NotFoundError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from exc
