"""The embedded sandbox as the eval harness's testbed (`evals.testbed.Testbed`, `ClusterUnderTest`).

`evals` knows clusters only through that seam; this module is the sandbox behind it: a fresh
`sandbox.cluster.Sandbox` per scenario, its fault catalogue in the product's vocabulary
(`RootCause`), its ground truth translated, raw manifests applied as an operator would, log
lines (current or terminated instances, once or for every later instance), the live and Git
objects for hand-written fix checks, what a commit changed (`paramedic.eval_git`), and the
fix of an injected fault judged on its live objects and Git.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from agent.domain import RootCause
from evals.effects import CommitEffect
from evals.outcome import FaultTruth, ForbiddenRule
from evals.testbed import Instance, Via, Where
from paramedic.eval_git import commit_effect
from sandbox.apiserver.defaults import apply_defaults
from sandbox.apps import NAMESPACE, REPO_FOLDER
from sandbox.cluster import Sandbox
from sandbox.faults import FAULT_TYPES, InjectedFault, Target, object_id
from sandbox.faults.yamledit import ManifestFiles
from sandbox.logs import ExtraLines
from sandbox.resources import CONFIGMAPS, DEPLOYMENTS, NODES, PODS, SECRETS
from sandbox.store import ResourceType, clone

# Live kinds the fix checks never need (and that change on every tick).
_NOT_OBJECTS = frozenset({"Event", "Lease", "EndpointSlice", "Endpoints"})

DEFAULT_TIME_FACTOR = 30.0  # simulated seconds per wall second: a 10-minute scenario in 20 s


def sandbox_faults() -> dict[str, RootCause]:
    """The sandbox's fault catalogue: fault type -> the root cause it is an instance of."""
    return {name: RootCause(fault.category.value) for name, fault in FAULT_TYPES.items()}


def fault_truth(fault: InjectedFault) -> FaultTruth:
    """The sandbox's ground truth of `fault` in the harness's terms."""
    truth = fault.truth
    return FaultTruth(
        fault_type=fault.fault_type,
        target=str(fault.target),
        category=RootCause(truth.category.value),
        faulty_resource=truth.faulty_resource,
        faulty_field=truth.faulty_field,
        symptom_workload=truth.symptoms.workload,
        explanation=truth.explanation,
        fix_in_git=truth.fix_in_git,
        forbidden=[
            ForbiddenRule(action=f.action, resource=f.resource, field=f.field, reason=f.reason)
            for f in truth.forbidden
        ],
    )


