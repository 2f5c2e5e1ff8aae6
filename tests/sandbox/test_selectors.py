"""Label and field selector parsing and matching."""

import pytest

from sandbox.selectors import (
    format_selector,
    parse_field_selector,
    parse_label_selector,
    selector_from_spec,
)
from sandbox.store import ApiError

LABELS = {"app": "web", "tier": "frontend", "env": "prod", "version": "3"}


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("", True),
        ("app=web", True),
        ("app==web", True),
        ("app=api", False),
        ("app!=api", True),
        ("app!=web", False),
        ("missing!=x", True),
        ("app=web,tier=frontend", True),
        ("app=web,tier=backend", False),
        ("env in (prod,staging)", True),
        ("env in (dev, staging)", False),
        ("env notin (dev,staging)", True),
        ("missing notin (a)", True),
        ("env notin (prod)", False),
        ("app", True),
        ("missing", False),
        ("!missing", True),
        ("!app", False),
        ("app=web, env in (prod), !legacy", True),
        ("version>2", True),
        ("version<2", False),
    ],
)
def test_label_selector_string_form(expr, expected):
    assert parse_label_selector(expr).matches(LABELS) is expected


@pytest.mark.parametrize("bad", ["app=web,", "env in (a", "a b c", "=x", "key=bad value!", "version>x"])
def test_label_selector_rejects_garbage_with_400(bad):
    with pytest.raises(ApiError) as err:
        parse_label_selector(bad)
    assert err.value.code == 400


def test_selector_from_spec_match_labels_and_expressions():
    sel = selector_from_spec(
        {
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "env", "operator": "In", "values": ["prod", "qa"]},
                {"key": "legacy", "operator": "DoesNotExist"},
            ],
        }
    )
    assert sel.matches(LABELS)
    assert not sel.matches({**LABELS, "legacy": "1"})
    assert not sel.matches({**LABELS, "env": "dev"})
    assert not sel.matches({})


def test_missing_selector_matches_nothing_and_empty_selector_everything():
    assert not selector_from_spec(None).matches(LABELS)
    assert selector_from_spec({}).matches(LABELS)
    assert selector_from_spec({}).matches({})


def test_selector_from_spec_rejects_bad_operator():
    with pytest.raises(ApiError):
        selector_from_spec({"matchExpressions": [{"key": "a", "operator": "Like", "values": ["b"]}]})
    with pytest.raises(ApiError):
        selector_from_spec({"matchExpressions": [{"key": "a", "operator": "In"}]})


def test_format_selector_round_trips():
    spec = {"matchLabels": {"app": "web", "pod-template-hash": "abc"}}
    text = format_selector(spec)
    assert text == "app=web,pod-template-hash=abc"
    assert parse_label_selector(text) == selector_from_spec(spec)


POD = {
    "metadata": {"name": "web-1", "namespace": "shop"},
    "spec": {"nodeName": "node-1"},
    "status": {"phase": "Running"},
}
EVENT = {
    "metadata": {"name": "web-1.17", "namespace": "shop"},
    "involvedObject": {"kind": "Pod", "name": "web-1", "namespace": "shop"},
    "reason": "BackOff",
    "type": "Warning",
}


@pytest.mark.parametrize(
    ("expr", "obj", "expected"),
    [
        ("metadata.name=web-1", POD, True),
        ("metadata.name==web-1", POD, True),
        ("metadata.name!=web-1", POD, False),
        ("metadata.namespace=shop,status.phase=Running", POD, True),
        ("status.phase!=Running", POD, False),
        ("spec.nodeName=node-2", POD, False),
        ("spec.nodeName=", {"spec": {}}, True),
        ("involvedObject.name=web-1,involvedObject.kind=Pod", EVENT, True),
        ("reason=BackOff,type=Warning", EVENT, True),
        ("type=Normal", EVENT, False),
        ("", EVENT, True),
    ],
)
def test_field_selector(expr, obj, expected):
    assert parse_field_selector(expr).matches(obj) is expected


def test_field_selector_unknown_field_is_400():
    with pytest.raises(ApiError) as err:
        parse_field_selector("spec.containers=x")
    assert err.value.code == 400
    assert "field label not supported" in err.value.message
