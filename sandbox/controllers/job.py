"""The Job controller: runs pods to completion, retries failures within backoffLimit, enforces
activeDeadlineSeconds, and reports it all in status and conditions like kube-controller-manager.

- `completions`/`parallelism` (NonIndexed and Indexed); a work queue when only parallelism is set;
- restartPolicy Never: a failed pod is replaced, after a back-off of 10s doubling (capped at 6m),
  until more than `backoffLimit` pods failed; OnFailure: the kubelet restarts the container and the
  Job fails once the restarts of its running pods reach `backoffLimit`;
- Failed (BackoffLimitExceeded / DeadlineExceeded, active pods deleted) or Complete, with events;
- suspend, and ttlSecondsAfterFinished (the finished Job is deleted, its pods with it).
"""

from __future__ import annotations

import random

from sandbox.clock import parse_rfc3339, rfc3339
from sandbox.controllers.base import (
    Key,
    OwnerController,
    Wiring,
    put_status,
)
from sandbox.controllers.events import Source
from sandbox.controllers.podtemplate import pod_from_template
from sandbox.controllers.replicaset import SUFFIX_ALPHABET, is_ready
from sandbox.resources import JOBS, PODS
from sandbox.store import ApiError, Obj, WatchEvent

POD_FAILURE_BACKOFF = 10.0
MAX_POD_FAILURE_BACKOFF = 360.0
INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index"
_SOURCE = Source("job-controller")


def condition(job: Obj, type_: str) -> bool:
    """Whether the Job has condition `type_` True."""
    return any(
        c.get("type") == type_ and c.get("status") == "True"
        for c in (job.get("status") or {}).get("conditions") or []
    )


def finished(job: Obj) -> bool:
    """Complete or Failed."""
    return condition(job, "Complete") or condition(job, "Failed")


