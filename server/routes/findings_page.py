"""The dashboard's findings page: the proactive scan's findings, worst first, each with its patch."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from server.context import Context
from server.routes.dashboard import Pages, chrome, html_page
from server.routes.findings import scan_now

router = APIRouter(include_in_schema=False)


@router.get("/ui/findings", response_class=HTMLResponse, dependencies=Pages)
async def findings_page(request: Request, context: Context) -> Response:
    """Scan now and show every finding; a cluster that cannot be read says so on the page."""
    report, problem = None, ""
    try:
        report = await scan_now(context, [])
    except HTTPException as exc:
        problem = str(exc.detail)
    return html_page("findings.html", report=report, problem=problem, **chrome(context, request))
