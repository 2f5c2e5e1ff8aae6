"""The scheduler's per-node filters, in kube-scheduler's plugin order, each failing with its own reason
and whether preemption could help: NodeUnschedulable, TaintToleration, NodeAffinity, NodeResourcesFit
(cpu, memory, extended resources such as nvidia.com/gpu, pod count), VolumeBinding (a bound volume's
node affinity), PodTopologySpread and InterPodAffinity (required affinity and anti-affinity, and the
anti-affinity of pods already placed). A node reports the first plugin that rejects it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox.controllers.base import Key
from sandbox.controllers.node_match import label_selector_matches, matches_node, untolerated_taint
from sandbox.controllers.pod_resources import pod_requests
from sandbox.controllers.quantity import parse_quantity
from sandbox.store import Obj

RESOLVABLE = "Unschedulable"  # preemption might help
UNRESOLVABLE = "UnschedulableAndUnresolvable"


@dataclass
class Placed:
    """A pod the scheduler has bound (what affinity rules look at)."""

    namespace: str
    labels: dict[str, str]
    anti_affinity: list[Obj]  # its required anti-affinity terms
    requests: dict[str, float]
    cpu_millis: int = 0  # non-zero requests for scoring (integers, so equal loads tie exactly)
    memory_bytes: int = 0
    owner: str = ""  # the controlling owner's uid (what default spreading counts)


@dataclass
class NodeInfo:
    """A node and the pods bound to it."""

    node: Obj
    pods: dict[Key, Placed] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The node's name."""
        return self.node["metadata"]["name"]

    def requested(self) -> dict[str, float]:
        """The summed requests of the pods on the node."""
        total: dict[str, float] = {}
        for placed in self.pods.values():
            for k, v in placed.requests.items():
                total[k] = total.get(k, 0.0) + v
        return total


def resource_requests(spec: Obj) -> dict[str, float]:
    """A pod's effective requests: app containers summed, each init container a floor, plus overhead.
    Limits stand in for missing requests (as the API server's defaulting makes them)."""

    def of(c: Obj) -> dict[str, float]:
        res = c.get("resources") or {}
        merged = {**(res.get("limits") or {}), **(res.get("requests") or {})}
        out = {}
        for name, value in merged.items():
            try:
                out[name] = parse_quantity(value)
            except ValueError:
                continue
        return out

    total: dict[str, float] = {}
    for c in spec.get("containers") or []:
        for k, v in of(c).items():
            total[k] = total.get(k, 0.0) + v
    for c in spec.get("initContainers") or []:
        for k, v in of(c).items():
            total[k] = max(total.get(k, 0.0), v)
    for k, v in (spec.get("overhead") or {}).items():
        total[k] = total.get(k, 0.0) + parse_quantity(v)
    return total


