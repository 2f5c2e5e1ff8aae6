"""Edit manifests in the GitOps repository the way a person would: the change, and nothing else.

Round-trip YAML (ruamel) keeps comments, quoting, flow lists and key order, so a fault's commit
diff is the one or two lines it changes - which is what change correlation gets to read.
"""

from __future__ import annotations

import copy
import io
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from ruamel.yaml import YAML

from sandbox.faults.truth import object_id
from sandbox.gitops.manifests import YAML_SUFFIXES
from sandbox.gitops.repo import ManifestRepo

Mutation = Callable[[Any], None]


def _yaml() -> YAML:
    y = YAML()
    y.preserve_quotes = True
    y.indent(mapping=2, sequence=4, offset=2)
    y.width = 4096
    return y


def plain(value: Any) -> Any:
    """A ruamel round-trip value as plain dicts, lists and scalars."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


@lru_cache(maxsize=512)
def _round_trip(text: str) -> tuple[Any, ...] | None:
    """A file's round-trip documents, None when it does not parse. Kept by content: every sandbox
    starts from the same sample files and a commit changes one file, and a round-trip parse of the
    sample apps costs ~80 ms. The documents are shared, so nothing may change them (`edit` changes
    its own copy)."""
    try:
        return tuple(_yaml().load_all(text))
    except Exception:  # a broken file is the sync loop's to report; faults skip it
        return None


class ManifestFiles:
    """The repository's manifest files at one revision, addressable by resource id."""

    def __init__(self, repo: ManifestRepo, folder: str, revision: str | None = None) -> None:
        self.repo = repo
        self.revision = revision or repo.head()
        self._texts: dict[str, str] = {}
        self._docs: dict[str, tuple[Any, ...]] = {}
        self._where: dict[str, tuple[str, int]] = {}
        for path, raw in repo.files(self.revision, folder).items():
            if not path.endswith(YAML_SUFFIXES):
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                continue
            docs = _round_trip(text)
            if docs is None:
                continue
            self._texts[path] = text
            self._docs[path] = docs
            for index, doc in enumerate(docs):
                if isinstance(doc, Mapping) and isinstance(doc.get("metadata"), Mapping):
                    self._where.setdefault(object_id(plain(doc)), (path, index))

    def objects(self) -> dict[str, dict[str, Any]]:
        """Every object as plain data, by resource id."""
        return {rid: plain(self._docs[path][index]) for rid, (path, index) in self._where.items()}

    def path_of(self, resource: str) -> str:
        """The file that defines `resource`; KeyError when Git does not hold it."""
        if resource not in self._where:
            raise KeyError(f"{resource} is not defined in the GitOps repository")
        return self._where[resource][0]

    def text(self, path: str) -> str:
        """A file's text at this revision."""
        return self._texts[path]

    def patch(self, resource: str, patch: Mapping[str, Any]) -> dict[str, str]:
        """Strategic-merge `patch` into `resource`'s document; returns path -> new text."""
        return self.edit({resource: lambda doc: strategic_merge(doc, patch)})

    def edit(self, mutations: Mapping[str, Mutation]) -> dict[str, str]:
        """Apply each mutation to its resource's document; returns path -> new text of changed files."""
        y = _yaml()
        touched: dict[str, list[Any]] = {}
        for resource, mutate in mutations.items():
            self.path_of(resource)  # KeyError with a clear message for unknown resources
            path, index = self._where[resource]
            if path not in touched:
                # A fresh copy per edit batch: copying the shared documents (comments and all) costs
                # a third of parsing the text again, and dumps the same.
                touched[path] = copy.deepcopy(list(self._docs[path]))
            mutate(touched[path][index])
        changed: dict[str, str] = {}
        for path, docs in touched.items():
            out = io.StringIO()
            y.dump_all(docs, out)
            if out.getvalue() != self._texts[path]:
                changed[path] = out.getvalue()
        return changed


def strategic_merge(doc: Any, patch: Mapping[str, Any]) -> None:
    """Apply a strategic-merge patch to a document in place: maps merge, `null` deletes, lists of
    named items (containers, env, volumes) merge by name, other lists are replaced."""
    for key, value in patch.items():
        current = doc.get(key) if isinstance(doc, Mapping) else None
        if value is None:
            doc.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(current, Mapping):
            strategic_merge(current, value)
        elif isinstance(value, list) and isinstance(current, list) and _named(value) and _named(current):
            for item in value:
                existing = next((c for c in current if c.get("name") == item["name"]), None)
                if existing is None:
                    current.append(dict(item))
                else:
                    strategic_merge(existing, item)
        else:
            doc[key] = value


def _named(items: list[Any]) -> bool:
    return all(isinstance(i, Mapping) and "name" in i for i in items)
