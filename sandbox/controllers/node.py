"""Nodes: their objects (capacity, allocatable, conditions, nodeInfo) and memory-pressure evictions.

Under memory pressure a node reports MemoryPressure=True, gets the
`node.kubernetes.io/memory-pressure:NoSchedule` taint, and its kubelet evicts pods, BestEffort
first, then Burstable pods by how far their usage exceeds their requests, one every few
seconds until the configured amount of memory has been reclaimed (Guaranteed pods are spared).
"""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.clock import rfc3339
from sandbox.controllers.base import WiredController, Wiring, update_with_retry
from sandbox.controllers.events import Source
from sandbox.controllers.kubelet import Kubelet
from sandbox.controllers.pod_resources import pod_requests
from sandbox.controllers.quantity import MI, format_mi, memory_bytes
from sandbox.resources import NODES
from sandbox.store import Obj

PRESSURE_TAINT = {"key": "node.kubernetes.io/memory-pressure", "effect": "NoSchedule"}
EVICTION_INTERVAL = 5.0
EVICTION_THRESHOLD = "100Mi"
HEARTBEAT_SECONDS = 60.0


@dataclass(frozen=True)
class NodeSpec:
    """One simulated node."""

    name: str
    cpu: str = "4"
    memory: str = "8Gi"
    pods: int = 110


def default_nodes(count: int = 3) -> list[NodeSpec]:
    """`count` identical 4 CPU / 8Gi workers."""
    return [NodeSpec(f"sandbox-worker-{i + 1}") for i in range(count)]


def _allocatable_memory(memory: str) -> str:
    # Capacity minus kube-reserved/system-reserved and the hard eviction threshold, like a real node.
    return f"{(memory_bytes(memory) - 356 * MI) // 1024}Ki"


def _capacity_memory(memory: str) -> str:
    return f"{memory_bytes(memory) // 1024}Ki"


