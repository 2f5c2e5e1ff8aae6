"""The sandbox as one object: store, API server, garbage collector, physics, GitOps and faults.

`Sandbox(...).start()` builds a cluster on loopback, commits the sample applications to a fresh
GitOps repository and lets the sync loop deploy them; `stop()` undoes all of it (threads joined,
port freed, a work dir it created removed). Two ways to run time:

- background (default): the simulation and the sync loop run in threads, simulated time
  flowing at `time_factor` x wall time - what `paramedic sandbox up` and the demo use;
- stepped (`background=False`): nothing moves until `advance()`/`wait_for()` step the
  simulation (and sync Git on the way), so tests are fast and deterministic for a seed.
"""

from __future__ import annotations

import random
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Self

from sandbox import admission
from sandbox.apiserver.defaults import apply_defaults, prepare_for_create
from sandbox.apps import NAMESPACE, REPO_FOLDER, sample_files
from sandbox.clock import SimClock
from sandbox.controllers.persistentvolume import default_storage_class
from sandbox.faults import FaultInjector, InjectedFault, Target
from sandbox.gitops import APPLICATIONS, AppSpec, GitOpsSync, ManifestRepo
from sandbox.gitops.health import HEALTHY, deployment_health
from sandbox.resources import DEPLOYMENTS, NAMESPACES, PODS, PRIORITYCLASSES, STORAGECLASSES, Registry
from sandbox.simulation import Simulation
from sandbox.store import ResourceType, Store

Obj = dict[str, Any]
SYNC_EVERY_SIM_SECONDS = 5.0  # stepped mode: how often Git is compared with the cluster
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
_EMPTY_README = f"Manifests under {REPO_FOLDER}/ are deployed to the sandbox.\n"


