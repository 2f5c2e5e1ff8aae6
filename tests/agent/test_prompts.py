"""Prompt templates: shipped as package data, declared variables checked both ways."""

from __future__ import annotations

import pytest

from agent.prompts import PromptError, available_prompts, load_prompt, parse_template


def test_every_shipped_template_loads_with_its_declared_variables() -> None:
    names = available_prompts()
    assert {"analyst_system", "analyst_user", "analyst_final", "repair", "chat_answer"} <= set(names)
    for name in names:
        template = load_prompt(name)
        assert template.description, name
    assert load_prompt("repair").variables == {"boundary", "previous_answer", "error"}


def test_render_fills_the_variables() -> None:
    text = load_prompt("repair").render(boundary="b0", previous_answer="oops", error="bad action")
    assert "<<<BEGIN UNTRUSTED PREVIOUS-ANSWER b0>>>\noops\n<<<END UNTRUSTED PREVIOUS-ANSWER b0>>>" in text
    assert "bad action" in text


def test_render_fails_on_missing_and_unexpected_variables() -> None:
    template = load_prompt("repair")
    with pytest.raises(PromptError, match=r"missing \['error'\]"):
        template.render(boundary="b", previous_answer="x")
    with pytest.raises(PromptError, match=r"unexpected \['extra'\]"):
        template.render(boundary="b", previous_answer="x", error="e", extra=1)


def test_witty_flag_switches_the_quip_rule() -> None:
    system = load_prompt("analyst_system")
    on = system.render(categories="oom", actions="notify", witty=True)
    off = system.render(categories="oom", actions="notify", witty=False)
    assert "one-liner" in on and "Leave `quip` empty" in off


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no header {{ x }}", "front-matter"),
        ("---\nvariables: [x]\nbody {{ x }}", "not closed"),
        ("---\nvariables: [x]\n---\nbody {{ y }}", "body uses"),
        ("---\nvariables: [x, y]\n---\nbody {{ x }}", "body uses"),
        ("---\nvariables: x\n---\nbody", "list of names"),
        ("---\nvariables: [x]\n---\nbody {{ x ", "line"),
        ("---\n: [\n---\nbody", "YAML"),
    ],
)
def test_bad_templates_fail_to_load(text: str, message: str) -> None:
    with pytest.raises(PromptError, match=message):
        parse_template("t", text)


def test_unknown_or_path_like_names_are_refused() -> None:
    with pytest.raises(PromptError, match="no prompt"):
        load_prompt("nope")
    with pytest.raises(PromptError, match="invalid"):
        load_prompt("../pyproject")
