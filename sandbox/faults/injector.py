"""Inject and clear faults: commit them to the GitOps repository, write them straight to the cluster
(drift), or flip a physics hook; every injection answers its ground truth.

`via="git"` (the default) makes one commit on `main`, so the commit is the cause a diagnosis can
correlate with. `via="cluster"` edits the live objects instead; note that with the Application's
self-heal on, the sync loop reverts such drift on its next pass. Clearing restores what the fault
changed: the files it touched get their content from before the injection back (one commit), the
live objects their earlier content, the node its normal memory.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from sandbox.faults.catalogue import fault_type
from sandbox.faults.context import FaultContext, FaultNotApplicable, FaultPlan, Target
from sandbox.faults.truth import GroundTruth
from sandbox.faults.yamledit import ManifestFiles
from sandbox.gitops.repo import ManifestRepo
from sandbox.images import ImageCatalogue
from sandbox.resources import CONFIGMAPS, DEPLOYMENTS, NODES, PODS, Registry
from sandbox.store import ApiError, Store, clone

Obj = dict[str, Any]
Via = Literal["git", "cluster"]
PressureHook = Callable[[str, bool], None]
_CONTENT_SKIP = frozenset({"apiVersion", "kind", "metadata", "status"})


@dataclass(frozen=True)
class InjectedFault:
    """One injected fault, with its ground truth and what it takes to clear it."""

    id: str
    fault_type: str
    target: Target
    truth: GroundTruth
    mechanism: str  # git, cluster, physics
    injected_at: datetime
    commit: str | None = None
    commit_message: str = ""
    files: tuple[str, ...] = ()
    node: str | None = None
    _restore_files: Mapping[str, str | None] = field(default_factory=dict, repr=False)
    _restore_objects: Mapping[str, Obj] = field(default_factory=dict, repr=False)

    def to_dict(self) -> Obj:
        """Plain JSON-compatible data (what the control endpoint and `fault inject` print)."""
        return {
            "id": self.id,
            "fault_type": self.fault_type,
            "target": str(self.target),
            "mechanism": self.mechanism,
            "injected_at": self.injected_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "commit": self.commit,
            "commit_message": self.commit_message,
            "files": list(self.files),
            "node": self.node,
            "truth": self.truth.to_dict(),
        }


class FaultInjector:
    """Injects catalogue faults into a running sandbox and clears them again."""

    def __init__(
        self,
        repo: ManifestRepo,
        store: Store,
        registry: Registry,
        *,
        folder: str = "apps",
        catalogue: ImageCatalogue | None = None,
        set_node_pressure: PressureHook | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._repo = repo
        self._store = store
        self._registry = registry
        self._folder = folder
        self._catalogue = catalogue or ImageCatalogue()
        self._pressure = set_node_pressure
        self._clock = clock or (lambda: datetime.now(UTC))
        self._active: dict[str, InjectedFault] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    # -- reads --------------------------------------------------------------------------------

    def active(self) -> list[InjectedFault]:
        """Faults injected and not cleared, oldest first."""
        with self._lock:
            return list(self._active.values())

    def find(self, fault_type: str, target: Target | str) -> InjectedFault | None:
        """The newest active fault of a type on a target."""
        wanted = Target.parse(target) if isinstance(target, str) else target
        matches = [f for f in self.active() if f.fault_type == fault_type and f.target == wanted]
        return matches[-1] if matches else None

    def manifest_files(self) -> ManifestFiles:
        """The manifests of the GitOps folder at head."""
        return ManifestFiles(self._repo, self._folder)

    def context(self, target: Target, files: ManifestFiles | None = None) -> FaultContext:
        """What the builders see: Git's objects, the live nodes and pods."""
        files = files or self.manifest_files()
        nodes, _ = self._store.list(NODES)
        all_pods, _ = self._store.list(PODS)
        git_objects = files.objects()
        selector: dict[str, Any] = {}
        deployment = git_objects.get(target.id) or self._store.find(
            DEPLOYMENTS, target.namespace, target.name
        )
        if deployment:
            selector = (deployment.get("spec", {}).get("selector") or {}).get("matchLabels") or {}
        pods = [
            p
            for p in all_pods
            if p["metadata"].get("namespace") == target.namespace
            and selector
            and all((p["metadata"].get("labels") or {}).get(k) == v for k, v in selector.items())
        ]
        return FaultContext(target, git_objects, self._catalogue, nodes, pods, all_pods)

    # -- inject -------------------------------------------------------------------------------

    def inject(
        self, name: str, target: Target | str, via: Via = "git", message: str | None = None
    ) -> InjectedFault:
        """Inject fault `name` into `target` (`NS/deploy/NAME`); raises ValueError when it cannot apply.

        `message`: the Git commit's message instead of the fault's own (its truth is the same)."""
        kind = fault_type(name)
        tgt = Target.parse(target) if isinstance(target, str) else target
        if via not in ("git", "cluster"):
            raise ValueError(f"via must be 'git' or 'cluster', not {via!r}")
        with self._lock:
            files = self.manifest_files()
            ctx = self.context(tgt, files)
            if via == "cluster" and tgt.id not in ctx.objects:
                live = self._store.find(DEPLOYMENTS, tgt.namespace, tgt.name)
                if live is None:
                    raise FaultNotApplicable(f"{tgt.id} does not exist")
                ctx.objects[tgt.id] = live
            plan = kind.build(ctx)
            fault_id = f"{name}-{tgt.name}-{next(self._ids)}"
            now = self._clock()
            if plan.pressure_node is not None:
                fault = self._inject_pressure(fault_id, name, tgt, plan, now)
            elif via == "git":
                if message:
                    plan = replace(plan, commit_message=message)
                fault = self._inject_git(fault_id, name, tgt, plan, files, now)
            else:
                fault = self._inject_cluster(fault_id, name, tgt, plan, now)
            self._active[fault.id] = fault
            return fault

    def _inject_pressure(
        self, fid: str, name: str, tgt: Target, plan: FaultPlan, now: datetime
    ) -> InjectedFault:
        if self._pressure is None:
            raise FaultNotApplicable("this sandbox has no node-pressure hook (no simulation attached)")
        assert plan.pressure_node is not None
        self._pressure(plan.pressure_node, True)
        return InjectedFault(fid, name, tgt, plan.truth, "physics", now, node=plan.pressure_node)

    def _inject_git(
        self, fid: str, name: str, tgt: Target, plan: FaultPlan, files: ManifestFiles, now: datetime
    ) -> InjectedFault:
        changed = files.edit(plan.edits)
        if not changed:
            raise FaultNotApplicable(f"{name} would not change anything in {tgt.id}'s manifests")
        restore = {path: files.text(path) for path in changed}
        sha = self._repo.commit(changed, plan.commit_message)
        return InjectedFault(
            fid,
            name,
            tgt,
            plan.truth,
            "git",
            now,
            commit=sha,
            commit_message=plan.commit_message,
            files=tuple(sorted(changed)),
            _restore_files=restore,
        )

    def _inject_cluster(
        self, fid: str, name: str, tgt: Target, plan: FaultPlan, now: datetime
    ) -> InjectedFault:
        saved: dict[str, Obj] = {}
        for rid, mutate in plan.edits.items():
            rt, namespace, obj_name = self._locate(rid)
            live = self._store.get(rt, namespace, obj_name)
            saved[rid] = clone(live)
            mutate(live)
            self._store.update(rt, live)
        return InjectedFault(fid, name, tgt, plan.truth, "cluster", now, _restore_objects=saved)

    def _locate(self, rid: str) -> tuple[Any, str, str]:
        kind, _, rest = rid.partition(" ")
        namespace, _, obj_name = rest.rpartition("/")
        rt = {"Deployment": DEPLOYMENTS, "ConfigMap": CONFIGMAPS}.get(kind) or self._registry.by_kind(
            "", kind
        )
        if rt is None:
            raise FaultNotApplicable(f"cannot edit {rid} in the cluster")
        return rt, namespace, obj_name

    # -- clear --------------------------------------------------------------------------------

    def clear(self, fault: InjectedFault | str) -> str | None:
        """Undo a fault; returns the restoring commit's sha for Git faults (None when nothing changed)."""
        with self._lock:
            fid = fault if isinstance(fault, str) else fault.id
            record = self._active.get(fid)
            if record is None:
                raise KeyError(f"no active fault {fid!r}")
            sha: str | None = None
            if record.mechanism == "physics" and record.node and self._pressure is not None:
                self._pressure(record.node, False)
            elif record.mechanism == "git":
                changes = {p: t for p, t in record._restore_files.items() if self._repo.read(p) != t}
                if changes:
                    sha = self._repo.commit(
                        changes, f"Clear injected fault {record.id}: restore {', '.join(changes)}"
                    )
            elif record.mechanism == "cluster":
                self._restore_objects(record._restore_objects)
            del self._active[fid]
            return sha

    def _restore_objects(self, saved: Mapping[str, Obj]) -> None:
        for rid, before in saved.items():
            rt, namespace, name = self._locate(rid)
            for _ in range(5):
                live = self._store.find(rt, namespace, name)
                if live is None:
                    break
                for key in set(live) | set(before):
                    if key in _CONTENT_SKIP:
                        continue
                    if key in before:
                        live[key] = clone(before[key])
                    else:
                        live.pop(key, None)
                try:
                    self._store.update(rt, live)
                    break
                except ApiError as exc:
                    if exc.code != 409:
                        raise
