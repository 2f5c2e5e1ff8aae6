"""The public repositories the sandbox's registries know, loaded from the package data files.

`sandbox/data/registry/*.yaml` describe repositories (`host/path` -> tag grammar, behaviour
profile, base distro) and namespaces that are closed (Docker Hub's `library`: an official image
not listed does not exist). A name one or two edits away from a known repository of the same
namespace (`ngnix`, `bitnami/postgressql`) is a typo: no such repository.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from sandbox.registry.reference import ImageReference
from sandbox.registry.tags import TagGrammar

# libyaml's loader (ten times faster than the pure-Python one: 0.12 s of CPU at every sandbox start);
# the files are the sandbox's own, so the pure loader's better error messages are not needed.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

class RepositoryEntry(TagGrammar):
    """One repository of a data file: its tags and how its images behave."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    profile: str = "service"
    base: str = "debian"


class RegistryFile(BaseModel):
    """The schema of one data file."""

    model_config = ConfigDict(extra="forbid")

    host: str | None = None  # with `namespace`: repository keys are short names in it
    namespace: str | None = None
    closed: bool = False
    missing_repository: str | dict[str, str] = "not_found"
    closed_namespaces: list[str] = Field(default_factory=list)
    repositories: dict[str, RepositoryEntry] = Field(default_factory=dict)
    other_official: list[str] = Field(default_factory=list)


class Repository(BaseModel):
    """A known repository."""

    model_config = ConfigDict(frozen=True)

    repository: str  # host/path
    entry: RepositoryEntry


def edit_distance(a: str, b: str) -> int:
    """Optimal-string-alignment distance (a transposition counts as one edit)."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


def _looks_like(name: str, known: str) -> bool:
    if name == known:
        return False
    limit = 1 if len(known) <= 5 else 2
    return edit_distance(name, known) <= limit


class RegistryCatalog:
    """Every repository the data files describe, by `host/path`."""

    def __init__(self, files: list[RegistryFile]) -> None:
        self._repos: dict[str, Repository] = {}
        self._closed: set[str] = set()  # host/namespace
        self._missing: dict[str, str] = {}  # host -> how it answers for a missing repository
        for f in files:
            if isinstance(f.missing_repository, dict):
                self._missing.update(f.missing_repository)
            elif f.host:
                self._missing[f.host] = f.missing_repository
            self._closed.update(f.closed_namespaces)
            prefix = f"{f.host}/{f.namespace}/" if f.host and f.namespace else ""
            if prefix and f.closed:
                self._closed.add(prefix.rstrip("/"))
            for key, entry in f.repositories.items():
                self._repos[prefix + key] = Repository(repository=prefix + key, entry=entry)
            for name in f.other_official:
                key = prefix + name
                self._repos.setdefault(key, Repository(repository=key, entry=RepositoryEntry(any_tag=True)))

    @classmethod
    @cache
    def shipped(cls) -> RegistryCatalog:
        """The catalogue built from the data files shipped with the sandbox (loaded once)."""
        folder = resources.files("sandbox") / "data" / "registry"
        files = []
        for item in sorted(folder.iterdir(), key=lambda p: p.name):
            if item.name.endswith((".yaml", ".yml")):
                data = yaml.load(item.read_text(encoding="utf-8"), Loader=_LOADER)  # a safe loader
                files.append(RegistryFile.model_validate(data))
        return cls(files)

    def add(self, repository: str, entry: RepositoryEntry) -> None:
        """Publish another repository (`host/path`)."""
        self._repos[repository] = Repository(repository=repository, entry=entry)

    def get(self, ref: ImageReference) -> Repository | None:
        """The known repository `ref` names, if any."""
        return self._repos.get(ref.repository)

    def missing_style(self, host: str) -> str | None:
        """How `host` answers a pull of a repository it does not have (None: host unknown)."""
        return self._missing.get(host)

    def knows_host(self, host: str) -> bool:
        """Whether `host` is a public registry the data describes."""
        return host in self._missing

    def closed(self, ref: ImageReference) -> bool:
        """Whether every repository of `ref`'s namespace is known (so an unknown one does not exist)."""
        parts = ref.repository.split("/")
        return any("/".join(parts[:i]) in self._closed for i in range(1, len(parts)))

    def resembles(self, ref: ImageReference) -> str | None:
        """A known repository `ref`'s name is a likely typo of (same host and namespace)."""
        namespace, _, name = ref.repository.rpartition("/")
        for repo in self._repos:
            other_ns, _, other = repo.rpartition("/")
            if other_ns == namespace and _looks_like(name, other):
                return repo
        return None