def _ready(node: Obj) -> bool:
    conditions = (node.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _fit(spec: Obj, info: NodeInfo, requests: dict[str, float]) -> list[str]:
    alloc = (info.node.get("status") or {}).get("allocatable") or {}
    used = info.requested()
    out = []
    if len(info.pods) + 1 > int(alloc.get("pods", "110")):
        out.append("Too many pods")
    basic = ("cpu", "memory", "ephemeral-storage")
    order = [*basic, *sorted(k for k in requests if k not in basic)]
    for name in order:
        want = requests.get(name, 0.0)
        if want <= 0:
            continue
        have = parse_quantity(alloc.get(name, "0")) if name in alloc else 0.0
        if used.get(name, 0.0) + want > have + 1e-9:
            out.append(f"Insufficient {name}")
    return out


def _domain(node: Obj, key: str) -> str | None:
    return (node["metadata"].get("labels") or {}).get(key)


def _term_namespaces(term: Obj, pod_namespace: str) -> set[str] | None:
    """The namespaces a term looks at (None: every namespace)."""
    if term.get("namespaceSelector") is not None and not term.get("namespaces"):
        return None if term["namespaceSelector"] == {} else {pod_namespace}
    return set(term.get("namespaces") or [pod_namespace])


def _term_matches(term: Obj, placed: Placed, pod_namespace: str) -> bool:
    namespaces = _term_namespaces(term, pod_namespace)
    if namespaces is not None and placed.namespace not in namespaces:
        return False
    return label_selector_matches(term.get("labelSelector"), placed.labels)


def _affinity_terms(spec: Obj, kind: str) -> list[Obj]:
    return list(
        ((spec.get("affinity") or {}).get(kind) or {}).get("requiredDuringSchedulingIgnoredDuringExecution")
        or []
    )


def _inter_pod(pod: Obj, info: NodeInfo, cluster: list[NodeInfo]) -> tuple[str, str] | None:
    spec = pod.get("spec") or {}
    namespace = pod["metadata"].get("namespace", "")
    labels = pod["metadata"].get("labels") or {}
    for term in _affinity_terms(spec, "podAffinity"):
        key = term.get("topologyKey", "")
        domain = _domain(info.node, key)
        in_domain = [
            p
            for n in cluster
            if domain is not None and _domain(n.node, key) == domain
            for p in n.pods.values()
        ]
        if any(_term_matches(term, p, namespace) for p in in_domain):
            continue
        anywhere = any(_term_matches(term, p, namespace) for n in cluster for p in n.pods.values())
        self_match = label_selector_matches(term.get("labelSelector"), labels)
        if anywhere or not self_match or domain is None:
            return "node(s) didn't match pod affinity rules", UNRESOLVABLE
    for term in _affinity_terms(spec, "podAntiAffinity"):
        key = term.get("topologyKey", "")
        domain = _domain(info.node, key)
        if domain is None:
            continue
        for n in cluster:
            if _domain(n.node, key) == domain and any(
                _term_matches(term, p, namespace) for p in n.pods.values()
            ):
                return "node(s) didn't match pod anti-affinity rules", RESOLVABLE
    me = Placed(namespace, labels, [], {})
    for n in cluster:
        for placed in n.pods.values():
            for term in placed.anti_affinity:
                key = term.get("topologyKey", "")
                domain = _domain(n.node, key)
                if domain is None or _domain(info.node, key) != domain:
                    continue
                if _term_matches(term, me, placed.namespace):
                    return "node(s) didn't satisfy existing pods anti-affinity rules", RESOLVABLE
    return None


def _spread(pod: Obj, info: NodeInfo, cluster: list[NodeInfo], eligible: list[NodeInfo]) -> bool:
    spec = pod.get("spec") or {}
    namespace = pod["metadata"].get("namespace", "")
    for constraint in spec.get("topologySpreadConstraints") or []:
        if constraint.get("whenUnsatisfiable", "DoNotSchedule") != "DoNotSchedule":
            continue
        key = constraint.get("topologyKey", "")
        domain = _domain(info.node, key)
        if domain is None:
            return False
        counts: dict[str, int] = {}
        for n in eligible:
            d = _domain(n.node, key)
            if d is not None:
                counts.setdefault(d, 0)
        for n in cluster:
            d = _domain(n.node, key)
            if d is None or d not in counts:
                continue
            counts[d] += sum(
                1
                for p in n.pods.values()
                if p.namespace == namespace
                and label_selector_matches(constraint.get("labelSelector"), p.labels)
            )
        low = min(counts.values(), default=0)
        if counts.get(domain, 0) + 1 - low > int(constraint.get("maxSkew", 1)):
            return False
    return True


def filter_node(
    pod: Obj, info: NodeInfo, cluster: list[NodeInfo], volume_conflict: str | None, requests: dict[str, Any]
) -> tuple[list[str], str] | None:
    """None when the pod fits the node, else (reasons, RESOLVABLE | UNRESOLVABLE)."""
    spec = pod.get("spec") or {}
    node = info.node
    if (node.get("spec") or {}).get("unschedulable") and not any(
        t.get("key") == "node.kubernetes.io/unschedulable" for t in spec.get("tolerations") or []
    ):
        return ["node(s) were unschedulable"], UNRESOLVABLE
    taints = (node.get("spec") or {}).get("taints") or []
    if not _ready(node):
        taints = [*taints, {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}]
    taint = untolerated_taint(spec, {"spec": {"taints": taints}})
    if taint is not None:
        return [
            f"node(s) had untolerated taint {{{taint.get('key')}: {taint.get('value', '')}}}"
        ], UNRESOLVABLE
    if not matches_node(spec, node):
        return ["node(s) didn't match Pod's node affinity/selector"], UNRESOLVABLE
    insufficient = _fit(spec, info, requests)
    if insufficient:
        return insufficient, RESOLVABLE
    if volume_conflict:
        return [volume_conflict], UNRESOLVABLE
    eligible = [n for n in cluster if matches_node(spec, n.node) and untolerated_taint(spec, n.node) is None]
    if not _spread(pod, info, cluster, eligible):
        return ["node(s) didn't match pod topology spread constraints"], RESOLVABLE
    inter = _inter_pod(pod, info, cluster)
    if inter is not None:
        return [inter[0]], inter[1]
    return None


def placed(pod: Obj) -> Placed:
    """What the scheduler remembers of a bound pod."""
    spec = pod.get("spec") or {}
    cpu, memory = nonzero_requests(spec)
    owner = next(
        (r.get("uid", "") for r in pod["metadata"].get("ownerReferences") or [] if r.get("controller")), ""
    )
    return Placed(
        pod["metadata"].get("namespace", ""),
        dict(pod["metadata"].get("labels") or {}),
        _affinity_terms(spec, "podAntiAffinity"),
        resource_requests(spec),
        cpu,
        memory,
        owner,
    )


# kube-scheduler scores a container without requests as if it asked for this much.
DEFAULT_MILLI_CPU = 100
DEFAULT_MEMORY = 200 * 1024 * 1024


def nonzero_requests(spec: Obj) -> tuple[int, int]:
    """(cpu millicores, memory bytes) for scoring: per container, its request or the scheduler's default."""
    cpu = mem = 0
    for c in spec.get("containers") or []:
        one_cpu, one_mem = pod_requests({"containers": [c]})
        cpu += one_cpu or DEFAULT_MILLI_CPU
        mem += one_mem or DEFAULT_MEMORY
    return cpu, mem


def score(info: NodeInfo, pod: Obj, cluster: list[NodeInfo]) -> float:
    """Higher is better: least-allocated and balanced resources (non-zero requests counted), and
    the default topology spread of the pod's controller across nodes (weighted double)."""
    alloc = (info.node.get("status") or {}).get("allocatable") or {}
    cpu_total = max(parse_quantity(alloc.get("cpu", "0")) * 1000, 1.0)
    mem_total = max(parse_quantity(alloc.get("memory", "0")), 1.0)
    cpu_req, mem_req = nonzero_requests(pod.get("spec") or {})
    cpu_used = sum(p.cpu_millis for p in info.pods.values()) + cpu_req
    mem_used = sum(p.memory_bytes for p in info.pods.values()) + mem_req
    cpu_frac, mem_frac = min(cpu_used / cpu_total, 1.0), min(mem_used / mem_total, 1.0)
    least = ((1 - cpu_frac) + (1 - mem_frac)) / 2 * 100
    balanced = (1 - abs(cpu_frac - mem_frac)) * 100
    owner = next(
        (r.get("uid", "") for r in pod["metadata"].get("ownerReferences") or [] if r.get("controller")), ""
    )
    spread = 100.0
    if owner:
        counts = [sum(1 for p in n.pods.values() if p.owner == owner) for n in cluster]
        mine = sum(1 for p in info.pods.values() if p.owner == owner)
        spread = 100.0 * (max(counts) - mine + 1) / (max(counts) + 1)
    return least + balanced + 2 * spread


def fit_message(total: int, reasons: dict[str, int], outcomes: dict[str, int], prefilter: str = "") -> str:
    """kube-scheduler's FitError text, preemption's verdict included (its `..` too)."""
    if total == 0:
        return "no nodes available to schedule pods"
    head = f"0/{total} nodes are available: "
    head += prefilter if prefilter else ", ".join(sorted(f"{n} {r}" for r, n in reasons.items()))
    verdicts = []
    if outcomes.get(UNRESOLVABLE):
        verdicts.append(f"{outcomes[UNRESOLVABLE]} Preemption is not helpful for scheduling")
    if outcomes.get(RESOLVABLE):
        verdicts.append(f"{outcomes[RESOLVABLE]} No preemption victims found for incoming pod")
    return f"{head}. preemption: 0/{total} nodes are available: {', '.join(sorted(verdicts))}.."


def controller_of(pod: Obj) -> str:
    """The uid of the pod's controlling owner ("" for a bare pod)."""
    refs = pod["metadata"].get("ownerReferences") or []
    return next((r.get("uid", "") for r in refs if r.get("controller")), "")
