"""Structural checks of a proposed patch, before anyone reads its meaning.

A patch from a reasoner is untrusted input. It must be a JSON object of bounded size and
depth whose keys are plain ASCII Kubernetes field names: that rules out unparseable values,
strategic-merge directives (`$patch: replace`, `$retainKeys`, ...) that turn an innocent
looking patch into a wholesale replacement, and unicode lookalike keys that dodge the rules.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graph.policies.config import PolicyConfig

# Kubernetes field names, annotation and label keys: ASCII letters, digits and . _ - /
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*\Z")
_SCALARS = (str, int, float, bool, type(None))


@dataclass(frozen=True)
class PatchProblem:
    """Why a patch cannot be judged further."""

    reason: str


def walk(patch: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    """Every (parent path, key, value) in a JSON patch, depth first; list items add `[*]`."""
    if isinstance(patch, Mapping):
        for key, value in patch.items():
            yield path, key, value
            yield from walk(value, f"{path}.{key}" if path else str(key))
    elif isinstance(patch, list):
        for item in patch:
            yield from walk(item, f"{path}[*]")


def structural_problem(patch: Any, config: PolicyConfig) -> PatchProblem | None:
    """The first reason the patch is not a well-formed, bounded JSON object, or None."""
    if not isinstance(patch, Mapping):
        return PatchProblem(f"unparseable patch: expected a JSON object, got {type(patch).__name__}")
    if not patch:
        return PatchProblem("empty patch: nothing to apply")
    # Iterative, so a hostile nesting depth cannot blow the interpreter's recursion limit.
    stack: list[tuple[Any, int]] = [(patch, 1)]
    nodes = 0
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if nodes > config.max_patch_nodes:
            return PatchProblem(f"patch too large: more than {config.max_patch_nodes} values")
        if depth > config.max_patch_depth:
            return PatchProblem(f"patch too deep: more than {config.max_patch_depth} levels")
        if isinstance(value, Mapping):
            for key, child in value.items():
                if not isinstance(key, str):
                    return PatchProblem(f"unparseable patch: non-string key {key!r}")
                if key.startswith("$"):
                    return PatchProblem(f"strategic-merge directive {key!r} is not allowed in a patch")
                if not _KEY.match(key):
                    return PatchProblem(f"patch key {key!a} is not a plain ASCII field name")
                stack.append((child, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, float) and value != value:  # NaN is not JSON
            return PatchProblem("unparseable patch: NaN value")
        elif not isinstance(value, _SCALARS):
            return PatchProblem(f"unparseable patch: value of type {type(value).__name__}")
    size = len(json.dumps(patch, ensure_ascii=False).encode())
    if size > config.max_patch_bytes:
        return PatchProblem(f"patch too large: {size} bytes exceeds {config.max_patch_bytes}")
    return None


def values_of(patch: Any, key: str) -> list[tuple[str, Any]]:
    """Every (path, value) whose key is `key`, anywhere in the patch."""
    return [(f"{parent}.{k}" if parent else k, v) for parent, k, v in walk(patch) if k == key]


def image_repository(image: str) -> str:
    """`registry/path/name` of an image reference, without tag or digest."""
    name = image.split("@", 1)[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    return name[:colon] if colon > slash else name
