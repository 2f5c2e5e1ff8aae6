"""Which namespaces an investigator may read: the configured scope, checked before every tool call.

A model asks for objects by name, and a log line can tell it to look anywhere; the scope is what
keeps a read about `shop` from wandering into `kube-system` or another team's namespace. A
namespace is in scope when it is listed (or the list is empty, meaning all), is not excluded, and,
with a label selector, its labels match (asked of the API server, cached for a short while).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from tools.kubernetes import KubeClient
from tools.result import ToolFailure, ToolStatus

# RFC 1123 label: what Kubernetes accepts as a namespace name.
_NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
SELECTOR_CACHE_SECONDS = 60.0

# namespace -> whether its labels match the selector (asked of the API server)
SelectorCheck = Callable[[str], bool]


class OutOfScope(ToolFailure):
    """The object lives in a namespace Paramedic was not told to look at."""

    def __init__(self, message: str) -> None:
        super().__init__(message, ToolStatus.DENIED)


@dataclass
class NamespaceScope:
    """The namespaces a tool may read. `namespaces` empty means every namespace not excluded."""

    namespaces: frozenset[str] = frozenset()
    excluded: frozenset[str] = frozenset()
    selector: str | None = None
    selector_check: SelectorCheck | None = None
    clock: Callable[[], float] = time.monotonic
    _cache: dict[str, tuple[float, bool]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def of(
        cls,
        namespaces: Iterable[str] = (),
        excluded: Iterable[str] = (),
        selector: str | None = None,
        selector_check: SelectorCheck | None = None,
    ) -> NamespaceScope:
        """A scope from plain lists (the settings' `scope` section)."""
        return cls(frozenset(namespaces), frozenset(excluded), selector or None, selector_check)

    def check(self, namespace: str) -> str:
        """`namespace` when it is in scope; `OutOfScope` (a DENIED tool failure) otherwise."""
        if not _NAMESPACE.match(namespace or ""):
            raise ToolFailure(f"{namespace!r} is not a valid namespace name")
        if namespace in self.excluded:
            raise OutOfScope(f"namespace {namespace!r} is excluded from Paramedic's scope")
        if self.namespaces and namespace not in self.namespaces:
            raise OutOfScope(
                f"namespace {namespace!r} is outside Paramedic's scope ({', '.join(sorted(self.namespaces))})"
            )
        if self.selector and not self._selected(namespace):
            raise OutOfScope(f"namespace {namespace!r} does not match the scope's selector {self.selector!r}")
        return namespace

    def allows(self, namespace: str) -> bool:
        """True when `check` would pass (for filtering lists, e.g. alerts by their namespace label)."""
        try:
            self.check(namespace)
        except ToolFailure:
            return False
        return True

    def _selected(self, namespace: str) -> bool:
        if self.selector_check is None:
            return False  # a selector nobody can evaluate admits nothing (fail closed)
        now = self.clock()
        with self._lock:
            cached = self._cache.get(namespace)
        if cached is not None and now - cached[0] < SELECTOR_CACHE_SECONDS:
            return cached[1]
        matched = self.selector_check(namespace)
        with self._lock:
            self._cache[namespace] = (now, matched)
        return matched


def api_selector_check(kube: KubeClient, selector: str) -> SelectorCheck:
    """Ask the API server whether a namespace's labels match `selector` (a failed read admits nothing)."""

    def matches(namespace: str) -> bool:
        try:
            listed = kube.json(
                f"namespaces matching {selector}",
                kube.core.list_namespace,
                label_selector=selector,
                field_selector=f"metadata.name={namespace}",
            )
        except ToolFailure:
            return False
        return any((n.get("metadata") or {}).get("name") == namespace for n in listed.get("items") or [])

    return matches
