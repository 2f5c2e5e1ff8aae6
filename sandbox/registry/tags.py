"""Tag grammars: which tags a repository really has.

A repository's tags are described, not listed: release lines with their highest patch
(`"1.25": 5` is 1.25.0 to 1.25.5, so `1`, `1.25` and `1.25.3` exist, `1.25.9` does not), named
tags (`latest`, `mainline`, `lts`), variants appended with a dash (`-alpine`, `-slim-bookworm`),
each possibly limited to a range of lines, and extra regular expressions for odd families
(`17.0.10_7-jdk`, `7.2.4-debian-12-r5`). `any_tag` marks a repository whose tags are not
modelled: every syntactically valid tag is taken to exist.
"""

from __future__ import annotations

import re
from functools import cached_property

from pydantic import BaseModel, ConfigDict, Field, field_validator

Version = tuple[int, ...]


def version_of(text: str) -> Version | None:
    """`1.25.3` -> (1, 25, 3); None when it is not dotted numbers."""
    parts = text.split(".")
    if not all(p.isdigit() for p in parts):
        return None
    return tuple(int(p) for p in parts)


class Variant(BaseModel):
    """A suffix family (`alpine`, `slim-bookworm`); `pattern` makes the name a regular expression."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base: str | None = None  # the distro it is built on, when not the repository's default
    profile: str | None = None  # another behaviour (php `-apache` serves HTTP, `-fpm` FastCGI)
    min: str | None = None  # the first release line that has it
    max: str | None = None  # the last one
    pattern: bool = False

    def allows(self, line: Version) -> bool:
        """Whether release line `line` has this variant."""
        lo = version_of(self.min) if self.min else None
        hi = version_of(self.max) if self.max else None
        return (lo is None or line[: len(lo)] >= lo) and (hi is None or line[: len(hi)] <= hi)


class Match(BaseModel):
    """What a tag resolved to."""

    model_config = ConfigDict(frozen=True)

    tag: str
    version: Version | None = None
    variant: str = ""
    base: str | None = None
    profile: str | None = None


class TagGrammar(BaseModel):
    """The tags one repository has."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    any_tag: bool = False
    prefix: list[str] = Field(default_factory=lambda: [""])  # "v" for v2.51.0; ["v", ""] for both
    # release line -> highest patch, or [highest minor, highest patch] for a major line (node "20")
    lines: dict[str, int | list[int]] = Field(default_factory=dict)
    forms: list[str] = Field(default_factory=lambda: ["major", "line", "patch"])
    named: list[str] = Field(default_factory=lambda: ["latest"])
    named_with_variants: list[str] = Field(default_factory=list)
    variants: dict[str, Variant | None] = Field(default_factory=dict)
    bare_variants: bool = False  # `alpine` alone is a tag
    extra: list[str] = Field(default_factory=list)  # whole-tag regular expressions

    @field_validator("extra")
    @classmethod
    def _compiles(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as err:
                raise ValueError(f"bad pattern {pattern!r}: {err}") from None
        return value

    @cached_property
    def _versions(self) -> dict[Version, Version]:
        """Every existing version -> the release line it belongs to."""
        out: dict[Version, Version] = {}
        for key, top in self.lines.items():
            line = version_of(key)
            if line is None:
                raise ValueError(f"release line {key!r} is not a version")
            if "major" in self.forms:
                out.setdefault(line[:1], line)
            if isinstance(top, list):  # a major line: minors and patches
                minors, patches = top
                out[line] = line
                for minor in range(minors + 1):
                    out[(*line, minor)] = line
                    for patch in range(patches + 1):
                        out[(*line, minor, patch)] = line
                continue
            if "line" in self.forms:
                out[line] = line
            if "patch" in self.forms:
                for patch in range(top + 1):
                    out[(*line, patch)] = line
        return out

    @cached_property
    def _variant_patterns(self) -> list[tuple[re.Pattern[str], str, Variant]]:
        return [
            (re.compile(f"^(?:{name})$"), name, v) for name, v in self.variants.items() if v and v.pattern
        ]

    def variant(self, text: str) -> tuple[str, Variant] | None:
        """The variant a suffix names, if the repository has it."""
        if text in self.variants:
            return text, self.variants[text] or Variant()
        for rx, name, v in self._variant_patterns:
            if rx.match(text):
                return name, v
        return None

    def match(self, tag: str) -> Match | None:
        """What `tag` is, or None when the repository has no such tag."""
        if self.any_tag:
            return Match(tag=tag)
        if tag in self.named:
            return Match(tag=tag)
        if any(re.fullmatch(rx, tag) for rx in self.extra):
            head, _, rest = tag.partition("-")
            found = self.variant(rest) if rest else None
            v = found[1] if found else Variant()
            return Match(tag=tag, version=version_of(head), variant=rest, base=v.base, profile=v.profile)
        head, rest = tag, ""
        # the longest version-looking head: `3.12-slim-bookworm` -> (`3.12`, `slim-bookworm`)
        for i, ch in enumerate(tag):
            if ch == "-":
                head, rest = tag[:i], tag[i + 1 :]
                break
        if rest or self.bare_variants:
            found = self.variant(tag) if self.bare_variants else None
            if found is not None:
                return Match(tag=tag, variant=found[0], base=found[1].base, profile=found[1].profile)
        if head in self.named_with_variants and rest:
            found = self.variant(rest)
            if found is not None:
                return Match(tag=tag, variant=found[0], base=found[1].base, profile=found[1].profile)
            return None
        for prefix in self.prefix:
            if not head.startswith(prefix):
                continue
            version = version_of(head[len(prefix) :])
            line = self._versions.get(version) if version else None
            if line is None:
                continue
            if not rest:
                return Match(tag=tag, version=version)
            found = self.variant(rest)
            if found is not None and found[1].allows(line):
                return Match(
                    tag=tag, version=version, variant=found[0], base=found[1].base, profile=found[1].profile
                )
        return None

    def full_version(self, match: Match) -> str:
        """The complete version a matched tag runs (`1.25` -> `1.25.5`, `latest` -> the newest)."""
        if match.version is None:
            return (self.newest() or "").removeprefix(self.prefix[0])
        if len(match.version) >= 3:
            return ".".join(map(str, match.version))
        best = max(
            (v for v in self._versions if v[: len(match.version)] == match.version), default=match.version
        )
        return ".".join(map(str, best))

    def listed(self) -> list[str]:
        """A representative list of existing tags: the named ones and each line's newest release."""
        out = list(self.named)
        for key, top in self.lines.items():
            out.append(self.prefix[0] + key)
            if isinstance(top, int) and "patch" in self.forms:
                out.append(f"{self.prefix[0]}{key}.{top}")
        return out

    def newest(self) -> str | None:
        """The highest full version (for messages and defaults)."""
        full = [v for v in self._versions if len(v) >= 3] or list(self._versions)
        if not full:
            return None
        return self.prefix[0] + ".".join(map(str, max(full)))
