"""The redaction corpus: loading the cases and scoring the redactor on them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tools.redaction import redact, redact_data

HERE = Path(__file__).resolve().parent
MUST_REDACT = HERE / "corpus_redact.yaml"
MUST_KEEP = HERE / "corpus_keep.yaml"
# libyaml's parser where PyYAML has it: the same data (checked on both files), a tenth of the CPU.
# Both files are read at collection, so every xdist worker paid 0.15 CPU-s for the pure-Python one.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Case:
    """One corpus entry: free text or JSON-shaped data."""

    id: str
    text: str | None = None
    data: Any = None
    secrets: tuple[str, ...] = ()
    keep: tuple[str, ...] = ()

    def run(self) -> tuple[str, str]:
        """(input, output) as text: the redacted text, or the JSON dump of the redacted data."""
        if self.text is not None:
            return self.text, redact(self.text)
        return _dump(self.data), _dump(redact_data(self.data))


def _dump(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def load(path: Path) -> list[Case]:
    """The cases of one corpus file."""
    raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # a safe loader
    return [
        Case(
            id=item["id"],
            text=item.get("text"),
            data=item.get("data"),
            secrets=tuple(item.get("secrets", ())),
            keep=tuple(item.get("keep", ())),
        )
        for item in raw
    ]


@dataclass
class Score:
    """Recall on must-redact, context kept, and false positives on must-keep."""

    redact_total: int = 0
    leaked: list[str] = field(default_factory=list)  # case ids where a secret survived
    context_lost: list[str] = field(default_factory=list)  # case ids where a `keep` string went
    keep_total: int = 0
    false_positives: list[str] = field(default_factory=list)  # must-keep case ids that changed

    @property
    def recall(self) -> float:
        """Share of must-redact cases with every secret gone."""
        return 1 - len(self.leaked) / self.redact_total

    @property
    def false_positive_rate(self) -> float:
        """Share of must-keep cases that redaction changed."""
        return len(self.false_positives) / self.keep_total

    def report(self) -> str:
        """One paragraph of figures, and the failing case ids."""
        lines = [
            f"redaction corpus: {self.redact_total} must-redact, {self.keep_total} must-keep",
            f"  recall {self.recall:.1%} ({self.redact_total - len(self.leaked)}/{self.redact_total})"
            f"; context kept in {self.redact_total - len(self.context_lost)}/{self.redact_total}",
            f"  false positives {self.false_positive_rate:.1%}"
            f" ({len(self.false_positives)}/{self.keep_total})",
        ]
        for label, ids in (("leaked", self.leaked), ("context lost", self.context_lost),
                           ("false positive", self.false_positives)):  # fmt: skip
            if ids:
                lines.append(f"  {label}: {', '.join(ids)}")
        return "\n".join(lines)


def score() -> Score:
    """Run the redactor over both corpus files."""
    result = Score()
    for case in load(MUST_REDACT):
        result.redact_total += 1
        _, out = case.run()
        if any(secret in out for secret in case.secrets):
            result.leaked.append(case.id)
        if any(kept not in out for kept in case.keep):
            result.context_lost.append(case.id)
    for case in load(MUST_KEEP):
        result.keep_total += 1
        before, after = case.run()
        if before != after:
            result.false_positives.append(case.id)
    return result
