"""The API router for the Alertmanager webhook intake: `POST /alerts/alertmanager`.

Every firing alert that names a workload is submitted to the run launcher, which applies the same
rule as to the watcher's re-detections (server/run_service.py): it folds into the run active for
its fingerprint or workload (`folded`), attaches to the run of its fingerprint that ended less than
the cooldown ago (`attached`: counted on that run, visible as its `folded` count), or records the
incident and opens a run (`opened`). So Alertmanager re-sending a group (repeat_interval, a new
alert joining), or a storm of posts of one alert, opens one run. Without a launcher the incident is
only recorded. The answer lists what became of each alert, in order.
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
    result: Literal["opened", "folded", "attached", "recorded", "ignored", "failed"]
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
    """Submit each firing alert naming a workload (the launcher records it); report the rest."""
    results: list[AlertResult] = []
    # The first successful result per incident fingerprint, so later alerts of the notification
    # folding into it can say which alert they joined.
    submitted: dict[str, AlertResult] = {}
    for index, alert in enumerate(payload.alerts):
        mapped = incident_of(alert, payload, context.settings.scope)
        base = {"index": index, "alert_fingerprint": alert.fingerprint}
        if isinstance(mapped, Ignored):
            results.append(AlertResult(**base, result="ignored", reason=mapped.reason))
            continue
        incident = mapped.incident
        target = str(incident.target)
        earlier = submitted.get(incident.fingerprint)
        if context.runs is None:
            try:
                record = context.store.record_incident(incident)  # a repeat is another sighting
            except RunStoreError as exc:  # refused by the store: say so for this alert, keep the others
                log.warning("recording the incident for %s failed: %s", target, exc)
                results.append(
                    AlertResult(**base, result="failed", target=target, reason=f"not recorded: {exc}")
                )
                continue
            result = AlertResult(**base, result="recorded", target=target, incident_id=record.id)
            result.reason = "no run launcher is configured; the incident is recorded"
        else:
            # The launcher records the incident (folding a repeat into the open one, one sighting
            # per submission) and links the run to it; the run says which incident that is.
            try:
                run_id, is_new = context.runs.submit(incident)
                run = context.store.get_run(run_id)
                incident_id = run.incident_id
            except RunStoreError as exc:  # refused by the store: say so for this alert, keep the others
                log.warning("submitting the incident for %s failed: %s", target, exc)
                results.append(
                    AlertResult(**base, result="failed", target=target, reason=f"refused by the store: {exc}")
                )
                continue
            except Exception as exc:  # one failing submission must not lose the others
                log.exception("submitting the incident for %s failed", target)
                results.append(
                    AlertResult(
                        **base, result="failed", target=target, reason=f"the run could not be started: {exc}"
                    )
                )
                continue
            ended = not is_new and not run.status.active
            result = AlertResult(
                **base,
                result="opened" if is_new else ("attached" if ended else "folded"),
                target=target,
                incident_id=incident_id,
                run_id=run_id,
            )
            if ended:
                result.reason = f"the run for this incident ended ({run.status.value}) within the cooldown"
            elif not is_new:
                result.reason = "an active run already handles this incident"
        if earlier is not None:
            result.result, result.reason = "folded", f"same incident as alert {earlier.index}"
        else:
            submitted[incident.fingerprint] = result
        results.append(result)
    if payload.truncatedAlerts:
        log.warning(
            "Alertmanager truncated %d alert(s) of group %s", payload.truncatedAlerts, payload.groupKey
        )
    return AlertIntake(group_key=payload.groupKey, results=results, truncated_alerts=payload.truncatedAlerts)
