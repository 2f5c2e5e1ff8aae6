"""Launching a container's program outside the kubelet, for the profile tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.images import ImageCatalogue
from sandbox.profiles.launch import ProgramPlan, launch
from sandbox.resources import CONFIGMAPS, SECRETS, SERVICES
from sandbox.shell.net import StaticNetwork
from sandbox.store import Store

CATALOGUE = ImageCatalogue()
T0 = 1000.0
MI = 1 << 20


@dataclass
class Started:
    plan: ProgramPlan
    lines: list[str]

    def run(self, seconds: float) -> Started:
        self.lines += [line for _, line in self.plan.advance(T0 + seconds)]
        return self

    @property
    def exit(self) -> tuple[float, int, str] | None:
        return self.plan.process.exit

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def start(
    image: str,
    seconds: float = 30.0,
    objects: list[tuple[Any, dict]] = (),  # type: ignore[assignment]
    pod_spec: dict | None = None,
    limit: float = 0.0,
    net: StaticNetwork | None = None,
    **container: Any,
) -> Started:
    store = Store()
    for rt, obj in objects:
        store.create(rt, {"metadata": {"namespace": "default", **obj.pop("metadata", {})}, **obj})
    spec = CATALOGUE.resolve(image)
    assert spec is not None, image
    env = {e["name"]: e.get("value", "") for e in container.get("env") or []}
    c = {"name": "main", "image": image, **container}
    pod = {
        "metadata": {"name": "pod-1", "namespace": "default", "uid": "u-1"},
        "spec": {"containers": [c], **(pod_spec or {})},
    }
    net = net or StaticNetwork(pod_ip="10.244.1.2")
    plan = launch(spec, pod, c, env, limit, T0, store, net)
    assert plan is not None
    net.local = plan.process.listeners  # localhost reaches the container's own sockets
    return Started(plan, []).run(seconds)


__all__ = ["CONFIGMAPS", "MI", "SECRETS", "SERVICES", "Started", "start"]