class JobController(OwnerController):
    """Reconciles Jobs into pods."""

    name = "job"
    resource = JOBS

    def __init__(self, wiring: Wiring, rng: random.Random) -> None:
        super().__init__(wiring)
        self._rng = rng
        self._counted: dict[str, dict[str, str]] = {}  # job uid -> pod uid -> Succeeded/Failed
        self._last_failure: dict[str, tuple[float, int]] = {}  # job uid -> (time, consecutive failures)

    def observe(self, event: WatchEvent) -> None:
        """A Job changed, or one of its pods did."""
        if event.key == JOBS.key and event.type == "DELETED":
            uid = event.obj["metadata"].get("uid", "")
            self._counted.pop(uid, None)
            self._last_failure.pop(uid, None)
        super().observe(event)

    def reconcile(self, job: Obj, key: Key) -> None:
        """Reconcile one Job."""
        now = self._clock()
        if finished(job):
            self._expire(job, key, now)
            return
        spec, status = job.get("spec") or {}, dict(job.get("status") or {})
        uid = job["metadata"]["uid"]
        pods = [p for k in self._cache.pods.of(uid) if (p := self._store.find(PODS, k[0], k[1], copy=False))]
        active = [p for p in pods if _active(p)]
        counted = self._counted.setdefault(uid, {})
        new_failures = 0
        for p in pods:
            phase = (p.get("status") or {}).get("phase")
            pod_uid = p["metadata"]["uid"]
            if phase in ("Succeeded", "Failed") and pod_uid not in counted:
                counted[pod_uid] = phase
                if phase == "Failed":
                    new_failures += 1
                else:
                    self._last_failure.pop(uid, None)
        if new_failures:
            _, streak = self._last_failure.get(uid, (now, 0))
            self._last_failure[uid] = (now, streak + new_failures)
        # Finished pods are remembered by uid, so a pod deleted after it finished still counts.
        succeeded = max(
            int(status.get("succeeded") or 0), sum(1 for ph in counted.values() if ph == "Succeeded")
        )
        failed = max(int(status.get("failed") or 0), sum(1 for ph in counted.values() if ph == "Failed"))
        if spec.get("suspend"):
            self._delete_pods(job, active, key)
            self._write(key, job, status, active=[], succeeded=succeeded, failed=failed, suspended=True)
            return
        start = status.get("startTime") or rfc3339(now)
        status["startTime"] = start
        deadline = spec.get("activeDeadlineSeconds")
        if deadline is not None and now - parse_rfc3339(start) >= int(deadline):
            self._fail(job, key, status, active, succeeded, failed, "DeadlineExceeded",
                       "Job was active longer than specified deadline", now)  # fmt: skip
            return
        if self._backoff_exceeded(spec, active, failed):
            self._fail(job, key, status, active, succeeded, failed, "BackoffLimitExceeded",
                       "Job has reached the specified backoff limit", now)  # fmt: skip
            return
        completions = spec.get("completions")
        indexed = spec.get("completionMode") == "Indexed"
        done_indexes = (
            _indexes(p for p in pods if counted.get(p["metadata"]["uid"]) == "Succeeded")
            if indexed
            else set()
        )
        if indexed and completions is not None:
            succeeded = len(done_indexes)
        if (completions is not None and succeeded >= int(completions)) or (
            completions is None and succeeded >= 1 and not active
        ):
            self._complete(job, key, status, active, succeeded, failed, now)
            return
        parallelism = int(spec.get("parallelism", 1))
        if completions is not None:
            want = min(parallelism, int(completions) - succeeded)
        else:
            want = parallelism if succeeded == 0 else 0
        if len(active) < want:
            last, streak = self._last_failure.get(uid, (0.0, 0))
            delay = min(POD_FAILURE_BACKOFF * 2 ** (streak - 1), MAX_POD_FAILURE_BACKOFF) if streak else 0.0
            if now < last + delay:
                self._timers.at(last + delay, self.name, key)
            else:
                active += self._create(job, want - len(active), indexed, completions, done_indexes, active)
        elif len(active) > want:
            extra = sorted(active, key=lambda p: p["metadata"].get("creationTimestamp", ""))[want:]
            self._delete_pods(job, extra, key)
            active = [p for p in active if p not in extra]
        if deadline is not None:
            self._timers.at(parse_rfc3339(start) + int(deadline), self.name, key)
        self._write(key, job, status, active=active, succeeded=succeeded, failed=failed)

    # --- outcomes ---------------------------------------------------------------------------

    def _backoff_exceeded(self, spec: Obj, active: list[Obj], failed: int) -> bool:
        limit = int(spec.get("backoffLimit", 6))
        policy = (((spec.get("template") or {}).get("spec") or {}).get("restartPolicy")) or "Never"
        if policy == "OnFailure":
            restarts = sum(
                int(cs.get("restartCount") or 0)
                for p in active
                for cs in [
                    *((p.get("status") or {}).get("initContainerStatuses") or []),
                    *((p.get("status") or {}).get("containerStatuses") or []),
                ]
            )
            return restarts > 0 if limit == 0 else restarts >= limit
        return failed > limit

    def _fail(
        self, job: Obj, key: Key, status: Obj, active: list[Obj], succeeded: int, failed: int, reason: str,
        message: str, now: float,
    ) -> None:  # fmt: skip
        self._delete_pods(job, active, key)
        failed += len(active) if reason == "DeadlineExceeded" else 0
        self._recorder.emit(job, "Warning", reason, message, _SOURCE)
        conditions = [_cond("Failed", now, reason, message)]
        self._write(key, job, status, active=[], succeeded=succeeded, failed=failed, conditions=conditions)

    def _complete(
        self, job: Obj, key: Key, status: Obj, active: list[Obj], succeeded: int, failed: int, now: float
    ) -> None:
        self._delete_pods(job, active, key)
        self._recorder.emit(job, "Normal", "Completed", "Job completed", _SOURCE)
        status["completionTime"] = rfc3339(now)
        conditions = [_cond("Complete", now)]
        self._write(key, job, status, active=[], succeeded=succeeded, failed=failed, conditions=conditions)
        self._expire(self._store.find(JOBS, key[0], key[1], copy=False) or job, key, now)

    def _expire(self, job: Obj, key: Key, now: float) -> None:
        ttl = (job.get("spec") or {}).get("ttlSecondsAfterFinished")
        if ttl is None:
            return
        ended = next(
            (c.get("lastTransitionTime") for c in (job.get("status") or {}).get("conditions") or []
             if c.get("type") in ("Complete", "Failed") and c.get("status") == "True"),
            None,
        )  # fmt: skip
        if not ended:
            return
        due = parse_rfc3339(ended) + int(ttl)
        if now < due:
            self._timers.at(due, self.name, key)
            return
        try:
            self._store.delete(JOBS, key[0], key[1])
        except ApiError:
            return

    # --- pods -------------------------------------------------------------------------------

    def _create(
        self, job: Obj, count: int, indexed: bool, completions: int | None, done: set[int], active: list[Obj]
    ) -> list[Obj]:
        template = (job.get("spec") or {}).get("template") or {}
        name = job["metadata"]["name"]
        busy = done | _indexes(active)
        free = [i for i in range(int(completions or 0)) if i not in busy] if indexed else []
        created = []
        for n in range(min(count, 500)):
            suffix = "".join(self._rng.choice(SUFFIX_ALPHABET) for _ in range(5))
            labels: dict[str, str] = {}
            annotations: dict[str, str] = {}
            overrides: dict = {}
            pod_name = f"{name}-{suffix}"
            if indexed:
                if n >= len(free):
                    break
                index = str(free[n])
                pod_name = f"{name}-{index}-{suffix}"
                labels[INDEX_ANNOTATION] = annotations[INDEX_ANNOTATION] = index
                overrides["hostname"] = f"{name}-{index}"
            pod = pod_from_template(
                template, job, name=pod_name, labels=labels, annotations=annotations, spec_overrides=overrides
            )
            if indexed:
                for c in pod["spec"].get("containers") or []:
                    c.setdefault("env", []).append({"name": "JOB_COMPLETION_INDEX", "value": index})
            try:
                created.append(self.create_owned_pod(job, pod, _SOURCE))
            except ApiError:
                break
        return created

    def _delete_pods(self, job: Obj, pods: list[Obj], key: Key) -> None:
        for pod in pods:
            self.delete_owned(job, PODS, pod, "pod: ", _SOURCE)

    def _write(
        self, key: Key, job: Obj, status: Obj, *, active: list[Obj], succeeded: int, failed: int,
        conditions: list[Obj] | None = None, suspended: bool = False,
    ) -> None:  # fmt: skip
        status.update(
            active=len(active),
            succeeded=succeeded,
            failed=failed,
            ready=sum(1 for p in active if is_ready(p)),
            terminating=0,
            uncountedTerminatedPods={},
        )
        for field in ("active", "succeeded", "failed"):
            if not status[field]:
                del status[field]
        old = [c for c in status.get("conditions") or [] if c.get("type") != "Suspended"]
        if suspended:
            old.append(_cond("Suspended", self._clock(), "JobSuspended", "Job suspended"))
        status["conditions"] = old + (conditions or [])
        if not status["conditions"]:
            del status["conditions"]
        uid = job["metadata"]["uid"]

        put_status(self._store, JOBS, key, status, uid)


def _active(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed") and not pod["metadata"].get(
        "deletionTimestamp"
    )


def _indexes(pods: object) -> set[int]:
    out = set()
    for p in pods:  # type: ignore[attr-defined]
        value = (p["metadata"].get("annotations") or {}).get(INDEX_ANNOTATION)
        if value is not None and str(value).isdigit():
            out.add(int(value))
    return out


def _cond(type_: str, now: float, reason: str = "", message: str = "") -> Obj:
    cond: Obj = {
        "type": type_,
        "status": "True",
        "lastProbeTime": rfc3339(now),
        "lastTransitionTime": rfc3339(now),
    }
    if reason:
        cond["reason"] = reason
    if message:
        cond["message"] = message
    return cond
