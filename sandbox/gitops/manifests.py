"""Turn a repository folder's YAML files into Kubernetes objects, collecting every problem on the way.

A file that does not parse, or a document that is not an object with apiVersion, kind and
metadata.name, is a problem to report, never an exception that stops the sync loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import yaml

Obj = dict[str, Any]
YAML_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class Manifest:
    """One object as written in Git."""

    path: str
    index: int  # the document's position in its file
    obj: Obj

    @property
    def kind(self) -> str:
        """The object's kind."""
        return str(self.obj["kind"])

    @property
    def name(self) -> str:
        """metadata.name."""
        return str(self.obj["metadata"]["name"])

    @property
    def namespace(self) -> str:
        """metadata.namespace, "" when absent."""
        return str(self.obj["metadata"].get("namespace") or "")


@dataclass(frozen=True)
class ManifestProblem:
    """Why a file (or one of its documents) could not be used."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def split_group_version(api_version: str) -> tuple[str, str]:
    """`apps/v1` -> ("apps", "v1"); `v1` -> ("", "v1")."""
    group, _, version = api_version.rpartition("/")
    return group, version


def _check(doc: Any) -> str | None:
    if not isinstance(doc, dict):
        return f"expected a Kubernetes object (a mapping), got {type(doc).__name__}"
    for key in ("apiVersion", "kind"):
        if not isinstance(doc.get(key), str) or not doc[key]:
            return f"Object 'apiVersion' and 'kind' are required; missing or empty {key}"
    meta = doc.get("metadata")
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str) or not meta["name"]:
        return f"{doc['kind']}: metadata.name is required"
    return None


# libyaml's loader builds the same objects as PyYAML's pure-Python SafeLoader, about ten times faster
# (the sync loop parses every file of each new revision); the pure one stays for its error messages.
_FAST_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load_all(text: str) -> list[Any]:
    """Every document of `text`; YAMLError worded by the pure-Python loader (with the line shown)."""
    try:
        return list(yaml.load_all(text, Loader=_FAST_LOADER))
    except Exception:
        # libyaml's error may be of another import's YAMLError class (a reloaded `yaml`): the pure
        # loader, the reference, decides, and raises its own error with the line shown.
        return list(yaml.safe_load_all(text))


def parse_file(path: str, text: str) -> tuple[list[Manifest], list[ManifestProblem]]:
    """Every object in one file (multi-document YAML or one JSON object), or the reasons why not."""
    try:
        docs = _load_all(text)
    except yaml.YAMLError as exc:
        detail = " ".join(str(exc).split())
        return [], [ManifestProblem(path, f"error converting YAML to JSON: {detail}")]
    manifests: list[Manifest] = []
    problems: list[ManifestProblem] = []
    for index, doc in enumerate(docs):
        if doc is None:  # an empty document between `---` separators
            continue
        if isinstance(doc, dict) and isinstance(doc.get("kind"), str) and doc["kind"].endswith("List"):
            items = doc.get("items") or []
            for item in items:
                problem = _check(item)
                if problem:
                    problems.append(ManifestProblem(path, f"document {index}: {problem}"))
                else:
                    manifests.append(Manifest(path, index, item))
            continue
        problem = _check(doc)
        if problem:
            problems.append(ManifestProblem(path, f"document {index}: {problem}"))
        else:
            manifests.append(Manifest(path, index, doc))
    return manifests, problems


@lru_cache(maxsize=256)
def _parsed(path: str, text: str) -> tuple[tuple[Manifest, ...], tuple[ManifestProblem, ...]]:
    """`parse_file`, kept by content: every sandbox deploys the same sample files first and a commit
    changes one file, while the sync loop parses every file of each new revision. The objects are
    shared between the sandboxes of a process, so nothing may change them (`prepare` copies)."""
    found, bad = parse_file(path, text)
    return tuple(found), tuple(bad)


def parse_tree(files: Mapping[str, bytes]) -> tuple[list[Manifest], list[ManifestProblem]]:
    """Parse every YAML/JSON file of a tree (other files are ignored), in path order."""
    manifests: list[Manifest] = []
    problems: list[ManifestProblem] = []
    for path in sorted(files):
        if not path.endswith(YAML_SUFFIXES) or path.rsplit("/", 1)[-1].startswith("."):
            continue
        try:
            text = files[path].decode("utf-8")
        except UnicodeDecodeError:
            problems.append(ManifestProblem(path, "not UTF-8 text"))
            continue
        found, bad = _parsed(path, text)
        manifests += found
        problems += bad
    seen: dict[tuple[str, str, str, str], str] = {}
    unique: list[Manifest] = []
    for m in manifests:
        key = (split_group_version(m.obj["apiVersion"])[0], m.kind, m.namespace, m.name)
        if key in seen:
            problems.append(ManifestProblem(m.path, f"{m.kind} {m.name!r} is also defined in {seen[key]}"))
            continue
        seen[key] = m.path
        unique.append(m)
    return unique, problems
