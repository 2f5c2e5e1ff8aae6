"""The sync loop: deploy the repository's `main` to the cluster and report on the Application, like Argo CD.

Automated sync applies every new revision; with self-heal it also reverts drift (a live object
that no longer matches Git) on the next pass; with prune it deletes objects it created that Git
no longer holds. A revision that does not parse is reported on the Application (operationState
Failed, a ComparisonError condition) and nothing in the cluster is touched; an object of an
unknown kind fails on its own while everything else is applied.

The loop wakes when a tracked object changes (drift, or a Deployment's status moving, which
changes health) and polls the branch head every `poll_interval` wall seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from sandbox.gitops.app_status import ApplicationStatus
from sandbox.gitops.application import APPLICATIONS, AppSpec, SyncPolicy, install, policy_of
from sandbox.gitops.apply import (
    Admit,
    Difference,
    apply,
    compare,
    is_conflict,
    prepare,
    tracked_by,
    tracking_id,
)
from sandbox.gitops.health import MISSING, Health, deployment_health, worst
from sandbox.gitops.manifests import Manifest, ManifestProblem, parse_tree, split_group_version
from sandbox.gitops.repo import GitCommandError, ManifestRepo
from sandbox.gitops.report import OUT_OF_SYNC, PRUNED, SYNC_FAILED, SYNCED, ResourceResult, SyncReport
from sandbox.resources import DEPLOYMENTS, EVENTS, NAMESPACES, NODES, PODS, REPLICASETS, Registry
from sandbox.store import ApiError, ResourceType, Store, WatchEvent

Obj = dict[str, Any]
log = logging.getLogger(__name__)

# Never written from Git and far too numerous to scan on every pass.
_NOT_PRUNABLE = frozenset({PODS.key, EVENTS.key, REPLICASETS.key, NODES.key, APPLICATIONS.key})
_APPLY_ORDER = {
    "Namespace": 0,
    "CustomResourceDefinition": 1,
    "ServiceAccount": 2,
    "Secret": 3,
    "ConfigMap": 3,
    "ClusterRole": 4,
    "ClusterRoleBinding": 4,
    "Role": 4,
    "RoleBinding": 4,
    "Service": 5,
}


@dataclass
class _Desired:
    manifest: Manifest
    rt: ResourceType | None
    obj: Obj | None
    problem: str = ""


@dataclass
class _Parsed:
    revision: str
    desired: list[_Desired] = field(default_factory=list)
    problems: list[ManifestProblem] = field(default_factory=list)


class GitOpsSync:
    """Keeps the cluster at the repository's target revision and reports on the Application."""

    def __init__(
        self,
        store: Store,
        registry: Registry,
        repo: ManifestRepo,
        spec: AppSpec,
        *,
        clock: Callable[[], datetime] | None = None,
        poll_interval: float = 0.5,
        min_gap: float = 0.1,
        admit: Admit | None = None,
    ) -> None:
        self._store = store
        self._registry = registry
        self.repo = repo
        self.spec = spec
        self._clock = clock
        self._poll = poll_interval
        self._min_gap = min_gap
        self._admit = admit
        self._lock = threading.Lock()
        self._wake = threading.Event()
        # Set by a caller waiting for a pass (and by stop): the next pass skips the min gap, which is
        # there to coalesce bursts of cluster events, not to delay someone who asked.
        self._hurry = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sub: int | None = None
        self._parsed: _Parsed | None = None
        self._last_good: _Parsed | None = None
        self._in_sync: dict[tuple[str, str, str], str | None] = {}  # object -> resourceVersion in sync
        self._in_sync_for: _Parsed | None = None
        self._synced_revision: str | None = None
        self._app_status = ApplicationStatus(store, spec, clock)
        self._last: SyncReport | None = None
        self._passes = threading.Condition()
        self._pass_count = 0

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Install the Application, sync once, then keep syncing in a background thread."""
        if self._thread is not None:
            raise RuntimeError("the GitOps sync loop is already running")
        install(self._store, self._registry, self.spec)
        self._stop.clear()
        self._sub = self._store.subscribe(self._on_event)
        self._thread = threading.Thread(target=self._run, name="gitops-sync", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the loop and wait for it (a pass in progress finishes first)."""
        if self._sub is not None:
            self._store.unsubscribe(self._sub)
            self._sub = None
        self._stop.set()
        self._hurry.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _on_event(self, event: WatchEvent) -> None:
        # Runs under the store lock: only flag the loop, never touch the store here.
        if event.key != APPLICATIONS.key and tracked_by(event.obj, self.spec.name):
            self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.sync_once()
            except Exception:  # the loop must outlive any one bad pass
                log.exception("gitops sync pass failed")
            self._wake.wait(self._poll)
            self._wake.clear()
            self._hurry.wait(self._min_gap)
            self._hurry.clear()

    # -- one pass -----------------------------------------------------------------------------

    @property
    def last_report(self) -> SyncReport | None:
        """The most recent pass's report."""
        return self._last

    def sync_once(self, force: bool = False) -> SyncReport:
        """Compare Git with the cluster, apply when the policy says so (or `force`), report; never raises
        for bad manifests."""
        with self._lock:
            report = self._pass(force)
            self._last = report
        with self._passes:
            self._pass_count += 1
            self._passes.notify_all()
        return report

    def wait_for(self, predicate: Callable[[SyncReport], bool], timeout: float = 10.0) -> SyncReport:
        """Block (wall time) until a pass's report satisfies `predicate`; raises TimeoutError."""
        deadline = time.monotonic() + timeout
        hurry = True
        while True:
            report = self._last
            if report is not None and predicate(report):
                return report
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(
                    f"GitOps sync did not reach the expected state in {timeout}s; last: {report}"
                )
            if hurry:  # the first pass now; later ones at the loop's own pace
                self._hurry.set()
                hurry = False
            self._wake.set()
            with self._passes:
                seen = self._pass_count
                self._passes.wait_for(partial(self._passed, seen), timeout=min(remaining, 1.0))

    def _passed(self, seen: int) -> bool:
        return self._pass_count > seen

    def wait_synced(self, revision: str | None = None, timeout: float = 10.0) -> SyncReport:
        """Block until the cluster is Synced at `revision` (default: the current head)."""
        want = revision or self.repo.head()
        return self.wait_for(lambda r: r.synced and r.revision == want, timeout)

    def _pass(self, force: bool) -> SyncReport:
        # Read, never changed here (the status write builds its own body): the store's object.
        app = self._store.find(APPLICATIONS, self.spec.namespace, self.spec.name, copy=False)
        if app is None:
            install(self._store, self._registry, self.spec)
            app = self._store.get(APPLICATIONS, self.spec.namespace, self.spec.name, copy=False)
        policy = policy_of(app, self.spec)
        if self._synced_revision is None:
            result = ((app.get("status") or {}).get("operationState") or {}).get("syncResult") or {}
            self._synced_revision = result.get("revision")
        try:
            revision = self.repo.head(policy.target_revision)
        except GitCommandError as exc:
            return self._report_failure(app, policy, "", f"ComparisonError: {exc}", [str(exc)])
        parsed = self._parse(revision, policy)
        if parsed.problems:
            problems = [str(p) for p in parsed.problems]
            message = "ComparisonError: Failed to load target state: " + "; ".join(problems)
            return self._report_failure(app, policy, revision, message, problems)

        diffs: list[tuple[_Desired, Difference | None]] = []
        for item in parsed.desired:
            diffs.append(
                (
                    item,
                    self._compare(parsed, item.rt, item.obj) if item.rt and item.obj else None,
                )
            )
        prunable = self._prunable(parsed)
        drifted = any(d is not None and d.action != "none" for _, d in diffs) or bool(prunable)
        unknown = any(d is None for _, d in diffs)
        new_revision = revision != self._synced_revision
        # Objects of unknown kinds fail once per revision; retrying them every pass would change nothing.
        act = (drifted or (unknown and new_revision)) and (
            force or (policy.automated and (new_revision or policy.self_heal))
        )
        results: list[ResourceResult] = []
        phase: str | None = None
        if act:
            results, phase = self._apply_all(diffs, prunable if (policy.prune or force) else [], parsed)
            self._synced_revision = revision
        else:
            results = [self._unapplied(item, d) for item, d in diffs]
            results += [self._prune_pending(rt, obj) for rt, obj in prunable]
            if not drifted:
                self._synced_revision = revision
        results = [self._with_health(r) for r in results]
        status = OUT_OF_SYNC if any(r.status != SYNCED and r.status != PRUNED for r in results) else SYNCED
        health = worst(r.health for r in results if r.health is not None)
        if phase is not None:
            self._app_status.record_operation(revision, phase, results)
        message = (self._app_status.operation or {}).get("message", "") if phase else ""
        self._app_status.write(app, revision, status, health, results, [], self._images())
        return SyncReport(revision, status, health, phase, message, tuple(results))

    def _compare(self, parsed: _Parsed, rt: ResourceType, desired: Obj) -> Difference:
        """`compare`, remembering what was found in sync: an object still at the resourceVersion it had
        then, against the same parsed revision, still is (most passes change nothing)."""
        if self._in_sync_for is not parsed:
            self._in_sync, self._in_sync_for = {}, parsed
        meta = desired["metadata"]
        key = (rt.key, meta.get("namespace", ""), meta["name"])
        live = self._store.find(rt, key[1], key[2], copy=False)
        if live is not None and self._in_sync.get(key) == live["metadata"].get("resourceVersion"):
            return Difference("none", live, live)
        diff = compare(self._store, rt, desired, self.spec.name, self._admit)
        if diff.action == "none" and diff.live is not None:
            self._in_sync[key] = diff.live["metadata"].get("resourceVersion")
        else:
            self._in_sync.pop(key, None)
        return diff

    def _parse(self, revision: str, policy: SyncPolicy) -> _Parsed:
        cached = self._parsed
        if cached is not None and cached.revision == revision:
            return cached
        manifests, problems = parse_tree(self.repo.files(revision, policy.path))
        parsed = _Parsed(revision, problems=list(problems))
        for manifest in manifests:
            group, version = split_group_version(manifest.obj["apiVersion"])
            rt = self._registry.by_kind(group, manifest.kind)
            if rt is None:
                gv = f"{group}/{version}" if group else version
                parsed.desired.append(
                    _Desired(
                        manifest,
                        None,
                        None,
                        f"the server could not find the requested resource: no matches for kind "
                        f'"{manifest.kind}" in version "{gv}"',
                    )
                )
                continue
            parsed.desired.append(
                _Desired(manifest, rt, prepare(manifest.obj, rt, policy.destination_namespace))
            )
        parsed.desired.sort(
            key=lambda d: (_APPLY_ORDER.get(d.manifest.kind, 9), d.manifest.path, d.manifest.index)
        )
        self._parsed = parsed
        if not parsed.problems:
            self._last_good = parsed
        return parsed

    def _prunable(self, parsed: _Parsed) -> list[tuple[ResourceType, Obj]]:
        wanted = {
            tracking_id(
                self.spec.name, d.rt, d.obj["metadata"].get("namespace", ""), d.obj["metadata"]["name"]
            )
            for d in parsed.desired
            if d.rt is not None and d.obj is not None
        }
        wanted_kinds = {
            (d.manifest.kind, split_group_version(d.manifest.obj["apiVersion"])[0])
            for d in parsed.desired
            if d.rt is None
        }
        found: list[tuple[ResourceType, Obj]] = []
        for rt in self._registry.all():
            if rt.key in _NOT_PRUNABLE or (rt.kind, rt.group) in wanted_kinds:
                continue
            objs, _ = self._store.list(rt, predicate=lambda o: tracked_by(o, self.spec.name), copy=False)
            for obj in objs:
                meta = obj["metadata"]
                own_id = tracking_id(self.spec.name, rt, meta.get("namespace", ""), meta["name"])
                annotation = meta["annotations"]["argocd.argoproj.io/tracking-id"]
                # An annotation copied onto another object does not make it ours.
                if annotation == own_id and own_id not in wanted:
                    found.append((rt, obj))
        # Namespaces go last so their contents are pruned first.
        found.sort(key=lambda pair: pair[0].key == NAMESPACES.key)
        return found

    def _apply_all(
        self,
        diffs: list[tuple[_Desired, Difference | None]],
        prune: list[tuple[ResourceType, Obj]],
        parsed: _Parsed,
    ) -> tuple[list[ResourceResult], str]:
        results: list[ResourceResult] = []
        failed = False
        for item, diff in diffs:
            if item.rt is None or diff is None:
                results.append(self._result_of(item, SYNC_FAILED, item.problem))
                failed = True
                continue
            try:
                apply(self._store, item.rt, diff, self._admit)
            except ApiError as exc:
                if not is_conflict(exc):
                    failed = True
                results.append(
                    self._result_of(item, SYNC_FAILED if not is_conflict(exc) else OUT_OF_SYNC, exc.message)
                )
                continue
            verb = {"create": "created", "update": "configured", "none": "unchanged"}[diff.action]
            results.append(
                self._result_of(item, SYNCED, f"{item.manifest.kind.lower()}/{item.manifest.name} {verb}")
            )
        for rt, obj in prune:
            meta = obj["metadata"]
            try:
                self._store.delete(rt, meta.get("namespace", ""), meta["name"])
            except ApiError as exc:
                if exc.code != 404:
                    failed = True
                    results.append(self._object_result(rt, obj, SYNC_FAILED, exc.message))
                    continue
            results.append(self._object_result(rt, obj, PRUNED, "pruned"))
        return results, "Failed" if failed else "Succeeded"

    # -- results and status -------------------------------------------------------------------

    def _result_of(self, item: _Desired, status: str, message: str) -> ResourceResult:
        group, version = split_group_version(item.manifest.obj["apiVersion"])
        namespace = (item.obj or item.manifest.obj)["metadata"].get("namespace", "") or ""
        return ResourceResult(
            group, version, item.manifest.kind, namespace, item.manifest.name, status, message
        )

    def _object_result(self, rt: ResourceType, obj: Obj, status: str, message: str) -> ResourceResult:
        meta = obj["metadata"]
        return ResourceResult(
            rt.group, rt.version, rt.kind, meta.get("namespace", ""), meta["name"], status, message
        )

    def _unapplied(self, item: _Desired, diff: Difference | None) -> ResourceResult:
        if item.rt is None or diff is None:
            return self._result_of(item, SYNC_FAILED, item.problem)
        return self._result_of(item, SYNCED if diff.action == "none" else OUT_OF_SYNC, "")

    def _prune_pending(self, rt: ResourceType, obj: Obj) -> ResourceResult:
        return self._object_result(rt, obj, OUT_OF_SYNC, "requires pruning")

    def _with_health(self, result: ResourceResult) -> ResourceResult:
        if result.status == PRUNED:
            return result
        rt = self._registry.by_kind(result.group, result.kind)
        if rt is None:
            return result
        live = self._store.find(rt, result.namespace, result.name, copy=False)
        if live is None:
            health = Health(MISSING, f"{result.kind} {result.name!r} does not exist")
        elif rt.key == DEPLOYMENTS.key:
            pods, _ = self._store.list(PODS, result.namespace, copy=False)
            health = deployment_health(live, pods)
        else:
            return result
        return ResourceResult(**{**result.__dict__, "health": health})

    def _report_failure(
        self, app: Obj, policy: SyncPolicy, revision: str, message: str, problems: list[str]
    ) -> SyncReport:
        self._app_status.record_failure(revision, message)
        # Health still describes what runs: the objects of the last revision that did load.
        results: list[ResourceResult] = []
        for item in self._last_good.desired if self._last_good else []:
            results.append(self._with_health(self._result_of(item, SYNCED, "")))
        health = worst(r.health for r in results if r.health is not None)
        conditions = [{"type": "ComparisonError", "message": message}]
        self._app_status.write(app, revision, OUT_OF_SYNC, health, results, conditions, self._images())
        return SyncReport(revision, OUT_OF_SYNC, health, "Failed", message, tuple(results), tuple(problems))

    def _images(self) -> list[str]:
        """Every image the last loadable revision's workloads run (the Application's summary)."""
        return sorted(
            {
                c.get("image", "")
                for item in (self._last_good.desired if self._last_good else [])
                if item.obj is not None and item.manifest.kind in ("Deployment", "StatefulSet", "DaemonSet")
                for c in (
                    item.obj.get("spec", {}).get("template", {}).get("spec", {}).get("containers") or []
                )
            }
            - {""}
        )
