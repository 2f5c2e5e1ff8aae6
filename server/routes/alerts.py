"""The API router for the Alertmanager webhook intake: `POST /alerts/alertmanager`.

Every firing alert that names a workload is recorded as an incident (the store folds repeated
sightings of one fingerprint) and submitted to the run launcher, which says whether it opened a
new run or folded into the active one; so Alertmanager re-sending a group (repeat_interval, a new
alert joining) opens no second run. The answer lists what became of each alert, in order.
"""

from __future__ import annotations

import logging
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, Field

from server.alertmanager import AlertmanagerPayload, Ignored, incident_of
from server.auth import require_token
from server.context import ServerContext, get_context
from server.runstore import RunStoreError

router = APIRouter(tags=["alerts"])
log = logging.getLogger(__name__)


class AlertResult(BaseModel):
    """What became of one alert of the notification (same order as `alerts`)."""

    index: int
    alert_fingerprint: str = ""
    result: Literal["opened", "folded", "recorded", "ignored", "failed"]
    reason: str = ""
    target: str | None = None
    incident_id: str | None = None
    run_id: str | None = None


class AlertIntake(BaseModel):
    """The webhook's answer: one result per alert."""

    group_key: str
    results: list[AlertResult]
    truncated_alerts: int = Field(
        default=0, description="Alerts Alertmanager left out of the notification (its max_alerts)."
    )


@router.post(
    "/alerts/alertmanager",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=AlertIntake,
    summary="Alertmanager webhook (payload version 4): alerts naming a workload open runs",
    responses={401: {"description": "A bearer token is configured and was not given"}},
)
def receive_alertmanager(
    payload: AlertmanagerPayload,
    context: Annotated[ServerContext, Depends(get_context)],
    _: Annotated[None, Depends(require_token)],
) -> AlertIntake:
    """Record each firing alert naming a workload as an incident and submit it; report the rest."""
    results: list[AlertResult] = []
    # Alerts of one notification that fold into the same incident share one submission.
    submitted: dict[str, AlertResult] = {}
    for index, alert in enumerate(payload.alerts):
        mapped = incident_of(alert, payload, context.settings.scope)
        base = {"index": index, "alert_fingerprint": alert.fingerprint}
        if isinstance(mapped, Ignored):
            results.append(AlertResult(**base, result="ignored", reason=mapped.reason))
            continue
        incident = mapped.incident
        target = str(incident.target)
        if (earlier := submitted.get(incident.fingerprint)) is not None:
            context.store.record_incident(incident)  # counted as another sighting
            results.append(
                earlier.model_copy(
                    update={**base, "result": "folded", "reason": f"same incident as alert {earlier.index}"}
                )
            )
            continue
        try:
            record = context.store.record_incident(incident)
        except RunStoreError as exc:  # refused by the store: say so for this alert, keep the others
            log.warning("recording the incident for %s failed: %s", target, exc)
            results.append(AlertResult(**base, result="failed", target=target, reason=f"not recorded: {exc}"))
            continue
        # The launcher links the run to the stored incident (the open one it folded into, if any).
        incident = incident.model_copy(update={"id": record.id})
        result = AlertResult(**base, result="recorded", target=target, incident_id=record.id)
        if context.runs is None:
            result.reason = "no run launcher is configured; the incident is recorded"
        else:
            try:
                run_id, is_new = context.runs.submit(incident)
            except Exception as exc:  # one failing submission must not lose the others
                log.exception("submitting incident %s failed", record.id)
                result.result, result.reason = "failed", f"the run could not be started: {exc}"
            else:
                result.run_id = run_id
                result.result = "opened" if is_new else "folded"
                if not is_new:
                    result.reason = "an active run already handles this incident"
        submitted[incident.fingerprint] = result
        results.append(result)
    if payload.truncatedAlerts:
        log.warning(
            "Alertmanager truncated %d alert(s) of group %s", payload.truncatedAlerts, payload.groupKey
        )
    return AlertIntake(group_key=payload.groupKey, results=results, truncated_alerts=payload.truncatedAlerts)
