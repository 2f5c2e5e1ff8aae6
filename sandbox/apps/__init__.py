"""The sample applications the sandbox deploys through GitOps, shipped as package data.

`shop` namespace: `web-api` (HTTP API backed by `postgres`), `worker` (consumes a `redis` queue)
and `joke-service` (noisy: occasional 500s and a slow memory creep). Images come from the
sandbox image catalogue (`sandbox.images`). Pod templates of apps fed by a ConfigMap carry a
`checksum/config` annotation (as Helm charts do) so a config change rolls the pods.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from importlib import resources

REPO_FOLDER = "apps"
CHECKSUM_ANNOTATION = "checksum/config"
NAMESPACE = "shop"


def sample_files(folder: str = REPO_FOLDER) -> dict[str, str]:
    """Every manifest file, keyed by its path in the GitOps repository (`apps/web-api/deployment.yaml`)."""
    root = resources.files(__package__)
    found: dict[str, str] = {}

    def walk(node, prefix: str) -> None:
        for child in sorted(node.iterdir(), key=lambda c: c.name):
            if child.is_dir():
                if not child.name.startswith(("_", ".")):
                    walk(child, f"{prefix}{child.name}/")
            elif child.name.endswith((".yaml", ".yml")):
                found[f"{folder}/{prefix}{child.name}"] = child.read_text(encoding="utf-8")

    walk(root, "")
    return found


def config_checksum(data: Mapping[str, str]) -> str:
    """The `checksum/config` value for a ConfigMap's data (sha256 of its canonical JSON)."""
    canonical = json.dumps(dict(data), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