class Sandbox:
    """An embedded Kubernetes cluster with GitOps-deployed sample apps and a fault injector.

    `sample_apps=False` starts a bare cluster (an empty GitOps repository), as a fresh kind cluster is."""

    def __init__(
        self,
        workdir: str | Path | None = None,
        seed: int = 0,
        time_factor: float = 30.0,
        port: int = 0,
        *,
        nodes: int = 3,
        background: bool = True,
        serve: bool = True,
        poll_interval: float = 0.5,
        sample_apps: bool = True,
    ) -> None:
        self._workdir_arg = Path(workdir) if workdir is not None else None
        self.seed = seed
        self.time_factor = time_factor
        self._port = port
        self._nodes = nodes
        self.background = background
        self._serve = serve
        self._poll = poll_interval
        self._sample_apps = sample_apps
        self._started = False
        self._owns_workdir = False
        self._lock = threading.RLock()
        self._stoppers: list[Callable[[], None]] = []
        self.workdir: Path | None = None
        self.url: str | None = None
        self.kubeconfig_path: Path | None = None

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> Self:
        """Build and start everything; returns self. Idempotent errors: starting twice raises."""
        if self._started:
            raise RuntimeError("the sandbox is already started")
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        self._started = True
        return self

    def _start(self) -> None:
        if self._workdir_arg is None:
            self.workdir = Path(tempfile.mkdtemp(prefix="paramedic-sandbox-"))
            self._owns_workdir = True
        else:
            self.workdir = self._workdir_arg
            self.workdir.mkdir(parents=True, exist_ok=True)
        self.clock = SimClock(factor=self.time_factor)
        # Seeded uids and generated names: the same seed gives the same cluster.
        self.store = Store(clock=self.clock.now, rng=random.Random(f"{self.seed}/store"))
        self.registry = Registry.with_builtins()
        for ns in (*SYSTEM_NAMESPACES,):
            self.store.create(
                NAMESPACES,
                {
                    "metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}},
                    "spec": {"finalizers": ["kubernetes"]},
                    "status": {"phase": "Active"},
                },
            )
        # What a fresh kind cluster has besides: its default StorageClass and the system PriorityClasses.
        self.store.create(STORAGECLASSES, default_storage_class())
        for name, value in (("system-cluster-critical", 2000000000), ("system-node-critical", 2000001000)):
            description = (
                f"Used for {name.split('-')[1]} critical pods that must not be moved from their current node."
            )
            self.store.create(
                PRIORITYCLASSES, {"metadata": {"name": name}, "value": value, "description": description}
            )
        self.simulation = Simulation(self.store, self.registry, self.clock, seed=self.seed, nodes=self._nodes)
        self._stoppers.append(self.simulation.close)

        self.repo = ManifestRepo(self.workdir / "gitops", clock=self.clock.now)
        if (self.repo.path / ".git").exists():
            self.repo.head()  # an existing repository (a reused work dir) is deployed as it stands
        elif self._sample_apps:
            self.repo.init(
                sample_files(), "Sample applications: web-api, worker, joke-service, postgres, redis"
            )
        else:  # a bare cluster (as a fresh kind one): Git holds no applications yet
            self.repo.init({"README.md": _EMPTY_README}, "An empty GitOps repository")
        spec = AppSpec(repo_url=f"file://{self.repo.path}", path=REPO_FOLDER, destination_namespace=NAMESPACE)
        self.gitops = GitOpsSync(
            self.store,
            self.registry,
            self.repo,
            spec,
            clock=self.clock.now,
            poll_interval=self._poll,
            admit=self._admit,  # Argo CD writes through the API server: defaults and admission apply
        )
        self.injector = FaultInjector(
            self.repo,
            self.store,
            self.registry,
            folder=REPO_FOLDER,
            catalogue=self.simulation.catalogue,
            set_node_pressure=self.simulation.set_node_pressure,
            clock=self.clock.now,
        )

        if self._serve:
            from sandbox.apiserver import ApiServer
            from sandbox.garbage_collector import GarbageCollector
            from sandbox.kubeconfig import write_kubeconfig

            gc = GarbageCollector(self.store, self.registry)
            gc.start()
            self._stoppers.append(gc.stop)
            api = ApiServer(
                self.store,
                self.registry,
                log_source=self.simulation.logs,
                metrics_source=self.simulation.render_metrics,
                port=self._port,
            )
            self.url = api.start()
            self._stoppers.append(api.stop)
            self.kubeconfig_path = write_kubeconfig(self.url, self.workdir / "kubeconfig")

        if self.background:
            self.gitops.start()
            self._stoppers.append(self.gitops.stop)
            self.simulation.start()
            self._stoppers.append(self.simulation.stop)
        else:
            self.gitops.sync_once()

    def stop(self) -> None:
        """Stop every part (newest first), join their threads, free the port; safe to call twice."""
        with self._lock:
            while self._stoppers:
                stopper = self._stoppers.pop()
                stopper()
            self._started = False
            if self._owns_workdir and self.workdir is not None:
                shutil.rmtree(self.workdir, ignore_errors=True)
                self._owns_workdir = False

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- where things are ---------------------------------------------------------------------

    @property
    def repo_path(self) -> Path:
        """The GitOps repository (its `main` is what runs)."""
        return self.repo.path

    @property
    def metrics_url(self) -> str | None:
        """The Prometheus exposition endpoint."""
        return f"{self.url}/metrics" if self.url else None

    # -- time ---------------------------------------------------------------------------------

    def advance(self, sim_seconds: float) -> None:
        """Let `sim_seconds` of simulated time pass (stepped: now; background: by waiting)."""
        if self.background:
            time.sleep(sim_seconds / self.time_factor)
            return
        remaining = sim_seconds
        while remaining > 0:
            chunk = min(SYNC_EVERY_SIM_SECONDS, remaining)
            self.simulation.step(chunk)
            self.gitops.sync_once()
            remaining -= chunk

    def wait_for(self, predicate: Callable[[], bool], timeout_sim_seconds: float, step: float = 1.0) -> bool:
        """Until `predicate()` holds or `timeout_sim_seconds` of simulated time pass; True if it held."""
        deadline = self.clock.time() + timeout_sim_seconds
        since_sync = 0.0
        while True:
            if predicate():
                return True
            if self.clock.time() >= deadline:
                return False
            if self.background:
                time.sleep(min(0.05, step / self.time_factor))
                continue
            chunk = min(step, max(deadline - self.clock.time(), 0.001))
            self.simulation.step(chunk)
            since_sync += chunk
            if since_sync >= SYNC_EVERY_SIM_SECONDS:
                self.gitops.sync_once()
                since_sync = 0.0

    def healthy(self) -> bool:
        """True when Git is synced and every Deployment it manages is Healthy."""
        report = self.gitops.last_report
        if report is None or not report.synced or report.revision != self.repo.head():
            return False
        pods, _ = self.store.list(PODS, copy=False)
        for res in report.resources:
            if res.kind != "Deployment":
                continue
            live = self.store.find(DEPLOYMENTS, res.namespace, res.name, copy=False)
            if live is None or deployment_health(live, pods).status != HEALTHY:
                return False
        return True

    def wait_healthy(self, timeout: float = 60.0) -> None:
        """Wait until `healthy()`: `timeout` is wall seconds in background mode, simulated seconds
        (x factor) when stepped. Raises TimeoutError with what is still unhealthy."""
        if not self.background:
            self.gitops.sync_once()
        ok = self.wait_for(
            lambda: self._synced_now() and self.healthy(), timeout * self.time_factor, step=2.0
        )
        if not ok:
            app = self.store.find(APPLICATIONS, self.gitops.spec.namespace, self.gitops.spec.name) or {}
            raise TimeoutError(
                f"sandbox not healthy after {timeout}s: {(app.get('status') or {}).get('health')}"
            )

    def _synced_now(self) -> bool:
        if self.background:
            return True  # the loop syncs by itself
        self.gitops.sync_once()
        return True

    # -- Git and faults -----------------------------------------------------------------------

    def commit(self, changes: Mapping[str, str | None], message: str, *, sync: bool = True) -> str:
        """Commit files to `main` (path -> text, None deletes); with `sync`, wait until it is deployed."""
        sha = self.repo.commit(changes, message)
        if sync:
            self.sync(sha)
        return sha

    def commit_patch(
        self, resource: str, patch: Mapping[str, Any], message: str, *, sync: bool = True
    ) -> str:
        """Strategic-merge `patch` into the manifest of `resource` (`Deployment shop/web-api`) and commit."""
        return self.commit(self.injector.manifest_files().patch(resource, patch), message, sync=sync)

    def sync(self, revision: str | None = None, timeout: float = 30.0) -> None:
        """Make sure the cluster runs `revision` (default: head) before returning (or TimeoutError).

        A revision that does not apply (invalid YAML) returns once the failure is reported."""
        want = revision or self.repo.head()
        if not self.background:
            self.gitops.sync_once()
        self.gitops.wait_for(
            lambda r: r.revision == want and (r.synced or r.operation_phase == "Failed"), timeout
        )

    def inject(
        self, fault_type: str, target: str | Target, via: str = "git", message: str | None = None
    ) -> InjectedFault:
        """Inject a catalogue fault into `target` (`NS/deploy/NAME`); returns it with its ground truth.

        A Git fault is committed to `main` (with `message`, if given) and deployed before this returns."""
        fault = self.injector.inject(fault_type, target, via=via, message=message)  # type: ignore[arg-type]
        if fault.commit:
            self.sync(fault.commit)
        return fault

    def clear(self, fault: InjectedFault | str) -> str | None:
        """Undo an injected fault (by record or id); a restoring commit is deployed before returning."""
        sha = self.injector.clear(fault)
        if sha:
            self.sync(sha)
        return sha

    def faults(self) -> list[InjectedFault]:
        """Active faults."""
        return self.injector.active()

    def _admit(self, rt: ResourceType, obj: dict) -> dict:
        """What the API server does to an object the sync loop writes: defaults, and on create the
        kind's create-time fields (a Job's selector) and admission (quota, LimitRange...)."""
        apply_defaults(rt.kind, obj)
        meta = obj.get("metadata") or {}
        if not meta.get("resourceVersion") and meta.get("uid"):
            prepare_for_create(rt.kind, obj, meta["uid"])
            admission.mutate(self.store, rt, obj)
            admission.check(self.store, self.registry, rt, obj)
        return obj
