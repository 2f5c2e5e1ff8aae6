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


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def lowered(text: str) -> str:
    """`text` in lower case with every character at its place (for case-blind searches by index).

    `str.lower` is used when it keeps the length (it then moved nothing); a few characters
    (`İ`) lower to two, and then only ASCII letters are lowered.
    """
    lower = text.lower()
    return lower if len(lower) == len(text) else text.translate(_ASCII_LOWER)


def occurrences(haystack: str, needle: str) -> Iterator[int]:
    """Where `needle` starts in `haystack`, left to right (a fast literal search)."""
    position = haystack.find(needle)
    while position >= 0:
        yield position
        position = haystack.find(needle, position + 1)


def shift(spans: Iterable[Span], offset: int) -> Iterator[Span]:
    """Spans found in a substring, moved to the substring's place in the whole text."""
    for span in spans:
        yield Span(span.start + offset, span.end + offset, span.kind)
