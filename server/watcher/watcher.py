"""The watcher: watch streams -> detection -> owner resolution -> storm folding -> `on_incident`.

Threads: one per stream (pods, deployments, Argo CD Applications, Flux Kustomizations,
ParamedicWatches, and namespaces when a namespace selector is set), one for rechecks (grace
periods and cooldowns ending) and one dispatcher calling `on_incident`. The hot path (watch event
-> incident queued -> dispatcher wakes) never sleeps.

The caller says when the run an incident started has ended: `run_finished(fingerprint)`. The
workload's cooldown starts then; anything seen for it meanwhile is looked at again when the
cooldown ends, so a failure that outlives its run is reported again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from kubernetes import client as k8s

from agent.config import ScopeSettings
from agent.domain import Incident, Trigger, WorkloadRef
from server.watcher.detect import (
    Detection,
    DetectPolicy,
    Finding,
    detect_application,
    detect_deployment,
    detect_kustomization,
    detect_pod,
    restart_finding,
    sort_findings,
)
from server.watcher.detect_batch import detect_claim, detect_job
from server.watcher.detect_hpa import detect_hpa
from server.watcher.evictions import EvictionFold, eviction_order
from server.watcher.fold import Folder, Outcome
from server.watcher.options import WatcherOptions, WatcherStats
from server.watcher.owner_resolver import OwnerResolver, Reader, kube_reader
from server.watcher.rechecks import Rechecks
from server.watcher.restarts import RestartWindow
from server.watcher.rollout_errors import BASELINE, CHECK, LogReader, RolloutErrors, kube_log_reader
from server.watcher.scope import Scope, parse_watch
from server.watcher.service_watch import NamespaceIndex, Neighbours, edge_detection, unserved_zero
from server.watcher.streams import Backoff, Resource, ResourceStream, StreamSpec
from tools.kubernetes.client import KubeClient
from tools.result import NO_RETRY

log = logging.getLogger(__name__)

Obj = dict[str, Any]
Key = tuple[str, str, str]  # (stream kind, namespace, name)
Clock = Callable[[], datetime]

POD, DEPLOYMENT, APPLICATION, KUSTOMIZATION = "Pod", "Deployment", "Application", "Kustomization"
WATCH, NAMESPACE, INGRESS = "ParamedicWatch", "Namespace", "Ingress"
JOB, CLAIM, SERVICE, HPA = "Job", "PersistentVolumeClaim", "Service", "HorizontalPodAutoscaler"
CONFIGMAP = "ConfigMap"  # read for the hosts workloads reach (dependants of a Service); never Secrets
_NAMESPACED_STREAMS = (POD, DEPLOYMENT, JOB, CLAIM, SERVICE, HPA, CONFIGMAP, INGRESS)
ARGO_APPLICATIONS = Resource("argoproj.io", "v1alpha1", "applications")
FLUX_KUSTOMIZATIONS = Resource("kustomize.toolkit.fluxcd.io", "v1", "kustomizations")
PARAMEDIC_WATCHES = Resource("paramedic.dev", "v1alpha1", "paramedicwatches")
SOURCE_LABEL = "paramedic.dev/source"
CONTAINER_LABEL = "paramedic.dev/container"
__all__ = ["Watcher", "WatcherOptions", "WatcherStats"]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _meta(obj: Obj) -> tuple[str, str]:
    metadata = meta if isinstance(meta := obj.get("metadata"), dict) else {}
    namespace, name = metadata.get("namespace"), metadata.get("name")
    return (namespace if isinstance(namespace, str) else ""), (name if isinstance(name, str) else "")


class Watcher:
    """Watches a cluster and hands incidents to `on_incident` (on the dispatcher thread)."""

    def __init__(
        self,
        api_client: k8s.ApiClient,
        scope: Scope | ScopeSettings | None,
        on_incident: Callable[[Incident], None],
        clock: Clock = _utc_now,
        *,
        options: WatcherOptions | None = None,
        reader: Reader | None = None,
        after_dispatch: Callable[[Incident], Any] | None = None,
        on_repeat: Callable[[Incident], Any] | None = None,
        logs: LogReader | None = None,
    ) -> None:
        """`reader` and `logs` override how owners and pod logs are read (default: the API);
        `after_dispatch` runs after
        `on_incident` on the dispatcher thread, e.g. `server.crd.AnomalyReporter` recording Events;
        `on_repeat` gets, on the dispatcher thread, each re-detection held back because its run is
        active or cooling down (at most one per fingerprint per dispatcher turn)."""
        self._on_repeat = on_repeat
        self._api = api_client
        self.scope = scope if isinstance(scope, Scope) else Scope(scope)
        self._on_incident = on_incident
        self._after_dispatch = after_dispatch
        self._clock = clock
        self.options = options or WatcherOptions()
        settings = self.scope.settings
        self._policy = DetectPolicy(
            grace_seconds=settings.grace_period_seconds,
            restart_threshold=settings.restart_threshold,
            restart_window_seconds=settings.restart_window_seconds,
        )
        self._restarts = RestartWindow(settings.restart_window_seconds)
        self._evictions = EvictionFold(settings.restart_window_seconds)  # one incident per node
        # A short timeout and no retries: an owner read sits on a stream thread, and the naming
        # fallback in OwnerResolver answers well enough when the read fails.
        self._owners = OwnerResolver(
            reader or kube_reader(KubeClient(api_client, timeout=3.0, retry=NO_RETRY))
        )
        self.folder = Folder(
            clock,
            capacity=self.options.queue_capacity,
            cooldown_seconds=self.options.cooldown_seconds,
            retry_seconds=self.options.retry_seconds,
        )
        self._rechecks = Rechecks(clock, self._recheck, max_sleep=self.options.recheck_max_sleep)
        self._objects: dict[Key, Obj] = {}
        self._index = NamespaceIndex()  # keys by namespace, to judge a Service from its pods
        self._rollouts = RolloutErrors(
            lambda ns: [o for k in self._index.keys(ns, POD) if (o := self._objects.get(k)) is not None],
            logs or kube_log_reader(KubeClient(api_client, timeout=5.0, retry=NO_RETRY)),
            self.options.rollout_errors,
        ) if self.options.rollout_errors is not None else None  # fmt: skip
        self._unavailable_since: dict[Key, datetime] = {}
        self._deferred: dict[WorkloadRef, set[Key]] = {}
        self._lock = threading.RLock()
        self._streams: list[ResourceStream] = []
        self._dispatcher: threading.Thread | None = None
        self._stopping = threading.Event()
        self._callback_errors = 0

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        """Start every stream, the rechecks and the dispatcher; returns at once."""
        if self._dispatcher is not None:
            raise RuntimeError("the watcher is already started")
        self._dispatcher = threading.Thread(target=self._dispatch, name="watch-dispatch", daemon=True)
        self._dispatcher.start()
        self._rechecks.start()
        for spec in self.stream_specs():
            stream = ResourceStream(
                spec,
                self,
                self._api,
                timeout_seconds=self.options.watch_timeout_seconds,
                connect_timeout=self.options.connect_timeout,
                backoff=Backoff(self.options.backoff_initial, self.options.backoff_max),
            )
            self._streams.append(stream)
            stream.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop streams, rechecks and dispatcher and wait for their threads (at most ~`timeout`)."""
        self._stopping.set()
        for stream in self._streams:
            stream.stop()
        self._rechecks.stop(timeout)
        self.folder.close()
        for stream in self._streams:
            if not stream.join(timeout):
                log.warning("stream %s did not stop within %.0fs", stream.spec.name, timeout)
        if self._dispatcher is not None:
            self._dispatcher.join(timeout)

    def __enter__(self) -> Watcher:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def run_finished(self, fingerprint_: str, until: datetime | None = None) -> None:
        """A run for this fingerprint ended: start the cooldown (until `until`, when the store says
        when it ends), look again at what waited for it."""
        finished = self.folder.run_finished(fingerprint_, until)
        if finished is None:
            return
        with self._lock:
            waiting = self._deferred.pop(finished.target, set())
        for key in waiting:
            self._rechecks.schedule(key, finished.cooldown_until)

    def backlog(self) -> int:
        """Work seen but not done yet: incidents waiting for the dispatcher, plus rechecks already due
        (a caller deciding the cluster is quiet must first see this at 0)."""
        pending = self._rollouts.pending() if self._rollouts is not None else 0  # settle windows
        return len(self.folder) + self._rechecks.overdue(self._clock()) + pending

    def stats(self) -> WatcherStats:
        """Fold counters and each stream's state."""
        return WatcherStats(self.folder.stats(), [s.state for s in self._streams], self._callback_errors)

    def stream_specs(self) -> list[StreamSpec]:
        """The streams this scope needs (custom resources are confirmed by discovery when they start)."""
        core, apps, batch = k8s.CoreV1Api(self._api), k8s.AppsV1Api(self._api), k8s.BatchV1Api(self._api)
        custom, autoscaling = k8s.CustomObjectsApi(self._api), k8s.AutoscalingV2Api(self._api)
        net = k8s.NetworkingV1Api(self._api)
        # (plural, kind, namespaced list, all-namespaces list)
        workloads = (
            ("pods", POD, core.list_namespaced_pod, core.list_pod_for_all_namespaces),
            ("deployments", DEPLOYMENT, apps.list_namespaced_deployment,
             apps.list_deployment_for_all_namespaces),
            ("jobs", JOB, batch.list_namespaced_job, batch.list_job_for_all_namespaces),
            ("persistentvolumeclaims", CLAIM, core.list_namespaced_persistent_volume_claim,
             core.list_persistent_volume_claim_for_all_namespaces),
            ("services", SERVICE, core.list_namespaced_service, core.list_service_for_all_namespaces),
            ("configmaps", CONFIGMAP, core.list_namespaced_config_map,
             core.list_config_map_for_all_namespaces),
            ("horizontalpodautoscalers", HPA, autoscaling.list_namespaced_horizontal_pod_autoscaler,
             autoscaling.list_horizontal_pod_autoscaler_for_all_namespaces),
            ("ingresses", INGRESS, net.list_namespaced_ingress, net.list_ingress_for_all_namespaces),
        )  # fmt: skip
        specs: list[StreamSpec] = []
        namespaces = self.scope.watched_namespaces
        for plural, kind, namespaced, everywhere in workloads:
            if namespaces:
                specs.extend(StreamSpec(f"{plural}/{ns}", kind, namespaced, (ns,)) for ns in namespaces)
            else:
                specs.append(StreamSpec(plural, kind, everywhere))
        if self.scope.needs_namespace_labels:
            specs.append(StreamSpec("namespaces", NAMESPACE, core.list_namespace))
        for enabled, resource, kind in (
            (self.options.argo, ARGO_APPLICATIONS, APPLICATION),
            (self.options.flux, FLUX_KUSTOMIZATIONS, KUSTOMIZATION),
            (self.options.paramedic_watches, PARAMEDIC_WATCHES, WATCH),
        ):
            if enabled:
                args = (resource.group, resource.version, resource.plural)
                specs.append(
                    StreamSpec(resource.plural, kind, custom.list_cluster_custom_object, args, resource)
                )
        return specs

    # -- stream handler --------------------------------------------------------------------------

    def on_list(self, spec: StreamSpec, items: list[Obj]) -> None:
        """A full listing: forget what is gone (deletes missed while disconnected), evaluate the rest."""
        listed = {(spec.kind, *_meta(item)) for item in items}
        namespace = spec.args[0] if spec.args and spec.kind in _NAMESPACED_STREAMS else None
        with self._lock:
            stale = [
                key
                for key in self._objects
                if key[0] == spec.kind and key not in listed and (namespace is None or key[1] == namespace)
            ]
        for key in stale:
            self._forget(key)
        for item in sorted(items, key=eviction_order) if spec.kind == POD else items:
            self.on_event(spec, "ADDED", item)
        self._index.mark_listed(spec.kind, namespace)
        if spec.kind in (POD, DEPLOYMENT, CONFIGMAP):  # Services waited for this listing
            self._recheck_services(None)

    def on_event(self, spec: StreamSpec, event_type: str, obj: Obj) -> None:
        """One object changed: remember it and evaluate it."""
        namespace, name = _meta(obj)
        if not name:
            return
        key: Key = (spec.kind, namespace, name)
        if event_type == "DELETED":
            self._forget(key, obj)
            return
        with self._lock:
            self._objects[key] = obj
        self._index.add(key)
        self._evaluate(key, obj)
        if spec.kind in (POD, DEPLOYMENT):
            self._recheck_services(namespace)

    # -- evaluation ------------------------------------------------------------------------------

    def _evaluate(self, key: Key, obj: Obj) -> None:
        kind = key[0]
        if kind == POD:
            self._evaluate_pod(key, obj)
        elif kind == DEPLOYMENT:
            self._evaluate_deployment(key, obj)
        elif kind == JOB:
            self._offer_all(key, detect_job(obj))
        elif kind == CLAIM:
            self._evaluate_timed(key, detect_claim(obj, self._clock(), self._policy))
        elif kind in (SERVICE, INGRESS):
            self._evaluate_service(key, obj)
        elif kind == HPA:
            self._evaluate_timed(key, detect_hpa(obj, self._clock(), self._policy))
        elif kind in (APPLICATION, KUSTOMIZATION):
            self._offer_all(key, (detect_application if kind == APPLICATION else detect_kustomization)(obj))
        elif kind == WATCH:
            self._update_watch(obj)
        elif kind == NAMESPACE:
            self._update_namespace(key[2], obj)

    def _evaluate_pod(self, key: Key, pod: Obj) -> None:
        if not self.scope.namespace_relevant(key[1]):
            return
        now = self._clock()
        restarts = self._restarts.observe(pod, now)
        detection = detect_pod(pod, now, self._policy)
        if detection.recheck_at is not None:
            self._rechecks.schedule(key, detection.recheck_at)
        if not detection.findings and restarts < 1:
            return
        target = self._owners.workload_of(pod)
        if target is None or not self.scope.in_scope(target):
            return
        target = self._evictions.subject(pod, target, detection.findings, now)
        findings = list(detection.findings)
        policy = self._policy
        threshold = self.scope.restart_threshold(target)
        if threshold != policy.restart_threshold:
            policy = DetectPolicy(policy.grace_seconds, threshold, policy.restart_window_seconds)
        frequent = restart_finding(restarts, policy)
        if frequent is not None:
            findings.append(frequent)
        for finding in sort_findings(findings):
            self._offer(key, target, finding, now)

    def _evaluate_deployment(self, key: Key, deployment: Obj) -> None:
        target = WorkloadRef(namespace=key[1], kind=DEPLOYMENT, name=key[2]) if key[1] else None
        if target is None or not self.scope.in_scope(target):
            return
        now = self._clock()
        unavailable = (deployment.get("status") or {}).get("unavailableReplicas")
        with self._lock:
            if isinstance(unavailable, int) and unavailable > 0:
                first_seen = self._unavailable_since.setdefault(key, now)
            else:
                self._unavailable_since.pop(key, None)
                first_seen = None
        detection = detect_deployment(deployment, now, self._policy, first_seen)
        detection = unserved_zero(deployment, self._neighbours(key[1]), now, detection)
        for check in self._rollouts.observe(key, deployment, now) if self._rollouts is not None else ():
            self._rechecks.schedule(*check)  # a baseline to read, errors to judge after the rollout
        if detection.recheck_at is not None:
            self._rechecks.schedule(key, detection.recheck_at)
        for finding in detection.findings:
            self._offer(key, target, finding, now)

    def _evaluate_service(self, key: Key, obj: Obj) -> None:  # a Service or an Ingress
        around, now = self._neighbours(key[1]), self._clock()
        self._evaluate_timed(key, edge_detection(key[0], obj, around, now, self._policy))

    def _neighbours(self, namespace: str) -> Neighbours:
        # A dict read is atomic and the index locks its keys: no lock of ours is needed to read them.
        return Neighbours(namespace, self._index, self._objects.get)

    def _recheck_services(self, namespace: str | None) -> None:
        """Pods or Deployments changed (in a namespace, or all): Services may gain or lose endpoints."""
        keys = self._index.of_kind(SERVICE) if namespace is None else self._index.keys(namespace, SERVICE)
        for key in keys:
            self._rechecks.schedule(key, self._clock())

    def _evaluate_timed(self, key: Key, detection: Detection) -> None:
        if not self.scope.namespace_relevant(key[1]):
            return
        if detection.recheck_at is not None:
            self._rechecks.schedule(key, detection.recheck_at)
        self._offer_all(key, detection)

    def _offer_all(self, key: Key, detection: Detection) -> None:
        now = self._clock()
        for finding in detection.findings:
            if finding.target is not None and self.scope.in_scope(finding.target):
                self._offer(key, finding.target, finding, now)

    def _offer(self, key: Key, target: WorkloadRef, finding: Finding, now: datetime) -> None:
        labels = {**dict(finding.labels), SOURCE_LABEL: f"{key[0]}/{key[2]}"}
        if finding.container:
            labels[CONTAINER_LABEL] = finding.container
        watch = self.scope.target_of(target)
        if watch is not None:
            labels.update(watch.labels())
        incident = Incident.new(
            target, Trigger.WATCHER, finding.reason, summary=finding.message, started_at=now, labels=labels
        )
        offer = self.folder.offer(incident)
        if offer.outcome in (Outcome.QUEUED, Outcome.FOLDED, Outcome.MERGED):
            with self._lock:  # looked at again when the run ends, in case it outlives the run
                self._deferred.setdefault(target, set()).add(key)
        if offer.retry_at is not None:
            self._rechecks.schedule(key, offer.retry_at)

    def _hand_on_repeats(self) -> None:
        repeats = self.folder.take_repeats()
        if self._on_repeat is None:
            return
        for repeat in repeats:
            try:
                self._on_repeat(repeat)
            except Exception:  # counting a repeat is best effort; the watcher goes on
                log.exception("handing on a re-detection of %s (%s) failed", repeat.target, repeat.reason)

    def _recheck(self, key: Key) -> None:
        if key[0] in (BASELINE, CHECK) and self._rollouts is not None:
            workload, now = (DEPLOYMENT, key[1], key[2]), self._clock()
            finding, again = self._rollouts.due(key, self._objects.get(workload), now)
            if again is not None:
                self._rechecks.schedule(key, again)
            if finding is not None and finding.target is not None and self.scope.in_scope(finding.target):
                self._offer(workload, finding.target, finding, now)
            return
        with self._lock:
            obj = self._objects.get(key)
        if obj is not None:
            self._evaluate(key, obj)

    def _forget(self, key: Key, obj: Obj | None = None) -> None:
        with self._lock:
            old = self._objects.pop(key, None)
            self._unavailable_since.pop(key, None)
        self._index.discard(key)
        if key[0] in (POD, DEPLOYMENT):
            self._recheck_services(key[1])
        self._rechecks.cancel(key)
        if key[0] == DEPLOYMENT and self._rollouts is not None:
            self._rollouts.forget(key)
            self._rechecks.cancel((BASELINE, *key[1:]))
            self._rechecks.cancel((CHECK, *key[1:]))
        gone = obj or old or {}
        if key[0] == POD:
            uid = (gone.get("metadata") or {}).get("uid")
            if isinstance(uid, str):
                self._restarts.forget(uid)
        elif key[0] == WATCH:
            dropped = self.scope.drop_watch(key[1], key[2])
            if dropped is not None:
                log.info(
                    "ParamedicWatch %s/%s deleted: %s no longer targeted", key[1], key[2], dropped.target
                )
        elif key[0] == NAMESPACE:
            self.scope.drop_namespace(key[2])

    # -- scope updates ---------------------------------------------------------------------------

    def _update_watch(self, obj: Obj) -> None:
        try:
            target = parse_watch(obj)
        except ValueError as exc:
            log.warning("ignoring invalid ParamedicWatch: %s", exc)
            namespace, name = _meta(obj)
            self.scope.drop_watch(namespace, name)
            return
        previous = self.scope.target_of(target.target)
        self.scope.set_watch(target)
        if previous is None or previous.spec != target.spec:
            self._reevaluate_namespace(target.target.namespace)

    def _update_namespace(self, name: str, obj: Obj) -> None:
        before = self.scope.namespace_in_scope(name)
        labels = (obj.get("metadata") or {}).get("labels")
        self.scope.set_namespace(name, labels if isinstance(labels, dict) else {})
        if not before and self.scope.namespace_in_scope(name):
            self._reevaluate_namespace(name)

    def _reevaluate_namespace(self, namespace: str) -> None:
        """Objects seen before their namespace (or target) came into scope get their look now."""
        with self._lock:
            keys = [key for key in self._objects if key[1] == namespace and key[0] in (POD, DEPLOYMENT)]
        for key in keys:
            self._rechecks.schedule(key, self._clock())

    # -- dispatch --------------------------------------------------------------------------------

    def _dispatch(self) -> None:
        while not self._stopping.is_set():
            incident = self.folder.take(timeout=0.5)
            self._hand_on_repeats()
            if incident is None:
                continue
            try:
                self._on_incident(incident)
            except Exception:
                log.exception(
                    "on_incident failed for %s (%s); ending its run", incident.target, incident.reason
                )
                self.run_finished(incident.fingerprint)
                self._callback_errors += 1
                continue
            if self._after_dispatch is not None:
                try:
                    self._after_dispatch(incident)
                except Exception:  # reporting is best effort; the run is already under way
                    log.exception("reporting %s (%s) failed", incident.target, incident.reason)
