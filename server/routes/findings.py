"""The API router for the proactive scan: `GET /findings` scans the cluster now (read-only)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, status

from server.auth import require_read_token
from server.chat.service import KUBE_KEY
from server.context import Context, ServerContext
from server.findings import scan
from server.routes.params import UNAUTHORIZED, error
from tools.result import ToolFailure
from tools.scan import ScanReport, Severity

router = APIRouter(prefix="/findings", tags=["findings"], dependencies=[Depends(require_read_token)])


async def scan_now(context: ServerContext, namespaces: list[str]) -> ScanReport:
    """Scan with the server's cluster connection; 503 without one or when the cluster cannot be read."""
    kube = context.extras.get(KUBE_KEY)
    if kube is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail="no cluster connection to scan")
    memory = context.store if context.settings.memory.enabled else None
    try:
        return await asyncio.to_thread(scan, kube, context.settings, memory, namespaces)
    except ToolFailure as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=f"scan failed: {exc}") from exc


@router.get(
    "",
    responses={**error(503, "No cluster connection, or the cluster could not be read."), **UNAUTHORIZED},
    summary="Scan the cluster for risks",
)
async def list_findings(
    context: Context,
    namespace: Annotated[
        list[str] | None, Query(description="Namespaces to scan (default: the scope).")
    ] = None,
    severity: Annotated[
        Severity, Query(description="Only findings at or above this severity.")
    ] = Severity.INFO,
    form: Annotated[
        str, Query(pattern="^(json|sarif)$", description="json, or sarif (SARIF 2.1.0).")
    ] = "json",
) -> dict[str, Any]:
    """Every finding of every check, worst first, each with a severity and a suggested YAML patch."""
    report = await scan_now(context, namespace or [])
    report = report.model_copy(update={"findings": report.at_or_above(severity)})
    return report.to_sarif() if form == "sarif" else report.to_json()