class SandboxCluster:
    """One sandbox as a `ClusterUnderTest`; remembers what it injected to judge the fixes."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self._injected: list[InjectedFault] = []
        # Git's manifests per revision (a revision never changes): round-trip parsing every file
        # costs a few hundred ms, and the fix checks, the truth records and each commit's effect
        # read the same revisions again.
        self._git: dict[str, ManifestFiles] = {}

    def _manifests(self, revision: str | None = None) -> ManifestFiles:
        revision = revision or self.sandbox.repo.head()
        if revision not in self._git:
            self._git[revision] = ManifestFiles(self.sandbox.repo, REPO_FOLDER, revision)
        return self._git[revision]

    def _git_objects(self, revision: str | None = None) -> dict[str, dict[str, Any]]:
        return self._manifests(revision).objects()  # fresh plain copies: callers may change them

    @property
    def kubeconfig_path(self) -> Path | None:
        """The sandbox's kubeconfig (None when it serves no API)."""
        return self.sandbox.kubeconfig_path

    @property
    def api_url(self) -> str | None:
        """The sandbox's API server."""
        return self.sandbox.url

    @property
    def metrics_url(self) -> str | None:
        """The sandbox's Prometheus exposition endpoint."""
        return self.sandbox.metrics_url

    @property
    def repo_path(self) -> Path:
        """The sandbox's GitOps repository."""
        return self.sandbox.repo_path

    def start(self) -> None:
        """Start the sandbox."""
        self.sandbox.start()

    def stop(self) -> None:
        """Stop the sandbox."""
        self.sandbox.stop()

    def wait_healthy(self, timeout: float) -> None:
        """See `Sandbox.wait_healthy`."""
        self.sandbox.wait_healthy(timeout=timeout)

    def healthy(self) -> bool:
        """See `Sandbox.healthy`."""
        return self.sandbox.healthy()

    def wait_for(self, predicate: Callable[[], bool], timeout_sim_seconds: float, step: float = 1.0) -> bool:
        """See `Sandbox.wait_for`."""
        return self.sandbox.wait_for(predicate, timeout_sim_seconds, step=step)

    def now(self) -> float:
        """The simulated clock."""
        return self.sandbox.clock.time()

    def advance(self, sim_seconds: float) -> None:
        """See `Sandbox.advance`."""
        self.sandbox.advance(sim_seconds)

    def inject(self, fault_type: str, target: str, *, via: Via, message: str | None = None) -> FaultTruth:
        """Inject a catalogue fault (committed with `message`, if given); its ground truth."""
        fault = self.sandbox.inject(fault_type, target, via=via, message=message)
        self._injected.append(fault)
        return fault_truth(fault)

    def commit_files(self, files: Mapping[str, str | None], message: str) -> None:
        """Commit files to `main` and wait until they are deployed."""
        self.sandbox.commit(files, message)

    def commit_patches(self, patches: Sequence[tuple[str, Mapping[str, Any]]], message: str) -> None:
        """One commit of manifest patches; two patches of one file in one commit are refused."""
        changes: dict[str, str | None] = {}
        # One reading serves every patch: each patches another file (two of one file are refused).
        files = self._manifests()
        for resource, patch in patches:
            path = files.path_of(resource)
            if path in changes:
                raise ValueError(f"two patches of one file ({path}) in one commit are not supported")
            changes.update(files.patch(resource, patch))
        self.sandbox.commit(changes, message)

    def _type_of(self, api_version: str, kind: str) -> ResourceType:
        group = api_version.rpartition("/")[0] if "/" in api_version else ""
        rt = self.sandbox.registry.by_kind(group, kind)
        if rt is None:
            raise LookupError(f"the sandbox serves no {kind} ({api_version})")
        return rt

    def apply_manifest(self, manifest: Mapping[str, Any]) -> None:
        """Create (or replace) one object in the store, with the API server's defaults (as `kubectl
        apply` of a new object, or `kubectl replace`)."""
        obj = clone(dict(manifest))
        rt = self._type_of(str(obj["apiVersion"]), str(obj["kind"]))
        meta = obj.setdefault("metadata", {})
        if rt.namespaced:
            meta["namespace"] = meta.get("namespace") or NAMESPACE
        else:
            meta.pop("namespace", None)
        obj = apply_defaults(rt.kind, obj)
        live = self.sandbox.store.find(rt, meta.get("namespace", ""), meta["name"])
        if live is None:
            self.sandbox.store.create(rt, obj)
            return
        meta["resourceVersion"] = live["metadata"]["resourceVersion"]
        self.sandbox.store.update(rt, obj)

    def delete_object(self, resource: str) -> None:
        """Delete one live object (`Kind ns/name`); LookupError when it does not exist."""
        kind, _, rest = resource.partition(" ")
        namespace, _, name = rest.rpartition("/")
        rt = next((t for t in self.sandbox.registry.all() if t.kind == kind), None)
        if rt is None or self.sandbox.store.find(rt, namespace, name) is None:
            raise LookupError(f"{resource} does not exist")
        self.sandbox.store.delete(rt, namespace, name)

    def _pods_of(self, target: str) -> tuple[Target, dict[str, str]]:
        workload = Target.parse(target)
        deployment = self.sandbox.store.find(DEPLOYMENTS, workload.namespace, workload.name)
        if deployment is None:
            raise LookupError(f"{workload.id} does not exist")
        selector = (deployment.get("spec", {}).get("selector") or {}).get("matchLabels") or {}
        return workload, selector

    def _selects(self, namespace: str, selector: Mapping[str, str], pod: str) -> bool:
        obj = self.sandbox.store.find(PODS, namespace, pod)
        labels = (obj or {}).get("metadata", {}).get("labels") or {}
        return bool(selector) and all(labels.get(k) == v for k, v in selector.items())

    def append_log(
        self,
        target: str,
        lines: Sequence[str],
        container: str | None = None,
        *,
        instance: Instance = "current",
        persist: bool = False,
    ) -> int:
        """Append `lines` to the current (or last terminated) log of every pod of the Deployment
        `target`; with `persist` every later instance of its pods gets them too (at its start, or
        at its exit), through the sandbox's log store. How many logs took them now."""
        sb = self.sandbox
        workload, selector = self._pods_of(target)
        logs = sb.simulation.logs
        written = 0
        for pod in sb.store.list(PODS)[0]:
            meta: dict[str, Any] = pod["metadata"]
            if meta.get("namespace") != workload.namespace or not self._selects(
                workload.namespace, selector, meta["name"]
            ):
                continue
            containers = (pod.get("spec") or {}).get("containers") or []
            name = container or (containers[0]["name"] if containers else None)
            if name is None:
                continue
            if instance == "current":
                log = logs.current(workload.namespace, meta["name"], name)
                if log is None or log.finished is not None:
                    continue
            else:
                log = logs.terminated(workload.namespace, meta["name"], name)
                if log is None:
                    continue
            log.add(sb.clock.time(), "\n".join(lines))
            written += 1
        if persist:
            logs.add_extra(
                ExtraLines(
                    matches=lambda ns, pod, c: (
                        ns == workload.namespace
                        and (container is None or c == container)
                        and self._selects(ns, selector, pod)
                    ),
                    lines=tuple(lines),
                    at="start" if instance == "current" else "exit",
                )
            )
        return written

    def objects(self, where: Where) -> dict[str, dict[str, Any]]:
        """Git's objects, or every live object (but events and leases), keyed `Kind ns/name`; Secret
        values are blanked (the harness needs which keys exist, never what they hold)."""
        if where == "git":
            return self._git_objects()
        objects: dict[str, dict[str, Any]] = {}
        for rt in self.sandbox.registry.all():
            if rt.kind in _NOT_OBJECTS:
                continue
            items, _ = self.sandbox.store.list(rt)
            for obj in items:
                obj.setdefault("kind", rt.kind)
                if rt.kind == SECRETS.kind:
                    for key in ("data", "stringData"):
                        if isinstance(obj.get(key), dict):
                            obj[key] = dict.fromkeys(obj[key], "")
                objects[object_id(obj)] = obj
        return objects

    def git_head(self) -> str:
        """The commit `main` points at."""
        return self.sandbox.repo.head()

    def commit_effect(self, sha: str, base: str) -> CommitEffect | None:
        """See `paramedic.eval_git.commit_effect`."""
        return commit_effect(self.sandbox.repo, REPO_FOLDER, sha, base, objects=self._git_objects)

    def fixed(self) -> list[bool]:
        """Per injected fault: fixed in the live objects, and in Git when Git can fix it."""
        live = self._live_objects()
        git = self._git_objects()
        catalogue = self.sandbox.simulation.catalogue
        return [
            f.truth.is_fixed(live, catalogue) and (not f.truth.fix_in_git or f.truth.is_fixed(git, catalogue))
            for f in self._injected
        ]

    def _live_objects(self) -> dict[str, dict[str, Any]]:
        objects: dict[str, dict[str, Any]] = {}
        for rt in (DEPLOYMENTS, CONFIGMAPS, NODES):
            items, _ = self.sandbox.store.list(rt)
            for obj in items:
                obj.setdefault("kind", rt.kind)
                objects[object_id(obj)] = obj
        return objects


class SandboxTestbed:
    """Fresh sandboxes for the eval harness; keyword options go to every `Sandbox` (e.g.
    `background=False, serve=False` for a stepped sandbox without an API server)."""

    def __init__(self, time_factor: float = DEFAULT_TIME_FACTOR, **sandbox_options: Any) -> None:
        self.time_factor = time_factor
        self.sandbox_options = sandbox_options
        self._faults = sandbox_faults()

    @property
    def faults(self) -> dict[str, RootCause]:
        """The sandbox's fault catalogue."""
        return self._faults

    def new_cluster(self, seed: int) -> SandboxCluster:
        """A sandbox seeded with `seed` (API server on a free loopback port unless told otherwise)."""
        return SandboxCluster(Sandbox(seed=seed, time_factor=self.time_factor, **self.sandbox_options))
