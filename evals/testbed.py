"""What the harness needs of the cluster a scenario runs in: a typed seam, filled from above.

`evals` never imports the sandbox (nor the graph or the server): whoever runs scenarios hands
`run_scenarios` a `Testbed` (fresh clusters with fault injection, and the faults they can
inject) and an `Agent`. `paramedic.eval_sandbox.SandboxTestbed` is the embedded sandbox behind
this seam and `paramedic.eval_agent.graph_agent` the real agent; tests may pass stand-ins.
Categories are the product's vocabulary (`agent.domain.RootCause`), never the sandbox's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, Protocol

from agent.domain import RootCause
from evals.effects import CommitEffect
from evals.outcome import FaultTruth

FaultCatalogue = Mapping[str, RootCause]
"""Every fault type a testbed can inject, with the root-cause category it belongs to."""

Via = Literal["git", "cluster"]
Instance = Literal["current", "previous"]
Where = Literal["live", "git"]


class ClusterUnderTest(Protocol):
    """One fresh cluster for one scenario: Kubernetes API, GitOps repository, simulated time, faults.

    Time is simulated: `now`, `advance` and `wait_for` count simulated seconds, which a cluster
    may run faster than the wall clock.
    """

    @property
    def kubeconfig_path(self) -> Path | None:
        """A kubeconfig for the cluster's API server (None when it serves no API)."""
        ...

    @property
    def api_url(self) -> str | None:
        """The API server's URL."""
        ...

    @property
    def metrics_url(self) -> str | None:
        """The Prometheus exposition endpoint, if there is one."""
        ...

    @property
    def repo_path(self) -> Path:
        """The local GitOps repository whose `main` the cluster runs."""
        ...

    def start(self) -> None:
        """Bring the cluster up."""
        ...

    def stop(self) -> None:
        """Tear it down (safe to call twice)."""
        ...

    def wait_healthy(self, timeout: float) -> None:
        """Until every workload is healthy; TimeoutError naming what is not."""
        ...

    def healthy(self) -> bool:
        """Git is synced and every workload it manages is healthy."""
        ...

    def wait_for(self, predicate: Callable[[], bool], timeout_sim_seconds: float, step: float = 1.0) -> bool:
        """Until `predicate()` holds or the simulated timeout passes; True if it held."""
        ...

    def now(self) -> float:
        """The simulated clock, epoch seconds."""
        ...

    def advance(self, sim_seconds: float) -> None:
        """Let simulated time pass."""
        ...

    def inject(self, fault_type: str, target: str, *, via: Via, message: str | None = None) -> FaultTruth:
        """Inject a catalogue fault into `target` (`NS/deploy/NAME`), committed with `message` if given
        (git only); its resolved ground truth."""
        ...

    def commit_files(self, files: Mapping[str, str | None], message: str) -> None:
        """Commit files to `main` (path -> text, None deletes) and wait until it is deployed."""
        ...

    def commit_patches(self, patches: Sequence[tuple[str, Mapping[str, Any]]], message: str) -> None:
        """One commit of strategic-merge patches, each `(resource id, patch)` of one manifest."""
        ...

    def apply_manifest(self, manifest: Mapping[str, Any]) -> None:
        """Create (or replace) one object on the cluster directly, not through Git."""
        ...

    def delete_object(self, resource: str) -> None:
        """Delete one live object (`Kind ns/name`) directly, not through Git; LookupError if absent."""
        ...

    def append_log(
        self,
        target: str,
        lines: Sequence[str],
        container: str | None = None,
        *,
        instance: Instance = "current",
        persist: bool = False,
    ) -> int:
        """Append `lines` to the current (or last terminated) log of every pod of `target`; with
        `persist`, also to every later instance (at its start, or at its exit). How many logs took
        them now."""
        ...

    def objects(self, where: Where) -> dict[str, dict[str, Any]]:
        """Every object the cluster runs (`live`) or Git declares (`git`), keyed `Kind ns/name`; Secret
        values are blanked."""
        ...

    def git_head(self) -> str:
        """The commit `main` points at."""
        ...

    def commit_effect(self, sha: str, base: str) -> CommitEffect | None:
        """What commit `sha` changed on `main` (None when it is not on `main`); `base`: the head when the
        agent started, to tell commits made before it."""
        ...

    def fixed(self) -> list[bool]:
        """For each fault injected so far, in order: does the final state (live, and Git when Git can
        fix it) fix it?"""
        ...


class Testbed(Protocol):
    """Where scenarios run: a fresh cluster per scenario, and the faults those clusters can inject."""

    @property
    def faults(self) -> FaultCatalogue:
        """The injectable fault types and their categories."""
        ...

    def new_cluster(self, seed: int) -> ClusterUnderTest:
        """A fresh, not yet started cluster; the same seed gives the same cluster."""
        ...
