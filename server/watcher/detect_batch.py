"""Anomalies of run-to-completion work and storage: a failed Job (and so a CronJob whose last run
failed) and a PersistentVolumeClaim left Pending. Pure functions over API objects, like `detect`.

A Job's pods end in `Error` with phase Failed, which is not a pod anomaly on its own (a Job retries
them); the Job's `Failed` condition is the verdict (`BackoffLimitExceeded`, `DeadlineExceeded`). A
Job created by a CronJob is reported against the CronJob: its next run will fail the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from agent.domain import WorkloadRef
from server.watcher.detect import NOTHING, Detection, DetectPolicy, Finding, condition, one_line, parse_time
from tools.kubernetes.objects import controller_of

JOB_FAILED = "JobFailed"
CLAIM_PENDING = "ClaimPending"


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _meta(obj: Mapping[str, Any]) -> tuple[str, str]:
    metadata = obj.get("metadata")
    if not isinstance(metadata, Mapping):
        return "", ""
    namespace, name = metadata.get("namespace"), metadata.get("name")
    return (namespace if isinstance(namespace, str) else ""), (name if isinstance(name, str) else "")


def detect_job(job: Mapping[str, Any]) -> Detection:
    """A Job whose `Failed` condition is True: aimed at its CronJob when one created it."""
    if not isinstance(job, Mapping):
        return NOTHING
    namespace, name = _meta(job)
    failed = condition(job, "Failed")
    if not namespace or not name or failed is None or failed.get("status") != "True":
        return NOTHING
    reason = one_line(failed.get("reason")) or "Failed"
    detail = one_line(failed.get("message"))
    owner = controller_of(job)
    if owner is not None and owner.get("kind") == "CronJob" and isinstance(owner.get("name"), str):
        target = WorkloadRef(namespace=namespace, kind="CronJob", name=owner["name"])
        message = f"its Job {name} failed: {reason}" + (f": {detail}" if detail else "")
    else:
        target = WorkloadRef(namespace=namespace, kind="Job", name=name)
        message = f"Job failed: {reason}" + (f": {detail}" if detail else "")
    return Detection((Finding(JOB_FAILED, message, target),))


def detect_claim(
    claim: Mapping[str, Any], now: datetime, policy: DetectPolicy, waiting_for_consumer: bool = False
) -> Detection:
    """A PersistentVolumeClaim still Pending after the grace period (from its creation).

    A claim of a `WaitForFirstConsumer` class is Pending by design until a pod uses it; the caller
    says so with `waiting_for_consumer` (the PV controller's `WaitForFirstConsumer` event).
    """
    if not isinstance(claim, Mapping) or waiting_for_consumer:
        return NOTHING
    namespace, name = _meta(claim)
    status = _mapping(claim.get("status"))
    if not namespace or not name or status.get("phase") != "Pending":
        return NOTHING
    metadata = _mapping(claim.get("metadata"))
    created = parse_time(metadata.get("creationTimestamp"))
    if created is None:
        return NOTHING
    due = created + timedelta(seconds=policy.grace_seconds)
    if now < due:
        return Detection(recheck_at=due)
    spec = _mapping(claim.get("spec"))
    storage_class = spec.get("storageClassName")
    which = (
        f"storage class {storage_class!r}" if isinstance(storage_class, str) else "the default storage class"
    )
    waited = int((now - created).total_seconds())
    target = WorkloadRef(namespace=namespace, kind="PersistentVolumeClaim", name=name)
    return Detection((Finding(CLAIM_PENDING, f"claim Pending for {waited}s ({which})", target),))
