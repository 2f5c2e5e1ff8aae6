"""Credentials recognisable by their format alone: cloud and forge tokens, API keys, JWTs.

Where `detect-secrets` (1.5) has a plugin for a format its `denylist` regexes are used as they
are; detect-secrets reports *which lines* hold a secret, so the patterns are run here with
`finditer` to get the *span* to replace. Formats it lacks, or matches too narrowly (classic
GitHub tokens of other lengths, fine-grained `github_pat_`, OpenAI project keys, Stripe test
keys, Google API keys, Vault, Hugging Face, ...), have their own patterns; the catalogue of
formats is `tools.redaction.formats`.

A match inside a longer token is widened to the whole token: `ghp_` + 36 characters followed by
more token characters is one secret, and none of it may stay outside the marker.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator

from tools.redaction.spans import Span

_TOKEN_CHAR = re.compile(r"[A-Za-z0-9_\-]")


class Shape:
    """One token format: a pattern, the group that holds the secret, and a validity check."""

    __slots__ = ("group", "kind", "needles", "pattern", "valid", "widen")

    def __init__(
        self,
        kind: str,
        pattern: re.Pattern[str],
        *,
        needles: tuple[str, ...] = (),
        group: int | str = 0,
        valid: Callable[[str], bool] | None = None,
        widen: bool | int = True,
    ) -> None:
        self.kind = kind
        self.pattern = pattern
        self.needles = needles  # lowercase substrings one of which every match holds (a cheap gate)
        self.group = group
        self.valid = valid  # True when a match really is a secret (a checksum, a decodable JWT, ...)
        self.widen = widen

    def spans(self, text: str) -> Iterator[Span]:
        """The secret spans of this format in `text`."""
        for match in self.pattern.finditer(text):
            start, end = match.span(self.group)
            if start < 0 or (self.valid is not None and not self.valid(match.group(self.group))):
                continue
            if self.widen:
                while start > 0 and _TOKEN_CHAR.match(text, start - 1):
                    start -= 1
                while end < len(text) and _TOKEN_CHAR.match(text, end):
                    end += 1
            yield Span(start, end, self.kind)


@functools.cache
def _formats() -> tuple[tuple[Shape, ...], frozenset[str]]:
    # The catalogue (and detect-secrets with it) loads at the first redaction, not at import: a
    # process that never redacts (a run-store child, a CLI command) is spared 0.2 s of CPU. If
    # detect-secrets cannot be imported the redaction raises: nothing goes out unredacted.
    from tools.redaction.formats import NEEDLES, SHAPES

    return SHAPES, NEEDLES


def token_spans(text: str) -> Iterator[Span]:
    """Every span of a known credential format in `text`.

    Literal searches first find which formats' needles occur at all (a few microseconds each);
    only those formats' patterns then run.
    """
    shapes, needles = _formats()
    lower = text.lower()
    present = {needle for needle in needles if needle in lower}
    for shape in shapes:
        if not shape.needles or not present.isdisjoint(shape.needles):
            yield from shape.spans(text)
