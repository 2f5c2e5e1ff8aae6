"""Image pulls through the registry model (`sandbox.images` -> `sandbox.registry`) with the pod's pull
secrets: the pull policy, "already present on machine", pull time by image size, a malformed reference's
InvalidImageName, and a refused image's ErrImagePull -> ImagePullBackOff with the registry's words and a
doubling back-off."""

from __future__ import annotations

from sandbox.controllers.kubelet.runtime import (
    CONFIG_RETRY,
    MAX_BACKOFF,
    ContainerRuntime,
    KubeletContext,
    PodRuntime,
)
from sandbox.registry.credentials import pull_credentials
from sandbox.store import Obj


class ImagePuller:
    """The pull stages of a container: `pull`, `pulling` (in progress), `pull_backoff`."""

    def __init__(self, ctx: KubeletContext) -> None:
        self._ctx = ctx
        self._node_images: dict[str, set[str]] = {}

    def pull(self, rt: PodRuntime, pod: Obj, c: ContainerRuntime, now: float) -> None:
        """Start pulling (or use the node's copy); a refused image fails with ErrImagePull."""
        ctx = self._ctx
        image = c.spec.get("image", "")
        pulled = ctx.catalogue.pull(image, pull_credentials(ctx.store, pod))
        spec = pulled.spec
        if pulled.reason == "InvalidImageName":
            c.waiting_reason, c.waiting_message = "InvalidImageName", pulled.message
            ctx.emit(pod, "Warning", "InspectFailed", pulled.message, c.name, rt.node)
            ctx.emit(pod, "Warning", "Failed", "Error: InvalidImageName", c.name, rt.node)
            c.next_at = now + CONFIG_RETRY
            return
        policy = c.spec.get("imagePullPolicy") or (
            "Always" if image.endswith(":latest") or ":" not in image.rsplit("/", 1)[-1] else "IfNotPresent"
        )
        present = image in self._node_images.get(rt.node, set())
        if spec is not None and present and policy != "Always":
            ctx.emit(
                pod,
                "Normal",
                "Pulled",
                f'Container image "{image}" already present on machine',
                c.name,
                rt.node,
            )
            c.image, c.stage, c.next_at = spec, "create", now
            return
        if policy == "Never":
            msg = f'Container image "{image}" is not present with pull policy of Never'
            c.waiting_reason, c.waiting_message = "ErrImageNeverPull", msg
            ctx.emit(pod, "Warning", "ErrImageNeverPull", msg, c.name, rt.node)
            c.next_at = now + CONFIG_RETRY
            return
        ctx.emit(pod, "Normal", "Pulling", f'Pulling image "{image}"', c.name, rt.node)
        if spec is None:
            full = pulled.message
            c.waiting_reason, c.waiting_message = "ErrImagePull", full
            ctx.logs.set_waiting(*rt.key, c.name, "trying and failing to pull image")
            ctx.emit(pod, "Warning", "Failed", full, c.name, rt.node)
            ctx.emit(pod, "Warning", "Failed", "Error: ErrImagePull", c.name, rt.node)
            c.stage, c.next_at = "pull-backoff", now + 1.0
            return
        c.image = spec
        c.stage, c.pull_started = "pulling", now
        c.next_at = now + 0.5 + spec.size_bytes / 40_000_000 * (0.8 + 0.4 * ctx.rng.random())

    def pulling(self, rt: PodRuntime, pod: Obj, c: ContainerRuntime, now: float) -> None:
        """The pull finished: the image is on the node."""
        image = c.spec.get("image", "")
        took = f"{now - c.pull_started:.3f}s"
        size = c.image.size_bytes if c.image else 0
        self._node_images.setdefault(rt.node, set()).add(image)
        self._ctx.emit(
            pod,
            "Normal",
            "Pulled",
            f'Successfully pulled image "{image}" in {took} ({took} including waiting). '
            f"Image size: {size} bytes.",
            c.name,
            rt.node,
        )
        c.stage, c.next_at = "create", now

    def backoff(self, rt: PodRuntime, pod: Obj, c: ContainerRuntime, now: float) -> None:
        """ErrImagePull turns into ImagePullBackOff; when the back-off ends, config and pull again."""
        if c.waiting_reason == "ErrImagePull":
            image = c.spec.get("image", "")
            c.waiting_reason = "ImagePullBackOff"
            c.waiting_message = f'Back-off pulling image "{image}"'
            self._ctx.emit(pod, "Normal", "BackOff", f'Back-off pulling image "{image}"', c.name, rt.node)
            self._ctx.emit(pod, "Warning", "Failed", "Error: ImagePullBackOff", c.name, rt.node)
            c.next_at = now + c.pull_backoff
            c.pull_backoff = min(c.pull_backoff * 2, MAX_BACKOFF)
            return
        c.stage, c.next_at = "config", now  # config may have changed meanwhile: re-resolve, then pull
