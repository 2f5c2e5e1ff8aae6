"""Writing a kubeconfig that points `kubectl` and the `kubernetes` client at the sandbox."""

from __future__ import annotations

from pathlib import Path

import yaml


def write_kubeconfig(url: str, path: Path, context: str = "paramedic-sandbox") -> Path:
    """Write a kubeconfig for `url` (plain HTTP on loopback, no credentials) and return its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": context, "cluster": {"server": url}}],
        "users": [{"name": context, "user": {}}],
        "contexts": [
            {"name": context, "context": {"cluster": context, "user": context, "namespace": "default"}}
        ],
        "current-context": context,
        "preferences": {},
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    path.chmod(0o600)
    return path
