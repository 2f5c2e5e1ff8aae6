"""The one way the rules name a faulty field: a path into the faulty resource's manifest.

The format is stable; the eval scorers compare it with the ground truth after normalising blanks,
quotes and `[name=x]` (evals/scorers.py `normalise_field`), and the sandbox's ground truth resolves
it (sandbox/faults/truth.py `resolve`):

- a mapping key is a dotted segment: `spec.replicas`, `data.LOG_LEVEL`,
  `spec.template.spec.nodeSelector.disktype`;
- a mapping key that holds a dot or a slash itself is bracketed instead, since a dot would split it:
  `spec.template.spec.nodeSelector[kubernetes.io/hostname]`, `data[app.properties]`;
- a list item is selected by its merge key in brackets: `containers[app]`, `env[DB_HOST]`,
  `ports[http]` (the item's `name`);
- the path goes down to the leaf that is wrong, not to its parent: `...readinessProbe.httpGet.path`,
  not `...readinessProbe`; `...env[DB_HOST]` for a variable that is missing or mis-sourced.

Examples: `spec.template.spec.containers[app].env[DB_HOST]`,
`spec.template.spec.containers[app].resources.limits.memory`,
`spec.template.spec.containers[app].readinessProbe.httpGet.port`,
`spec.template.spec.containers[app].image`, `spec.template.spec.nodeSelector.disktype`,
`spec.replicas`, `data.DATABASE_URL` (a ConfigMap's or Secret's key).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

POD_SPEC = "spec.template.spec"
REPLICAS = "spec.replicas"
SELECTOR = "spec.selector"  # a Service's
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+\Z")


def key(name: str) -> str:
    """One mapping key as a path segment suffix: `.name`, or `[name]` when it holds a dot or slash."""
    return f".{name}" if _PLAIN_KEY.match(name) else f"[{name}]"


def join(base: str, *segments: str) -> str:
    """`base` followed by dotted `segments` (each may already carry its own brackets)."""
    out = base
    for segment in segments:
        if segment:
            out = f"{out}{segment}" if segment.startswith("[") or not out else f"{out}.{segment}"
    return out


# Where the pod spec sits in kinds whose manifest is not a pod template's owner like a Deployment's.
_POD_SPEC_OF = {"Pod": "spec", "CronJob": "spec.jobTemplate.spec.template.spec"}


def pod_template_keys(kind: str) -> tuple[str, ...]:
    """The keys from a manifest's `spec` down to its pod spec: none for a Pod, `template.spec` mostly."""
    return tuple(_POD_SPEC_OF.get(kind, POD_SPEC).split(".")[1:])


def for_kind(path: str, kind: str) -> str:
    """A path the rules wrote against the pod template, as it reads in a `kind`'s manifest
    (`spec.template.spec.containers[app]` is a bare Pod's `spec.containers[app]`)."""
    prefix = _POD_SPEC_OF.get(kind)
    if prefix is None or not (path == POD_SPEC or path.startswith(f"{POD_SPEC}.")):
        return path
    return prefix + path[len(POD_SPEC) :]


def container(name: str, *segments: str) -> str:
    """A field of a container of the pod template: `spec.template.spec.containers[name].<segments>`."""
    return join(f"{POD_SPEC}.containers[{name}]", *segments)


def env(container_name: str, var: str) -> str:
    """An environment variable of a container: `...containers[app].env[VAR]`."""
    return container(container_name, f"env[{var}]")


def image(container_name: str) -> str:
    """A container's image."""
    return container(container_name, "image")


def resource(container_name: str, kind: str, name: str) -> str:
    """A container's resource `kind` (`limits`/`requests`) of `name` (`memory`, `cpu`)."""
    return container(container_name, "resources", kind, name)


def pod_spec(*segments: str) -> str:
    """A field of the pod template's spec: `spec.template.spec.<segments>`."""
    return join(POD_SPEC, *segments)


def node_selector(label: str) -> str:
    """One label of the pod template's nodeSelector."""
    return f"{POD_SPEC}.nodeSelector{key(label)}"


def data(name: str) -> str:
    """A key of a ConfigMap's or Secret's data."""
    return f"data{key(name)}"


def leaf_differences(old: Any, new: Any, base: str = "") -> list[str]:
    """The paths (relative to `base`) of the leaves where `new` differs from `old`, in this format.

    Lists of named items are compared item by item (`[name]`); other lists count as one leaf.
    """
    return list(_differences(old, new, base))


def _differences(old: Any, new: Any, path: str) -> Iterator[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        for name in dict.fromkeys([*old, *new]):
            yield from _differences(old.get(name), new.get(name), _child(path, key(str(name))))
    elif _named(old) and _named(new):
        by_old = {item["name"]: item for item in old}
        by_new = {item["name"]: item for item in new}
        for name in dict.fromkeys([*by_old, *by_new]):
            yield from _differences(by_old.get(name), by_new.get(name), f"{path}[{name}]")
    elif old != new:
        yield path


def _child(path: str, segment: str) -> str:
    return (path + segment) if path else segment.lstrip(".")


def _named(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(i, dict) and isinstance(i.get("name"), str) for i in value)
    )