class NodeController(WiredController):
    """Creates the node objects, keeps their conditions current and runs pressure evictions."""

    name = "node"

    def __init__(self, wiring: Wiring, kubelet: Kubelet, nodes: list[NodeSpec]) -> None:
        super().__init__(wiring)
        self._kubelet = kubelet
        self.specs = {n.name: n for n in nodes}
        self.pressure: dict[str, float] = {}  # node -> bytes still to reclaim
        self._since: dict[tuple[str, str], float] = {}
        for i, n in enumerate(nodes):
            kubelet.nodes[n.name] = (i + 1, f"172.18.0.{i + 2}")

    def register(self) -> None:
        """Create (or refresh) every node object."""
        for name in self.specs:
            if self._store.find(NODES, "", name, copy=False) is None:
                self._store.create(NODES, self._node_object(name))
                self._recorder.emit(
                    self._store.get(NODES, "", name),
                    "Normal",
                    "Starting",
                    "Starting kubelet.",
                    Source("kubelet", name),
                )
            self.mark(name)

    def set_pressure(self, node: str, on: bool, reclaim_bytes: float = 512 * MI) -> None:
        """Turn memory pressure on (reclaiming `reclaim_bytes` by evictions) or off."""
        if node not in self.specs:
            raise KeyError(f'node "{node}" not found')
        if on:
            self.pressure[node] = reclaim_bytes
        else:
            self.pressure.pop(node, None)
        obj = self._store.get(NODES, "", node)
        if on:
            self._recorder.emit(
                obj,
                "Normal",
                "NodeHasInsufficientMemory",
                f"Node {node} status is now: NodeHasInsufficientMemory",
                Source("kubelet", node),
            )
            self._recorder.emit(
                obj,
                "Warning",
                "EvictionThresholdMet",
                "Attempting to reclaim memory",
                Source("kubelet", node),
            )
        else:
            self._recorder.emit(
                obj,
                "Normal",
                "NodeHasSufficientMemory",
                f"Node {node} status is now: NodeHasSufficientMemory",
                Source("kubelet", node),
            )
        self.mark(node)

    def sync(self, name: str) -> None:
        """Publish conditions and taints; evict one pod if under pressure."""
        now = self._clock()
        under = name in self.pressure

        def spec_mutate(obj: Obj) -> bool:
            taints = [
                t
                for t in (obj.get("spec") or {}).get("taints") or []
                if t.get("key") != PRESSURE_TAINT["key"]
            ]
            if under:
                taints.append(dict(PRESSURE_TAINT))
            if taints == ((obj.get("spec") or {}).get("taints") or []):
                return False
            if taints:
                obj.setdefault("spec", {})["taints"] = taints
            else:
                obj.setdefault("spec", {}).pop("taints", None)
            return True

        update_with_retry(self._store, NODES, ("", name), spec_mutate)

        def status_mutate(obj: Obj) -> bool:
            conds = self._conditions(name, now)
            old = (obj.get("status") or {}).get("conditions")
            obj.setdefault("status", {})["conditions"] = conds
            return conds != old

        update_with_retry(self._store, NODES, ("", name), status_mutate, status_only=True)
        if under:
            self._evict_one(name, now)
        self._timers.at(now + (EVICTION_INTERVAL if under else HEARTBEAT_SECONDS), self.name, name)

    def _evict_one(self, node: str, now: float) -> None:
        if self.pressure.get(node, 0) <= 0:
            return
        candidates = []
        for key, rt in self._kubelet.pods.items():
            if rt.node != node or rt.final:
                continue
            usage = self._kubelet.usage(key, now)
            req = sum(pod_requests({"containers": [c.spec]})[1] for c in rt.containers)
            if rt.qos == "Guaranteed":
                continue
            rank = 0 if rt.qos == "BestEffort" else 1
            candidates.append((rank, -(usage - req), key, usage, req, rt))
        if not candidates:
            return
        candidates.sort(key=lambda c: (c[0], c[1], c[2]))
        _, _, key, usage, req, rt = candidates[0]
        available = 100 * MI - 8 * MI - int(self.pressure[node] / 64)
        biggest = max(rt.containers, key=lambda c: c.instance.working_set(now) if c.instance else 0)
        message = (
            f"The node was low on resource: memory. Threshold quantity: {EVICTION_THRESHOLD}, available: "
            f"{format_mi(max(available, MI))}. Container {biggest.name} was using {format_mi(usage)}, "
            f"request is {format_mi(req) if req else '0'}, has larger consumption of memory. "
        )
        self._kubelet.evict(key, message.strip())
        self.pressure[node] = self.pressure[node] - max(usage, 64 * MI)

    def _conditions(self, name: str, now: float) -> list[dict]:
        under = name in self.pressure
        rows = [
            (
                "MemoryPressure",
                "True" if under else "False",
                "KubeletHasInsufficientMemory" if under else "KubeletHasSufficientMemory",
                "kubelet has insufficient memory available"
                if under
                else "kubelet has sufficient memory available",
            ),
            ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
        ]
        out = []
        for type_, status, reason, message in rows:
            since = self._since.get((name, type_ + status))
            if since is None:
                since = now
                self._since = {
                    k: v for k, v in self._since.items() if k[0] != name or not k[1].startswith(type_)
                }
                self._since[(name, type_ + status)] = now
            out.append({
                "type": type_, "status": status, "reason": reason, "message": message,
                "lastHeartbeatTime": rfc3339(now), "lastTransitionTime": rfc3339(since),
            })  # fmt: skip
        return out

    def _node_object(self, name: str) -> Obj:
        spec = self.specs[name]
        index, ip = self._kubelet.nodes[name]
        now = self._clock()
        return {
            "metadata": {
                "name": name,
                "labels": {
                    "kubernetes.io/hostname": name,
                    "kubernetes.io/os": "linux",
                    "kubernetes.io/arch": "amd64",
                    "beta.kubernetes.io/os": "linux",
                    "beta.kubernetes.io/arch": "amd64",
                    "node.kubernetes.io/instance-type": "sandbox.standard-4",
                    "topology.kubernetes.io/zone": f"sandbox-{'abc'[(index - 1) % 3]}",
                },
                "annotations": {"node.alpha.kubernetes.io/ttl": "0"},
            },
            "spec": {
                "podCIDR": f"10.244.{index}.0/24",
                "podCIDRs": [f"10.244.{index}.0/24"],
                "providerID": f"sandbox://{name}",
            },
            "status": {
                "capacity": {
                    "cpu": spec.cpu,
                    "memory": _capacity_memory(spec.memory),
                    "pods": str(spec.pods),
                    "ephemeral-storage": "102687672Ki",
                    "hugepages-2Mi": "0",
                },
                "allocatable": {
                    "cpu": spec.cpu,
                    "memory": _allocatable_memory(spec.memory),
                    "pods": str(spec.pods),
                    "ephemeral-storage": "94636577761",
                    "hugepages-2Mi": "0",
                },
                "conditions": self._conditions(name, now),
                "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "nodeInfo": {
                    "machineID": f"{index:032x}",
                    "systemUUID": f"00000000-0000-0000-0000-{index:012x}",
                    "bootID": f"b007{index:04x}-0000-4000-8000-{index:012x}",
                    "kernelVersion": "6.8.0-45-generic",
                    "osImage": "Debian GNU/Linux 12 (bookworm)",
                    "containerRuntimeVersion": "containerd://1.7.22",
                    "kubeletVersion": "v1.32.0",
                    "kubeProxyVersion": "v1.32.0",
                    "operatingSystem": "linux",
                    "architecture": "amd64",
                },
                "images": [],
            },
        }
