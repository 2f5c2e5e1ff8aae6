"""The embedded sandbox as the eval harness's testbed (`evals.testbed.Testbed`, `ClusterUnderTest`).

`evals` knows clusters only through that seam; this module is the sandbox behind it: a fresh
`sandbox.cluster.Sandbox` per scenario, its fault catalogue in the product's vocabulary
(`RootCause`), its ground truth translated, and the fix judged on its live objects and Git.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from agent.domain import RootCause
from evals.outcome import FaultTruth, ForbiddenRule
from evals.testbed import Via
from sandbox.apps import REPO_FOLDER
from sandbox.cluster import Sandbox
from sandbox.faults import FAULT_TYPES, InjectedFault, Target, object_id
from sandbox.faults.yamledit import ManifestFiles
from sandbox.resources import CONFIGMAPS, DEPLOYMENTS, NODES, PODS

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

    def inject(self, fault_type: str, target: str, *, via: Via) -> FaultTruth:
        """Inject a catalogue fault; its ground truth."""
        fault = self.sandbox.inject(fault_type, target, via=via)
        self._injected.append(fault)
        return fault_truth(fault)

    def commit_files(self, files: Mapping[str, str | None], message: str) -> None:
        """Commit files to `main` and wait until they are deployed."""
        self.sandbox.commit(files, message)

    def commit_patches(self, patches: Sequence[tuple[str, Mapping[str, Any]]], message: str) -> None:
        """One commit of manifest patches; two patches of one file in one commit are refused."""
        changes: dict[str, str | None] = {}
        for resource, patch in patches:
            # Re-read after each patch so two patches of one file would both land.
            files = ManifestFiles(self.sandbox.repo, REPO_FOLDER)
            path = files.path_of(resource)
            if path in changes:
                raise ValueError(f"two patches of one file ({path}) in one commit are not supported")
            changes.update(files.patch(resource, patch))
        self.sandbox.commit(changes, message)

    def append_log(self, target: str, lines: Sequence[str], container: str | None = None) -> int:
        """Append `lines` to the current log of every running pod of the Deployment `target`.

        The sandbox has no public knob for extra log lines, so this writes to the simulation's
        log store; a crash-looping container between starts has no current log and is skipped."""
        sb = self.sandbox
        workload = Target.parse(target)
        deployment = sb.store.find(DEPLOYMENTS, workload.namespace, workload.name)
        if deployment is None:
            raise LookupError(f"{workload.id} does not exist")
        selector = (deployment.get("spec", {}).get("selector") or {}).get("matchLabels") or {}
        pods, _ = sb.store.list(PODS)
        now = sb.clock.time()
        written = 0
        for pod in pods:
            meta: dict[str, Any] = pod["metadata"]
            labels = meta.get("labels") or {}
            if meta.get("namespace") != workload.namespace or not selector:
                continue
            if any(labels.get(k) != v for k, v in selector.items()):
                continue
            containers = (pod.get("spec") or {}).get("containers") or []
            name = container or (containers[0]["name"] if containers else None)
            log = sb.simulation.logs.current(workload.namespace, meta["name"], name) if name else None
            if log is None or log.finished is not None:
                continue
            log.add(now, "\n".join(lines))
            written += 1
        return written

    def fixed(self) -> list[bool]:
        """Per injected fault: fixed in the live objects, and in Git when Git can fix it."""
        live = self._live_objects()
        git = ManifestFiles(self.sandbox.repo, REPO_FOLDER).objects()
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
