"""What a fault builder works from and what it returns.

A builder takes a `FaultContext` (the target workload as Git holds it, the image it runs, the
live nodes and pods) and returns a `FaultPlan`: mutations of manifests in Git (one commit, so
the commit is the cause), or a physics hook for faults no manifest causes (node pressure), plus
the `GroundTruth`. Builders raise `FaultNotApplicable` when the target cannot have the fault
(e.g. `missing_env` on an image that needs no environment). Each fault cause has its own module
(`faults/oom.py`, ...) exporting `FAULT`; `faults/catalogue.py` lists them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.faults.taxonomy import FaultCategory
from sandbox.faults.truth import GroundTruth, resource_id
from sandbox.images import ImageCatalogue, ImageSpec

Obj = dict[str, Any]
Mutation = Callable[[Any], None]


class FaultNotApplicable(ValueError):
    """The target cannot have this fault (say why)."""


@dataclass(frozen=True)
class Target:
    """A workload: namespace, kind (Deployment) and name."""

    namespace: str
    name: str
    kind: str = "Deployment"

    @property
    def id(self) -> str:
        """The resource id, `Deployment shop/web-api`."""
        return resource_id(self.kind, self.namespace, self.name)

    def __str__(self) -> str:
        return f"{self.namespace}/deploy/{self.name}"

    @classmethod
    def parse(cls, text: str) -> Target:
        """`NS/deploy/NAME` (also `NS/deployment/NAME` and `NS/NAME`)."""
        parts = [p for p in text.strip().split("/") if p]
        if len(parts) == 3 and parts[1].lower() in ("deploy", "deployment", "deployments"):
            return cls(parts[0], parts[2])
        if len(parts) == 2:
            return cls(parts[0], parts[1])
        raise ValueError(f"cannot parse target {text!r}: expected NAMESPACE/deploy/NAME")


@dataclass
class FaultContext:
    """What a builder may look at."""

    target: Target
    objects: dict[str, Obj]  # Git objects by resource id
    catalogue: ImageCatalogue
    nodes: list[Obj] = field(default_factory=list)  # live
    pods: list[Obj] = field(default_factory=list)  # live pods of the target
    all_pods: list[Obj] = field(default_factory=list)

    @property
    def deployment(self) -> Obj:
        """The target Deployment as Git holds it."""
        try:
            return self.objects[self.target.id]
        except KeyError:
            raise FaultNotApplicable(f"{self.target.id} is not defined in the GitOps repository") from None

    @property
    def pod_spec(self) -> Obj:
        """The target's pod template spec."""
        return self.deployment["spec"]["template"]["spec"]

    @property
    def container(self) -> Obj:
        """The main container: the first one whose image the catalogue knows (else the first)."""
        containers = self.pod_spec.get("containers") or []
        if not containers:
            raise FaultNotApplicable(f"{self.target.id} has no containers")
        return next((c for c in containers if self.catalogue.resolve(c.get("image", ""))), containers[0])

    @property
    def image(self) -> ImageSpec:
        """The main container's image spec."""
        spec = self.catalogue.resolve(self.container.get("image", ""))
        if spec is None:
            raise FaultNotApplicable(f"{self.target.id} runs an image the catalogue does not know")
        return spec

    def env_entry(self, name: str) -> Obj | None:
        """The main container's env entry `name`."""
        return next((e for e in self.container.get("env") or [] if e.get("name") == name), None)

    def env_value(self, name: str) -> str | None:
        """The value an env var resolves to from Git (literal or ConfigMap key)."""
        entry = self.env_entry(name)
        if entry is None:
            return None
        if "value" in entry:
            return str(entry["value"])
        ref = (entry.get("valueFrom") or {}).get("configMapKeyRef")
        if ref:
            cm = self.objects.get(resource_id("ConfigMap", self.target.namespace, ref["name"]))
            value = ((cm or {}).get("data") or {}).get(ref["key"])
            return None if value is None else str(value)
        return None

    def resolved_env(self) -> dict[str, str]:
        """Every env var of the main container that resolves."""
        names = [e.get("name") for e in self.container.get("env") or []]
        return {n: v for n in names if n and (v := self.env_value(n)) is not None}


@dataclass
class FaultPlan:
    """What injecting does, and the truth about it."""

    truth: GroundTruth
    edits: dict[str, Mutation] = field(default_factory=dict)  # resource id -> in-place mutation
    commit_message: str = ""
    pressure_node: str | None = None  # physics: put this node under memory pressure


@dataclass(frozen=True)
class FaultType:
    """One entry of the catalogue."""

    name: str
    category: FaultCategory
    summary: str
    mechanism: str  # "git" (a commit to main) or "physics" (a simulation hook)
    build: Callable[[FaultContext], FaultPlan]
