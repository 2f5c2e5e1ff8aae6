"""Prompt templates: shipped as package data, declared variables checked both ways, partials shared,
every prompt file used by the product."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agent.prompts import (
    PromptError,
    available_partials,
    available_prompts,
    load_prompt,
    parse_template,
)

ROOT = Path(__file__).resolve().parents[2]
PRODUCT_PACKAGES = ("agent", "tools", "graph", "server", "evals", "paramedic")
UNTRUSTED_RULES = "_untrusted_data.md"


def _rendered(name: str) -> tuple[str, dict[str, str]]:
    template = load_prompt(name)
    values = {variable: f"<{variable} value>" for variable in sorted(template.variables)}
    return template.render(**values), values


def _product_source() -> str:
    return "\n".join(
        path.read_text(encoding="utf-8")
        for package in PRODUCT_PACKAGES
        if (ROOT / package).is_dir()
        for path in sorted((ROOT / package).rglob("*.py"))
    )


def test_every_shipped_template_loads_with_its_declared_variables() -> None:
    names = available_prompts()
    assert {"analyst_system", "analyst_user", "analyst_final", "repair", "chat_agent_system"} <= set(names)
    for name in names:
        template = load_prompt(name)
        assert template.description, name
    assert load_prompt("repair").variables == {"boundary", "previous_answer", "error"}


@pytest.mark.parametrize("name", available_prompts())
def test_every_prompt_is_loaded_by_the_product(name: str) -> None:
    # A prompt file nothing loads is dead text that reviewers would still have to keep safe.
    assert re.search(rf"load_prompt\(\s*[\"']{name}[\"']", _product_source()), f"{name}.md is not used"


@pytest.mark.parametrize("partial", available_partials())
def test_every_partial_is_used_by_a_prompt(partial: str) -> None:
    users = [n for n in available_prompts() if partial in (ROOT / "prompts" / f"{n}.md").read_text()]
    assert users, f"{partial} is included by no prompt"


@pytest.mark.parametrize("name", available_prompts())
def test_every_prompt_renders_and_states_the_untrusted_data_rules(name: str) -> None:
    text, values = _rendered(name)
    for variable, value in values.items():
        if variable != "witty":
            assert value in text, (name, variable)
    if name.endswith("_system"):
        # Every conversation opens with the one shared statement of the rules on untrusted data.
        rules = load_prompt(name).body
        assert f'{{% include "{UNTRUSTED_RULES}"' in rules
        shared = (ROOT / "prompts" / UNTRUSTED_RULES).read_text(encoding="utf-8").split("---\n", 2)[2]
        assert shared.strip().replace("{{ boundary }}", values["boundary"]) in text
    boundary = values.get("boundary")
    if boundary is not None:
        # Data shown to a model is fenced, and every fence that opens is closed with the same label.
        opened = re.findall(rf"^<<<BEGIN UNTRUSTED ([A-Z-]+) {re.escape(boundary)}>>>$", text, re.M)
        closed = re.findall(rf"^<<<END UNTRUSTED ([A-Z-]+) {re.escape(boundary)}>>>$", text, re.M)
        assert opened == closed, name
        assert opened or name.endswith("_system"), f"{name} takes a boundary but fences nothing"


def test_partials_are_not_prompts() -> None:
    assert set(available_partials()) >= {UNTRUSTED_RULES, "_fence.md"}
    assert not any(name.startswith("_") for name in available_prompts())
    with pytest.raises(PromptError, match="is a partial"):
        load_prompt("_fence")


def test_partials_count_toward_the_declared_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "prompt_pack"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "_who.md").write_text("---\nvariables: [who]\n---\nhello {{ who }}")
    (package / "_loop.md").write_text('---\nvariables: []\n---\n{% include "_loop.md" %}')
    monkeypatch.syspath_prepend(str(tmp_path))
    body = '---\nvariables: [who]\n---\n{% include "_who.md" %}!'
    assert parse_template("t", body, "prompt_pack").render(who="ops") == "hello ops!"
    with pytest.raises(PromptError, match="body uses"):
        parse_template("t", '---\nvariables: []\n---\n{% include "_who.md" %}', "prompt_pack")
    with pytest.raises(PromptError, match="includes itself"):
        parse_template("t", '---\nvariables: []\n---\n{% include "_loop.md" %}', "prompt_pack")
    with pytest.raises(PromptError, match="no partial"):
        parse_template("t", '---\nvariables: []\n---\n{% include "_none.md" %}', "prompt_pack")
    with pytest.raises(PromptError, match="not a partial"):
        parse_template("t", '---\nvariables: []\n---\n{% include "repair.md" %}', "prompt_pack")


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
    on = system.render(categories="oom", actions="notify", witty=True, boundary="b0")
    off = system.render(categories="oom", actions="notify", witty=False, boundary="b0")
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
