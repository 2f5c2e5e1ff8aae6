"""Find the manifest document that defines a workload in a repository's files.

Conventional places are read first (`deploy/<name>/`, `manifests/<name>.yaml`, a directory or
file named after the workload); the rest of the YAML files only when those hold no match.
Documents without a namespace take it from the kustomizations that include them, and files a
kustomization lists as patches are not definitions, so they are never answered.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from tools.gitops.manifests import Document, ManifestError, documents
from tools.gitops.records import ManifestLocation, Workload

ReadMany = Callable[[Sequence[str]], Mapping[str, str]]

KUSTOMIZATION_NAMES = frozenset({"kustomization.yaml", "kustomization.yml", "Kustomization"})
CONVENTIONAL_DIRS = frozenset({"deploy", "deployments", "manifests", "k8s", "kubernetes", "apps", "base"})
_PATCH_FIELDS = ("patchesStrategicMerge", "patches", "patchesJson6902")


class ManifestNotFound(LookupError):
    """No document defines the workload (or more than one does, equally well)."""


def is_yaml(path: str) -> bool:
    """True for files that may hold manifests."""
    return path.endswith((".yaml", ".yml")) or posixpath.basename(path) == "Kustomization"


def path_tier(path: str, name: str) -> int:
    """0: a conventional place for this workload, 1: named after it somewhere, 2: anywhere else."""
    parts = path.split("/")
    directories, stem = parts[:-1], posixpath.splitext(parts[-1])[0]
    named_dir = name in directories
    named_file = stem == name or stem.startswith(f"{name}-") or stem.startswith(f"{name}.")
    in_conventional = any(d in CONVENTIONAL_DIRS for d in directories)
    if (named_dir or named_file) and in_conventional:
        return 0
    return 1 if named_dir or named_file else 2


@dataclass(frozen=True)
class _Kustomize:
    namespaces: Mapping[str, frozenset[str]]  # path or directory prefix -> namespaces set on it
    patch_files: frozenset[str]

    def namespaces_of(self, path: str) -> frozenset[str]:
        found: set[str] = set()
        for target, namespaces in self.namespaces.items():
            if path == target or path.startswith(target.rstrip("/") + "/"):
                found |= namespaces
        return frozenset(found)


def _as_list(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []


def _kustomize(files: Mapping[str, str]) -> _Kustomize:
    """Namespaces that kustomizations impose on what they include, and the files they use as patches."""
    parsed: dict[str, dict[str, object]] = {}
    for path, text in files.items():
        try:
            docs = documents(text, path)
        except ManifestError:
            continue
        if docs and isinstance(docs[0].data, Mapping):
            parsed[posixpath.dirname(path)] = dict(docs[0].data)
    namespaces: dict[str, set[str]] = {}
    patches: set[str] = set()

    def include(directory: str, namespace: str, seen: frozenset[str]) -> None:
        spec = parsed.get(directory, {})
        for entry in _as_list(spec.get("resources")) + _as_list(spec.get("bases")):
            if not isinstance(entry, str) or "://" in entry:
                continue
            target = posixpath.normpath(posixpath.join(directory, entry))
            namespaces.setdefault(target, set()).add(namespace)
            if target in parsed and target not in seen:
                include(target, namespace, seen | {target})

    for directory, spec in parsed.items():
        for field in _PATCH_FIELDS:
            for entry in _as_list(spec.get(field)):
                patch = entry.get("path") if isinstance(entry, Mapping) else entry
                if isinstance(patch, str):
                    patches.add(posixpath.normpath(posixpath.join(directory, patch)))
        namespace = spec.get("namespace")
        if isinstance(namespace, str):
            include(directory, namespace, frozenset({directory}))
    return _Kustomize({k: frozenset(v) for k, v in namespaces.items()}, frozenset(patches))


def _defines(doc: Document, workload: Workload) -> bool:
    return doc.kind == workload.kind and doc.name == workload.name


def _match(
    path: str, doc: Document, workload: Workload, kustomize: _Kustomize
) -> tuple[int, str | None] | None:
    """(namespace rank, effective namespace) when the document defines the workload; None otherwise."""
    if not _defines(doc, workload) or path in kustomize.patch_files:
        return None
    imposed = kustomize.namespaces_of(path)
    declared = doc.namespace
    if workload.namespace is None:
        only = next(iter(imposed)) if len(imposed) == 1 else None
        return 0, declared or only
    if declared is not None:
        return (0, declared) if declared == workload.namespace and not imposed - {declared} else None
    if imposed:
        return (1, workload.namespace) if workload.namespace in imposed else None
    return 2, None  # no namespace anywhere: applied into whatever namespace the sync targets


def locate(workload: Workload, paths: Iterable[str], read_many: ReadMany) -> ManifestLocation:
    """The best document defining `workload` among `paths`, reading conventional places first."""
    yaml_paths = sorted(p for p in paths if is_yaml(p))
    kustomize = _kustomize(read_many([p for p in yaml_paths if posixpath.basename(p) in KUSTOMIZATION_NAMES]))
    tiers: dict[int, list[str]] = {0: [], 1: [], 2: []}
    for path in yaml_paths:
        if posixpath.basename(path) not in KUSTOMIZATION_NAMES:
            tiers[path_tier(path, workload.name)].append(path)
    for group in ([*tiers[0], *tiers[1]], tiers[2]):
        best = _best(workload, read_many(group) if group else {}, kustomize)
        if best is not None:
            return best
    where = f" in namespace {workload.namespace}" if workload.namespace else ""
    raise ManifestNotFound(f"no manifest defines {workload.kind}/{workload.name}{where}")


def _best(workload: Workload, files: Mapping[str, str], kustomize: _Kustomize) -> ManifestLocation | None:
    found: list[tuple[int, int, ManifestLocation]] = []
    for path, text in files.items():
        try:
            docs = documents(text, path)
        except ManifestError:
            continue  # a template or a broken file elsewhere must not hide the workload
        for doc in docs:
            matched = _match(path, doc, workload, kustomize)
            if matched is not None:
                rank, namespace = matched
                location = ManifestLocation(path, doc.index, workload.kind, workload.name, namespace)
                found.append((rank, path_tier(path, workload.name), location))
    if not found:
        return None
    found.sort(key=lambda f: (f[0], f[1], f[2].path))
    if len(found) > 1 and found[0][:2] == found[1][:2]:
        paths = ", ".join(f"{f[2].path}#{f[2].document_index}" for f in found if f[:2] == found[0][:2])
        raise ManifestNotFound(f"{workload.kind}/{workload.name} is defined more than once: {paths}")
    return found[0][2]
