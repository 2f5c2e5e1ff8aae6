"""Workload manifests and patches as tests write them: the pod template's containers, little else."""

from __future__ import annotations

from typing import Any


def with_containers(*containers: dict[str, Any], replicas: int | None = None) -> dict[str, Any]:
    """A workload (or a strategic-merge patch of one) whose pod template holds `containers`."""
    spec: dict[str, Any] = {} if replicas is None else {"replicas": replicas}
    spec["template"] = {"spec": {"containers": list(containers)}}
    return {"spec": spec}


def app_patch(**fields: Any) -> dict[str, Any]:
    """A patch setting `fields` on the container named `app`."""
    return with_containers({"name": "app", **fields})


def selecting_spec(
    name: str, containers: list[dict[str, Any]], replicas: int, **extra: Any
) -> dict[str, Any]:
    """A controller's spec: `replicas` pods labelled `app: <name>`, selected by it, running `containers`."""
    labels = {"app": name}
    return {
        "replicas": replicas,
        "selector": {"matchLabels": labels},
        "template": {"metadata": {"labels": dict(labels)}, "spec": {"containers": containers}},
        **extra,
    }
