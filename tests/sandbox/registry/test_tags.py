"""Tag grammars: release lines, variants with ranges, named tags, prefixes and patterns."""

import pytest
from pydantic import ValidationError

from sandbox.registry.tags import TagGrammar

GRAMMAR = TagGrammar(
    prefix=["v", ""],
    lines={"1.24": 2, "1.25": 5, "20": [3, 9]},
    named=["latest", "edge"],
    named_with_variants=["stable"],
    bare_variants=True,
    variants={
        "alpine": {"base": "alpine"},
        "bookworm": {"min": "1.25"},
        "buster": {"max": "1.24"},
        r"alpine3\.\d+": {"base": "alpine", "pattern": True},
        "apache": {"profile": "php-apache"},
    },
    extra=[r"\d+\.\d+\.\d+-r\d+"],
)


@pytest.mark.parametrize(
    "tag",
    [
        "latest",
        "edge",
        "1",
        "1.25",
        "1.25.5",
        "v1.25.0",
        "1.24-alpine",
        "1.25.3-bookworm",
        "1.24.1-buster",
        "alpine",
        "stable-alpine",
        "1.25-alpine3.19",
        "20",
        "20.3",
        "20.3.9",
        "1.25.3-r7",
        "1.25-apache",
    ],
)
def test_existing_tags_match(tag):
    assert GRAMMAR.match(tag) is not None


@pytest.mark.parametrize(
    "tag",
    [
        "1.26",
        "1.25.6",
        "1.99",
        "2",
        "1.24-bookworm",
        "1.25-buster",
        "1.25-slim",
        "stable",
        "lts",
        "20.4",
        "20.3.10",
        "latest-alpine",
        "1.25-alpine3.x",
        "V1.25",
    ],
)
def test_missing_tags_do_not_match(tag):
    assert GRAMMAR.match(tag) is None


def test_a_match_carries_the_variant_base_profile_and_full_version():
    m = GRAMMAR.match("1.25-alpine3.19")
    assert m is not None and m.base == "alpine" and m.version == (1, 25)
    assert GRAMMAR.full_version(m) == "1.25.5"
    assert GRAMMAR.match("1.25-apache").profile == "php-apache"
    assert GRAMMAR.full_version(GRAMMAR.match("latest")) == "20.3.9"


def test_any_tag_takes_every_tag():
    assert TagGrammar(any_tag=True).match("whatever-1") is not None


def test_listed_tags_are_existing_ones():
    assert all(GRAMMAR.match(t) for t in GRAMMAR.listed())


def test_bad_patterns_and_unknown_fields_are_refused():
    with pytest.raises(ValidationError):
        TagGrammar(extra=["("])
    with pytest.raises(ValidationError):
        TagGrammar(tags=["1"])
