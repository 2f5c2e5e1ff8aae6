"""A found secret: where it is in the text and which detector found it; merging overlaps."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import NamedTuple


class Span(NamedTuple):
    """Characters `start:end` of a text hold a secret value of this kind."""

    start: int
    end: int
    kind: str


# A detector reads a text and yields the spans of the secret values in it.
Detector = Callable[[str], Iterator[Span]]


def merge(spans: Iterable[Span]) -> list[Span]:
    """Overlapping or touching spans joined into one (its kind is the first's), sorted by start.

    The union, never a choice between overlaps: a part of a secret left outside the marker
    would still leak.
    """
    merged: list[Span] = []
    for span in sorted(spans):
        if span.end <= span.start:
            continue
        if merged and span.start <= merged[-1].end:
            last = merged[-1]
            if span.end > last.end:
                merged[-1] = Span(last.start, span.end, last.kind)
            continue
        merged.append(span)
    return merged


def shift(spans: Iterable[Span], offset: int) -> Iterator[Span]:
    """Spans found in a substring, moved to the substring's place in the whole text."""
    for span in spans:
        yield Span(span.start + offset, span.end + offset, span.kind)
