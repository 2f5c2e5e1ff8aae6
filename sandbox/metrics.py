"""Prometheus text exposition of the simulated cluster: cAdvisor, kube-state-metrics and app series.

Values come from the kubelet simulation's per-container instances (working set, CPU, request
counters: computed from their plans at the current simulated time, not sampled) and from the
store (Deployments, nodes). Counters restart with each container instance, as a real
process's do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sandbox.controllers.kubelet import Kubelet
from sandbox.controllers.quantity import memory_bytes
from sandbox.resources import DEPLOYMENTS, NODES, PODS
from sandbox.store import Store

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Cumulative share of requests at or under each bucket bound, and the mean latency.
_HEALTHY = ((0.02, 0.10, 0.45, 0.75, 0.92, 0.985, 0.996, 0.999, 1.0, 1.0, 1.0), 0.045)
_FAST_FAIL = ((0.60, 0.90, 0.98, 0.995, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0), 0.006)
_SLOW_FAIL = ((0.0, 0.01, 0.05, 0.20, 0.45, 0.80, 0.95, 0.99, 1.0, 1.0, 1.0), 0.21)

_HELP = {
    "container_memory_working_set_bytes": ("gauge", "Current working set of the container in bytes"),
    "container_spec_memory_limit_bytes": ("gauge", "Memory limit for the container."),
    "container_cpu_usage_seconds_total": ("counter", "Cumulative cpu time consumed in seconds."),
    "kube_pod_container_status_restarts_total": (
        "counter",
        "The number of container restarts per container.",
    ),
    "kube_pod_container_status_waiting_reason": (
        "gauge",
        "Describes the reason the container is currently in waiting state.",
    ),
    "kube_pod_container_status_last_terminated_reason": (
        "gauge",
        "Describes the last reason the container was in terminated state.",
    ),
    "kube_pod_container_status_ready": (
        "gauge",
        "Describes whether the containers readiness check succeeded.",
    ),
    "kube_pod_container_status_running": (
        "gauge",
        "Describes whether the container is currently in running state.",
    ),
    "kube_pod_container_resource_limits": ("gauge", "The number of requested limit resource by a container."),
    "kube_pod_status_phase": ("gauge", "The pods current phase."),
    "kube_pod_status_ready": ("gauge", "Describes whether the pod is ready to serve requests."),
    "kube_pod_status_unschedulable": ("gauge", "Describes the unschedulable status for the pod."),
    "kube_deployment_spec_replicas": ("gauge", "Number of desired pods for a deployment."),
    "kube_deployment_status_replicas": ("gauge", "The number of replicas per deployment."),
    "kube_deployment_status_replicas_available": (
        "gauge",
        "The number of available replicas per deployment.",
    ),
    "kube_deployment_status_replicas_unavailable": (
        "gauge",
        "The number of unavailable replicas per deployment.",
    ),
    "kube_deployment_status_replicas_updated": ("gauge", "The number of updated replicas per deployment."),
    "kube_deployment_status_observed_generation": (
        "gauge",
        "The generation observed by the deployment controller.",
    ),
    "kube_deployment_metadata_generation": (
        "gauge",
        "Sequence number representing a specific generation of the desired state.",
    ),
    "kube_node_status_condition": ("gauge", "The condition of a cluster node."),
    "http_requests_total": ("counter", "Total HTTP requests served, by status code."),
    "http_request_duration_seconds": ("histogram", "HTTP request latency in seconds."),
}


def _esc(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: dict[str, str]) -> str:
    return "{" + ",".join(f'{k}="{_esc(str(v))}"' for k, v in labels.items()) + "}"


def _num(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


class _Writer:
    def __init__(self) -> None:
        self.families: dict[str, list[str]] = {}

    def add(self, name: str, labels: dict[str, str], value: float, family: str | None = None) -> None:
        self.families.setdefault(family or name, []).append(f"{name}{_labels(labels)} {_num(value)}")

    def render(self) -> str:
        out = []
        for family, lines in self.families.items():
            kind, text = _HELP.get(family, ("untyped", family))
            out.append(f"# HELP {family} {text}")
            out.append(f"# TYPE {family} {kind}")
            out.extend(lines)
        return "\n".join(out) + "\n"


def render(store: Store, kubelet: Kubelet, now: Callable[[], float]) -> str:
    """The exposition text for one scrape."""
    t = now()
    w = _Writer()
    for (ns, pod), rt in sorted(kubelet.pods.items()):
        base = {"namespace": ns, "pod": pod}
        for c in rt.containers:
            cl = {**base, "container": c.name}
            w.add("kube_pod_container_status_restarts_total", cl, c.restart_count)
            w.add("kube_pod_container_status_ready", cl, 1 if c.ready else 0)
            w.add("kube_pod_container_status_running", cl, 1 if c.stage == "running" else 0)
            if c.stage != "running" and c.terminated is None and c.stage != "done":
                w.add(
                    "kube_pod_container_status_waiting_reason",
                    {**cl, "reason": c.waiting_reason or "ContainerCreating"},
                    1,
                )
            if c.last_terminated:
                w.add(
                    "kube_pod_container_status_last_terminated_reason",
                    {**cl, "reason": c.last_terminated.get("reason", "")},
                    1,
                )
            limit = memory_bytes(((c.spec.get("resources") or {}).get("limits") or {}).get("memory"))
            if limit:
                w.add(
                    "kube_pod_container_resource_limits", {**cl, "resource": "memory", "unit": "byte"}, limit
                )
            inst = c.instance
            if inst is None or rt.final:
                continue
            cad = {**cl, "node": rt.node, "image": c.spec.get("image", "")}
            w.add("container_memory_working_set_bytes", cad, round(inst.working_set(t)))
            w.add("container_spec_memory_limit_bytes", cad, limit)
            ok, failed, cpu = inst.counters(t)
            w.add("container_cpu_usage_seconds_total", cad, round(cpu, 3))
            if inst.plan.serves_http:
                _http(w, base, ok, failed, inst.deps_ok)
        for phase in ("Pending", "Running", "Succeeded", "Failed", "Unknown"):
            current = (rt.last_status or {}).get("phase", "Pending")
            w.add("kube_pod_status_phase", {**base, "phase": phase}, 1 if current == phase else 0)
        ready = bool(rt.containers) and all(c.ready for c in rt.containers)
        for cond, value in (("true", ready), ("false", not ready), ("unknown", False)):
            w.add("kube_pod_status_ready", {**base, "condition": cond}, 1 if value else 0)
    # Pods no kubelet runs yet (unscheduled) still have a phase, as kube-state-metrics reports.
    pods, _ = store.list(PODS, copy=False)
    for p in pods:
        key = (p["metadata"].get("namespace", ""), p["metadata"]["name"])
        if key in kubelet.pods:
            continue
        base = {"namespace": key[0], "pod": key[1]}
        current = (p.get("status") or {}).get("phase", "Pending")
        for phase in ("Pending", "Running", "Succeeded", "Failed", "Unknown"):
            w.add("kube_pod_status_phase", {**base, "phase": phase}, 1 if current == phase else 0)
        unschedulable = any(
            c.get("type") == "PodScheduled"
            and c.get("status") == "False"
            and c.get("reason") == "Unschedulable"
            for c in (p.get("status") or {}).get("conditions") or []
        )
        if unschedulable:
            w.add("kube_pod_status_unschedulable", base, 1)
    deployments, _ = store.list(DEPLOYMENTS, copy=False)
    for d in deployments:
        labels = {"namespace": d["metadata"]["namespace"], "deployment": d["metadata"]["name"]}
        st = d.get("status") or {}
        w.add("kube_deployment_spec_replicas", labels, int((d.get("spec") or {}).get("replicas", 1)))
        w.add("kube_deployment_status_replicas", labels, st.get("replicas", 0))
        w.add("kube_deployment_status_replicas_available", labels, st.get("availableReplicas", 0))
        w.add("kube_deployment_status_replicas_unavailable", labels, st.get("unavailableReplicas", 0))
        w.add("kube_deployment_status_replicas_updated", labels, st.get("updatedReplicas", 0))
        w.add("kube_deployment_status_observed_generation", labels, st.get("observedGeneration", 0))
        w.add("kube_deployment_metadata_generation", labels, d["metadata"].get("generation", 1))
    nodes, _ = store.list(NODES, copy=False)
    for n in nodes:
        for cond in (n.get("status") or {}).get("conditions") or []:
            for state in ("true", "false", "unknown"):
                w.add(
                    "kube_node_status_condition",
                    {"node": n["metadata"]["name"], "condition": cond["type"], "status": state},
                    1 if cond.get("status", "").lower() == state else 0,
                )
    return w.render()


def _http(w: _Writer, base: dict[str, str], ok: float, failed: dict[str, float], deps_ok: bool) -> None:
    w.add("http_requests_total", {**base, "code": "200"}, int(ok))
    for code, n in sorted(failed.items()):
        w.add("http_requests_total", {**base, "code": code}, int(n))
    parts: list[tuple[float, tuple[tuple[float, ...], float]]] = [(ok, _HEALTHY)]
    for code, n in failed.items():
        parts.append((n, _FAST_FAIL if code == "503" else _SLOW_FAIL))
    total = sum(int(n) for n, _ in parts)
    cumulative = [0] * len(BUCKETS)
    latency_sum = 0.0
    for n, (fractions, mean) in parts:
        for i, f in enumerate(fractions):
            cumulative[i] += int(int(n) * f)
        latency_sum += int(n) * mean
    fam = "http_request_duration_seconds"
    for le, count in _with_inf(BUCKETS, cumulative, total):
        w.add(f"{fam}_bucket", {**base, "le": le}, count, family=fam)
    w.add(f"{fam}_sum", base, round(latency_sum, 3), family=fam)
    w.add(f"{fam}_count", base, total, family=fam)


def _with_inf(bounds: Iterable[float], counts: list[int], total: int) -> list[tuple[str, int]]:
    out = [
        (repr(b) if b != int(b) else f"{b:.1f}", min(c, total)) for b, c in zip(bounds, counts, strict=True)
    ]
    out.append(("+Inf", total))
    return out
