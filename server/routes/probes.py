"""The probe routes: liveness, readiness and the Prometheus metrics scrape.

`/readyz` checks the run store (one cheap read) and, when `context.extras["cluster_ready"]`
holds a probe, the cluster: the probe returns True when reachable, False or a reason (str)
when not, and may raise. Every check is bounded by `READY_TIMEOUT` so a hung dependency
makes the server unready instead of hanging the kubelet's probe.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse

from server.auth import require_read_token
from server.context import Context, ServerContext
from server.prometheus_exporter import METRICS_MEDIA_TYPE, metrics_of
from server.routes.params import UNAUTHORIZED
from server.schemas import Check, Health, Readiness

router = APIRouter(tags=["health"])

READY_TIMEOUT = 5.0
CLUSTER_PROBE = "cluster_ready"


@router.get("/healthz", response_model=Health, summary="Liveness")
async def healthz() -> Health:
    """The process is alive and its event loop answers."""
    return Health()


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "A dependency is unreachable; `checks` says which."}},
    summary="Readiness",
)
async def readyz(context: Context) -> Any:
    """Ready when the store (and the cluster, if a probe is set) answers; else 503 with the reasons."""
    checks = {"storage": await _check(lambda: _storage(context))}
    probe = context.extras.get(CLUSTER_PROBE)
    if probe is not None:
        checks["cluster"] = await _check(probe)
    body = Readiness(ready=all(c.ok for c in checks.values()), checks=checks)
    return JSONResponse(status_code=200 if body.ready else 503, content=body.model_dump(mode="json"))


def _storage(context: ServerContext) -> bool:
    context.store.list_runs(limit=1)
    return True


async def _check(probe: Callable[[], Any]) -> Check:
    try:
        if inspect.iscoroutinefunction(probe):
            result = await asyncio.wait_for(probe(), READY_TIMEOUT)
        else:
            result = await asyncio.wait_for(asyncio.to_thread(probe), READY_TIMEOUT)
    except TimeoutError:
        return Check(ok=False, detail=f"no answer within {READY_TIMEOUT:g} s")
    except Exception as exc:  # any failure of a dependency means "not ready", never a 500
        return Check(ok=False, detail=f"{type(exc).__name__}: {exc}")
    if result is True:
        return Check(ok=True)
    return Check(ok=False, detail=result if isinstance(result, str) and result else "not reachable")


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {METRICS_MEDIA_TYPE: {}}, "description": "Prometheus text format."},
        **UNAUTHORIZED,
    },
    dependencies=[Depends(require_read_token)],
    summary="Prometheus metrics",
)
async def metrics(context: Context) -> Response:
    """The server's metrics (see `server.prometheus_exporter` for the names)."""
    return Response(content=metrics_of(context.extras).render(), media_type=METRICS_MEDIA_TYPE)
