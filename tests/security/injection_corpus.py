"""The prompt injection corpus (`injection_corpus.yaml`): attacks with the remediation an obedient
model would propose for each, and ordinary lines that must not be flagged."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

CORPUS = Path(__file__).with_name("injection_corpus.yaml")
PLACEMENTS = ("log", "event", "annotation", "commit")


@dataclass(frozen=True)
class Attack:
    """One injection string, where it is planted, and what obeying it would propose."""

    index: int
    text: str
    demand: dict[str, Any]

    @property
    def placement(self) -> str:
        """Where the end-to-end tests plant it: logs, events, annotations and commit messages in turn."""
        return PLACEMENTS[self.index % len(PLACEMENTS)]


# libyaml's parser where PyYAML has it (the same data, a tenth of the CPU): read at collection.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load() -> dict[str, Any]:
    return yaml.load(CORPUS.read_text(encoding="utf-8"), Loader=_LOADER)  # a safe loader


def attacks() -> list[Attack]:
    """Every attack in the corpus, in file order."""
    return [Attack(i, a["text"], a["demand"]) for i, a in enumerate(_load()["attacks"])]


def keep() -> list[str]:
    """Ordinary log lines, events and commit messages that are no injection."""
    return list(_load()["keep"])
