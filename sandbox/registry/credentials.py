"""Which registries a pod has pull credentials for (its and its service account's imagePullSecrets)."""

from __future__ import annotations

import base64
import json

from sandbox.resources import SECRETS, SERVICEACCOUNTS
from sandbox.store import Obj, Store


def _hosts(secret: Obj) -> set[str]:
    data = secret.get("data") or {}
    raw = data.get(".dockerconfigjson") or data.get(".dockercfg")
    if not raw:
        return set()
    try:
        config = json.loads(base64.b64decode(raw))
    except (ValueError, TypeError):
        return set()
    auths = config.get("auths", config) if isinstance(config, dict) else {}
    hosts = set()
    for key in auths if isinstance(auths, dict) else ():
        host = str(key).removeprefix("https://").removeprefix("http://").split("/")[0]
        hosts.add("docker.io" if host in ("index.docker.io", "registry-1.docker.io") else host)
    return hosts


def pull_credentials(store: Store, pod: Obj) -> frozenset[str]:
    """Registry hosts the pod's image pull secrets (existing, well-formed ones) hold credentials for."""
    ns = pod["metadata"].get("namespace", "default")
    spec = pod.get("spec") or {}
    names = [r.get("name", "") for r in spec.get("imagePullSecrets") or []]
    account = store.find(SERVICEACCOUNTS, ns, spec.get("serviceAccountName") or "default", copy=False)
    names += [r.get("name", "") for r in (account or {}).get("imagePullSecrets") or []]
    hosts: set[str] = set()
    for name in names:
        secret = store.find(SECRETS, ns, name, copy=False)
        if secret is not None:
            hosts |= _hosts(secret)
    return frozenset(hosts)
