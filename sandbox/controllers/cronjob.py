"""The CronJob controller: creates a Job at each scheduled time on the simulated clock.

Schedules are cron expressions (croniter; `@hourly` and friends, `spec.timeZone`, `CRON_TZ=`);
the Job is named `<cronjob>-<scheduled minute since the epoch>` like the real controller's;
concurrencyPolicy Allow / Forbid / Replace; startingDeadlineSeconds; suspend; the
successful/failed history limits; status.active, lastScheduleTime and lastSuccessfulTime.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from sandbox import admission
from sandbox.apiserver.defaults import apply_defaults, prepare_for_create
from sandbox.clock import parse_rfc3339, rfc3339
from sandbox.controllers.base import (
    Key,
    OwnerController,
    Wiring,
    key_of,
    put_status,
)
from sandbox.controllers.events import Source
from sandbox.controllers.job import condition, finished
from sandbox.controllers.podtemplate import owner_reference
from sandbox.resources import CRONJOBS, JOBS
from sandbox.store import ApiError, Obj, clone

SCHEDULED_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp"
_SOURCE = Source("cronjob-controller")
_MAX_MISSED = 100  # the real controller gives up counting missed schedules past 100


def schedule_of(spec: Obj) -> tuple[str, ZoneInfo | None]:
    """(cron expression, time zone) of a CronJob spec; ValueError when it does not parse."""
    expr = str(spec.get("schedule") or "").strip()
    zone_name = spec.get("timeZone")
    if expr.startswith(("CRON_TZ=", "TZ=")):
        zone_name, _, expr = expr.partition("=")[2].partition(" ")
    zone = None
    if zone_name:
        try:
            zone = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {zone_name}") from None
    if not croniter.is_valid(expr):
        raise ValueError(f"unparseable schedule {expr!r}")
    return expr, zone


def most_recent(
    expr: str, zone: ZoneInfo | None, since: float, now: float
) -> tuple[float | None, int, float]:
    """(latest schedule time in (since, now], how many were missed, the next one after now)."""
    tz = zone or UTC
    it = croniter(expr, datetime.fromtimestamp(since, tz))
    latest, missed = None, 0
    while True:
        t = it.get_next(datetime).timestamp()
        if t > now:
            return latest, missed, t
        latest, missed = t, missed + 1
        if missed > _MAX_MISSED:
            nxt = croniter(expr, datetime.fromtimestamp(now, tz)).get_next(datetime).timestamp()
            return croniter(expr, datetime.fromtimestamp(nxt, tz)).get_prev(datetime).timestamp(), missed, nxt


class CronJobController(OwnerController):
    """Reconciles CronJobs into Jobs."""

    name = "cronjob"
    resource = CRONJOBS
    child = JOBS

    def __init__(self, wiring: Wiring) -> None:
        super().__init__(wiring)
        self._seen_finished: set[str] = set()  # job uids already reported

    def reconcile(self, cj: Obj, key: Key) -> None:
        """Reconcile one CronJob."""
        now = self._clock()
        spec = cj.get("spec") or {}
        uid = cj["metadata"]["uid"]
        jobs = [j for k in self._cache.jobs.of(uid) if (j := self._store.find(JOBS, k[0], k[1], copy=False))]
        status = dict(cj.get("status") or {})
        for job in jobs:
            if finished(job) and job["metadata"]["uid"] not in self._seen_finished:
                self._seen_finished.add(job["metadata"]["uid"])
                outcome = "Complete" if condition(job, "Complete") else "Failed"
                message = f"Saw completed job: {job['metadata']['name']}, status: {outcome}"
                self._recorder.emit(cj, "Normal", "SawCompletedJob", message, _SOURCE)
                if outcome == "Complete":
                    done = (job.get("status") or {}).get("completionTime")
                    if done and (not status.get("lastSuccessfulTime") or done > status["lastSuccessfulTime"]):
                        status["lastSuccessfulTime"] = done
        active = [j for j in jobs if not finished(j)]
        self._cleanup(cj, key, [j for j in jobs if finished(j)])
        try:
            expr, zone = schedule_of(spec)
        except ValueError as exc:
            self._recorder.emit(cj, "Warning", "UnparseableSchedule", f"unparseable schedule: {exc}", _SOURCE)
            return
        since = parse_rfc3339(status.get("lastScheduleTime") or cj["metadata"]["creationTimestamp"])
        scheduled, missed, nxt = most_recent(expr, zone, since, now)
        if missed > _MAX_MISSED:
            message = "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check "
            message += "clock skew"
            self._recorder.emit(cj, "Warning", "TooManyMissedTimes", message, _SOURCE)
        deadline = spec.get("startingDeadlineSeconds")
        if scheduled is not None and not spec.get("suspend"):
            too_late = deadline is not None and now - scheduled > int(deadline)
            if too_late:
                self._recorder.emit(
                    cj, "Warning", "MissSchedule",
                    f"Missed scheduled time to start a job: {rfc3339(scheduled)}", _SOURCE,
                )  # fmt: skip
            else:
                active = self._start(cj, key, scheduled, active)
            status["lastScheduleTime"] = rfc3339(scheduled)
        status["active"] = [
            {"kind": "Job", "namespace": key[0], "name": j["metadata"]["name"], "uid": j["metadata"]["uid"],
             "apiVersion": "batch/v1", "resourceVersion": j["metadata"].get("resourceVersion", "")}
            for j in sorted(active, key=lambda j: j["metadata"]["name"])
        ]  # fmt: skip
        if not status["active"]:
            del status["active"]
        self._timers.at(nxt, self.name, key)

        put_status(self._store, CRONJOBS, key, status, uid)

    def _start(self, cj: Obj, key: Key, scheduled: float, active: list[Obj]) -> list[Obj]:
        policy = (cj.get("spec") or {}).get("concurrencyPolicy", "Allow")
        name = f"{key[1]}-{int(scheduled // 60)}"
        if any(j["metadata"]["name"] == name for j in active):
            return active
        if active and policy == "Forbid":
            self._recorder.emit(
                cj, "Normal", "JobAlreadyActive", "Not starting job because prior execution is running and "
                "concurrency policy is Forbid", _SOURCE,
            )  # fmt: skip
            return active
        if active and policy == "Replace":
            for old_job in active:
                self.delete_owned(cj, JOBS, old_job, "job ", _SOURCE)
            active = []
        template = clone((cj.get("spec") or {}).get("jobTemplate") or {})
        tmeta = template.get("metadata") or {}
        job: Obj = {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {
                "name": name,
                "namespace": key[0],
                "labels": dict(tmeta.get("labels") or {}),
                "annotations": {**(tmeta.get("annotations") or {}), SCHEDULED_ANNOTATION: rfc3339(scheduled)},
                "ownerReferences": [owner_reference(cj)],
            },
            "spec": template.get("spec") or {},
        }
        uid = self._store.new_uid()
        apply_defaults("Job", job)
        prepare_for_create("Job", job, uid)
        try:
            admission.check(self._store, self._registry, JOBS, job)
            created = self._store.create(JOBS, job, uid=uid)
        except ApiError as err:
            if err.code == 409:
                return active
            self._recorder.emit(cj, "Warning", "FailedCreate", f"Error creating job: {err.message}", _SOURCE)
            return active
        self._cache.jobs.observe(key_of(created), cj["metadata"]["uid"], deleted=False)
        self._recorder.emit(cj, "Normal", "SuccessfulCreate", f"Created job {name}", _SOURCE)
        return [*active, created]

    def _cleanup(self, cj: Obj, key: Key, done: list[Obj]) -> None:
        spec = cj.get("spec") or {}
        for outcome, limit in (("Complete", spec.get("successfulJobsHistoryLimit", 3)),
                               ("Failed", spec.get("failedJobsHistoryLimit", 1))):  # fmt: skip
            if limit is None:
                continue
            same = sorted(
                (j for j in done if condition(j, outcome)),
                key=lambda j: (j["metadata"].get("creationTimestamp", ""), j["metadata"]["name"]),
            )
            for job in same[: max(len(same) - int(limit), 0)]:
                self.delete_owned(cj, JOBS, job, "job ", _SOURCE)
