"""What a finished run adds to the Prometheus metrics (server/metrics): outcome, actions, durations."""

from __future__ import annotations

from server.metrics import Metrics
from server.runstore.models import RunRecord, RunStatus


def record_run(metrics: Metrics, record: RunRecord) -> None:
    """Count a run that stopped being driven: its outcome, each remediation's result, time to recover.

    A run waiting for an approval is not finished; it is counted when the answer drives it on.
    """
    if record.status is RunStatus.WAITING_APPROVAL or record.status.active:
        return
    metrics.run_finished(record.status.value)
    for action in record.actions:
        if isinstance(action, dict) and action.get("phase") in ("remediation", "rollback"):
            result = action.get("result") if isinstance(action.get("result"), dict) else {}
            metrics.remediation(
                str(action.get("action") or "unknown"), str(result.get("status") or "unknown")
            )
    if record.status is RunStatus.HEALED and record.finished_at is not None:
        metrics.observe_time_to_recover((record.finished_at - record.created_at).total_seconds())
