"""Resolve a pod to the chain of controllers that own it: Pod -> ReplicaSet -> Deployment, and so on."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from tools.kubernetes.client import KubeClient, NotFound
from tools.kubernetes.objects import (
    READABLE_KINDS,
    WORKLOAD_KINDS,
    controller_of,
    name_of,
    read_object,
    uid_of,
)
from tools.result import ToolFailure, ToolResult, TraceSink, discard

OWNER_CHAIN_TOOL = "kubernetes.owner_chain"
_MAX_DEPTH = 8  # a cycle of ownerReferences is a broken cluster; never loop on it


class ObjectRef(BaseModel):
    """One link of the chain."""

    model_config = ConfigDict(frozen=True)

    kind: str
    name: str
    uid: str = ""
    api_version: str = ""
    found: bool = True  # False when the owner is referenced but could not be read (deleted, unknown kind)


class OwnerChain(BaseModel):
    """The pod first, then each controller up to the top-most one."""

    model_config = ConfigDict(frozen=True)

    namespace: str
    chain: list[ObjectRef]

    @property
    def pod(self) -> ObjectRef:
        """The pod the chain starts from."""
        return self.chain[0]

    @property
    def top(self) -> ObjectRef:
        """The last resolved link: the object that owns everything below it."""
        return self.chain[-1]

    @property
    def workload(self) -> ObjectRef | None:
        """The top-most Deployment, StatefulSet, DaemonSet or Job in the chain (None for bare pods)."""
        for ref in reversed(self.chain):
            if ref.kind in WORKLOAD_KINDS:
                return ref
        return None

    def describe(self) -> str:
        """`Pod/x <- ReplicaSet/y <- Deployment/z`."""
        return " <- ".join(f"{r.kind}/{r.name}" + ("" if r.found else " (missing)") for r in self.chain)


def resolve_owner_chain(kube: KubeClient, namespace: str, pod: str) -> OwnerChain:
    """The owner chain of a pod (raises `ToolFailure`); see `owner_chain`."""
    obj = read_object(kube, "Pod", namespace, pod)
    chain = [ObjectRef(kind="Pod", name=name_of(obj), uid=uid_of(obj), api_version="v1")]
    seen = {uid_of(obj)}
    for _ in range(_MAX_DEPTH):
        ref = controller_of(obj)
        if ref is None:
            break
        link = ObjectRef(
            kind=str(ref.get("kind", "")),
            name=str(ref.get("name", "")),
            uid=str(ref.get("uid", "")),
            api_version=str(ref.get("apiVersion", "")),
        )
        if link.uid in seen:
            raise ToolFailure(
                f"ownerReferences of pod {namespace}/{pod} form a cycle at {link.kind}/{link.name}"
            )
        seen.add(link.uid)
        if link.kind not in READABLE_KINDS:  # a custom controller: name it, do not follow it
            chain.append(link.model_copy(update={"found": False}))
            break
        try:
            obj = read_object(kube, link.kind, namespace, link.name)
        except NotFound:
            chain.append(link.model_copy(update={"found": False}))
            break
        if link.uid and uid_of(obj) != link.uid:  # same name, new object: the real owner is gone
            chain.append(link.model_copy(update={"found": False}))
            break
        chain.append(link)
    return OwnerChain(namespace=namespace, chain=chain)


def owner_chain(
    kube: KubeClient, namespace: str, pod: str, *, sink: TraceSink = discard
) -> ToolResult[OwnerChain]:
    """Resolve a pod to its owners, e.g. Pod -> ReplicaSet -> Deployment, or Pod -> Job -> CronJob.

    An owner that is referenced but gone (or of a kind the tools do not read) ends the chain with
    `found=False`, so a caller can tell a bare pod from an orphaned one.
    """
    return kube.run(
        OWNER_CHAIN_TOOL,
        {"namespace": namespace, "pod": pod},
        lambda: resolve_owner_chain(kube, namespace, pod),
        sink,
        summarize=lambda c: c.describe(),
    )
