"""ServiceAccount admission: a pod must name a ServiceAccount that exists in its namespace.

`default` is always accepted (the service-account controller creates it with the namespace; on a
real cluster a pod racing it is retried), any other missing account refuses the pod the way
kube-apiserver does: `error looking up service account shop/builder: serviceaccount "builder" not found`.
"""

from __future__ import annotations

from sandbox.resources import SERVICEACCOUNTS
from sandbox.store import Obj, Store


def check_pod(store: Store, pod: Obj) -> str | None:
    """None when the pod's ServiceAccount exists (or is `default`), else the refusal."""
    spec = pod.get("spec") or {}
    name = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
    namespace = (pod.get("metadata") or {}).get("namespace", "")
    if name == "default" or store.find(SERVICEACCOUNTS, namespace, name, copy=False) is not None:
        return None
    return f'error looking up service account {namespace}/{name}: serviceaccount "{name}" not found'
