"""Defaults of the workload kinds (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob) and the
selector a Job gets on create, as kube-apiserver's defaulting and the Job registry strategy set them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Obj = dict[str, Any]
JOB_NAME_LABELS = ("job-name", "batch.kubernetes.io/job-name")
CONTROLLER_UID_LABELS = ("controller-uid", "batch.kubernetes.io/controller-uid")


def _template(spec: Obj, pod_spec: Callable[[Obj], None]) -> None:
    template = spec.get("template")
    if isinstance(template, dict):
        template.setdefault("metadata", {})
        if isinstance(template.get("spec"), dict):
            pod_spec(template["spec"])


def replicaset(obj: Obj, pod_spec: Callable[[Obj], None]) -> None:
    """ReplicaSet defaults."""
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    _template(spec, pod_spec)


def deployment(obj: Obj, pod_spec: Callable[[Obj], None]) -> None:
    """Deployment defaults: RollingUpdate 25%/25%, history 10, progress deadline 600s."""
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    strategy = spec.setdefault("strategy", {"type": "RollingUpdate"})
    if strategy.get("type", "RollingUpdate") == "RollingUpdate":
        strategy["type"] = "RollingUpdate"
        rolling = strategy.setdefault("rollingUpdate", {})
        rolling.setdefault("maxSurge", "25%")
        rolling.setdefault("maxUnavailable", "25%")
    _template(spec, pod_spec)


def statefulset(obj: Obj, pod_spec: Callable[[Obj], None]) -> None:
    """StatefulSet defaults: OrderedReady, RollingUpdate (partition 0), PVC retention Retain."""
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    spec.setdefault("podManagementPolicy", "OrderedReady")
    spec.setdefault("revisionHistoryLimit", 10)
    strategy = spec.setdefault("updateStrategy", {"type": "RollingUpdate"})
    if strategy.get("type", "RollingUpdate") == "RollingUpdate":
        strategy["type"] = "RollingUpdate"
        strategy.setdefault("rollingUpdate", {}).setdefault("partition", 0)
    spec.setdefault("persistentVolumeClaimRetentionPolicy", {"whenDeleted": "Retain", "whenScaled": "Retain"})
    for claim in spec.get("volumeClaimTemplates") or []:
        if isinstance(claim, dict):
            claim.setdefault("apiVersion", "v1")
            claim.setdefault("kind", "PersistentVolumeClaim")
            claim.setdefault("spec", {}).setdefault("volumeMode", "Filesystem")
            claim.setdefault("status", {"phase": "Pending"})
    _template(spec, pod_spec)


def daemonset(obj: Obj, pod_spec: Callable[[Obj], None]) -> None:
    """DaemonSet defaults: RollingUpdate with maxUnavailable 1, maxSurge 0."""
    spec = obj.setdefault("spec", {})
    spec.setdefault("revisionHistoryLimit", 10)
    strategy = spec.setdefault("updateStrategy", {"type": "RollingUpdate"})
    if strategy.get("type", "RollingUpdate") == "RollingUpdate":
        strategy["type"] = "RollingUpdate"
        rolling = strategy.setdefault("rollingUpdate", {})
        rolling.setdefault("maxUnavailable", 1)
        rolling.setdefault("maxSurge", 0)
    _template(spec, pod_spec)


def job_spec(spec: Obj, pod_spec: Callable[[Obj], None]) -> None:
    """JobSpec defaults (also a CronJob's jobTemplate.spec)."""
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1  # a non-parallel Job; with only parallelism set it is a work queue
    spec.setdefault("parallelism", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    spec.setdefault("podReplacementPolicy", "TerminatingOrFailed")
    _template(spec, pod_spec)


def job(obj: Obj, pod_spec: Callable[[Obj], None]) -> None:
    """Job defaults; a Job without labels takes its pod template's."""
    spec = obj.setdefault("spec", {})
    job_spec(spec, pod_spec)
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels")
    meta = obj.setdefault("metadata", {})
    if labels and not meta.get("labels"):
        meta["labels"] = dict(labels)


def cronjob(obj: Obj, pod_spec: Callable[[Obj], None]) -> None:
    """CronJob defaults: Allow, not suspended, history 3 succeeded / 1 failed."""
    spec = obj.setdefault("spec", {})
    spec.setdefault("concurrencyPolicy", "Allow")
    spec.setdefault("suspend", False)
    spec.setdefault("successfulJobsHistoryLimit", 3)
    spec.setdefault("failedJobsHistoryLimit", 1)
    template = spec.setdefault("jobTemplate", {})
    if isinstance(template, dict):
        template.setdefault("metadata", {})
        if isinstance(template.get("spec"), dict):
            job_spec(template["spec"], pod_spec)


def generate_job_selector(job: Obj, uid: str) -> None:
    """What the Job strategy does on create unless `manualSelector`: the controller-uid selector and the
    job-name/controller-uid labels on the pod template (both the legacy and the batch.kubernetes.io keys)."""
    spec = job.setdefault("spec", {})
    if spec.get("manualSelector") is True:
        return
    name = (job.get("metadata") or {}).get("name", "")
    template = spec.setdefault("template", {})
    labels = template.setdefault("metadata", {}).setdefault("labels", {})
    for key in JOB_NAME_LABELS:
        labels.setdefault(key, name)
    for key in CONTROLLER_UID_LABELS:
        labels.setdefault(key, uid)
    selector = spec.get("selector") if isinstance(spec.get("selector"), dict) else {}
    selector.setdefault("matchLabels", {}).setdefault(CONTROLLER_UID_LABELS[1], uid)
    spec["selector"] = selector
    meta = job.setdefault("metadata", {})
    if not meta.get("labels"):
        meta["labels"] = dict(labels)
