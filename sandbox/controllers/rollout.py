"""The pure rules of a Deployment roll-out: the pod-template-hash, revisions, maxSurge/maxUnavailable."""

from __future__ import annotations

import math

import orjson

from sandbox.controllers.replicaset import SUFFIX_ALPHABET
from sandbox.store import Obj, clone

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
CHANGE_CAUSE = "kubernetes.io/change-cause"
HASH_LABEL = "pod-template-hash"
NOT_COPIED = {
    REVISION,
    REVISION_HISTORY,
    DESIRED,
    MAX_REPLICAS,
    "kubectl.kubernetes.io/last-applied-configuration",
}


def _fnv32a(data: bytes) -> int:
    h = 0x811C9DC5
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def template_hash(template: Obj, collision_count: int = 0) -> str:
    """The pod-template-hash: FNV-32a of the template, rendered with SafeEncodeString like the real one."""
    data = orjson.dumps(strip_hash(template), option=orjson.OPT_SORT_KEYS)
    if collision_count:
        data += str(collision_count).encode()
    return "".join(SUFFIX_ALPHABET[ord(ch) % len(SUFFIX_ALPHABET)] for ch in str(_fnv32a(data)))


def strip_hash(template: Obj) -> Obj:
    """The template without its pod-template-hash label (what two templates are compared on)."""
    t = clone(template or {})
    labels = (t.get("metadata") or {}).get("labels")
    if labels:
        labels.pop(HASH_LABEL, None)
    return t


def revision(rs: Obj) -> int:
    """The ReplicaSet's revision annotation (0 when missing or malformed)."""
    try:
        return int((rs["metadata"].get("annotations") or {}).get(REVISION, "0"))
    except ValueError:
        return 0


def _resolve(value: int | str | None, total: int, round_up: bool, default: str) -> int:
    value = default if value is None else value
    if isinstance(value, str) and value.endswith("%"):
        frac = total * int(value[:-1]) / 100
        return math.ceil(frac) if round_up else math.floor(frac)
    return int(value)


def surge_and_unavailable(d: Obj) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) resolved against spec.replicas; Recreate gives (0, replicas)."""
    spec = d.get("spec") or {}
    replicas = int(spec.get("replicas", 1))
    strategy = spec.get("strategy") or {}
    if strategy.get("type") == "Recreate":
        return 0, replicas
    ru = strategy.get("rollingUpdate") or {}
    surge = _resolve(ru.get("maxSurge"), replicas, True, "25%")
    unavailable = _resolve(ru.get("maxUnavailable"), replicas, False, "25%")
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, min(unavailable, replicas)


def spec_replicas(rs: Obj) -> int:
    """A ReplicaSet's spec.replicas (0 when unset)."""
    return int((rs.get("spec") or {}).get("replicas", 0) or 0)


def status_count(rs: Obj | None, field: str) -> int:
    """A count from a ReplicaSet's status (0 when unset or no ReplicaSet)."""
    if rs is None:
        return 0
    return int((rs.get("status") or {}).get(field, 0) or 0)
