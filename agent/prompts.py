"""Prompt templates shipped as package data in `prompts/`, each declaring the variables it takes.

A template file starts with a YAML front-matter header:

    ---
    description: what the prompt is for
    variables: [evidence_block, incident]
    ---
    body, rendered with Jinja2 ({{ incident }}, {% if witty %}...{% endif %})

Both directions are checked: a template that uses an undeclared variable (or declares one it never
uses) fails to load, and rendering with a missing or unexpected variable fails loudly.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any

import jinja2
import jinja2.meta
import yaml

PROMPTS_PACKAGE = "prompts"
_FRONT_MATTER = "---"


class PromptError(ValueError):
    """A template that cannot be loaded or rendered as declared."""


def _environment() -> jinja2.Environment:
    # Markdown prompts, not HTML: no autoescaping; StrictUndefined so a typo cannot render as "".
    return jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)


@dataclass(frozen=True)
class PromptTemplate:
    """A loaded template: its name, description, declared variables and Jinja2 body."""

    name: str
    description: str
    variables: frozenset[str]
    body: str

    def render(self, **values: Any) -> str:
        """Render with exactly the declared variables; raise PromptError naming any mismatch."""
        given = set(values)
        missing = sorted(self.variables - given)
        unexpected = sorted(given - self.variables)
        if missing or unexpected:
            parts = []
            if missing:
                parts.append(f"missing {missing}")
            if unexpected:
                parts.append(f"unexpected {unexpected}")
            raise PromptError(f"prompt {self.name!r}: " + "; ".join(parts))
        try:
            return _environment().from_string(self.body).render(**values)
        except jinja2.TemplateError as exc:
            raise PromptError(f"prompt {self.name!r}: {exc}") from exc


def parse_template(name: str, text: str) -> PromptTemplate:
    """Parse a template file's text (front matter + body) and check its declared variables."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != _FRONT_MATTER:
        raise PromptError(f"prompt {name!r}: must start with a '---' front-matter header")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == _FRONT_MATTER)
    except StopIteration:
        raise PromptError(f"prompt {name!r}: front-matter header is not closed with '---'") from None
    try:
        header = yaml.safe_load("".join(lines[1:end])) or {}
    except yaml.YAMLError as exc:
        raise PromptError(f"prompt {name!r}: front matter is not valid YAML: {exc}") from exc
    if not isinstance(header, dict):
        raise PromptError(f"prompt {name!r}: front matter must be a mapping")
    declared = header.get("variables", [])
    if not isinstance(declared, list) or not all(isinstance(v, str) for v in declared):
        raise PromptError(f"prompt {name!r}: 'variables' must be a list of names")
    body = "".join(lines[end + 1 :])
    try:
        used = jinja2.meta.find_undeclared_variables(_environment().parse(body))
    except jinja2.TemplateSyntaxError as exc:
        raise PromptError(f"prompt {name!r}: line {exc.lineno}: {exc.message}") from exc
    if used != set(declared):
        raise PromptError(
            f"prompt {name!r}: declared variables {sorted(declared)} but the body uses {sorted(used)}"
        )
    return PromptTemplate(
        name=name, description=str(header.get("description", "")), variables=frozenset(declared), body=body
    )


def load_prompt(name: str, package: str = PROMPTS_PACKAGE) -> PromptTemplate:
    """Load `<name>.md` from the prompts package data."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise PromptError(f"invalid prompt name {name!r}")
    resource = resources.files(package).joinpath(f"{name}.md")
    if not resource.is_file():
        raise PromptError(f"no prompt named {name!r} in package {package!r}")
    return parse_template(name, resource.read_text(encoding="utf-8"))


def available_prompts(package: str = PROMPTS_PACKAGE) -> list[str]:
    """The names of every template in the prompts package."""
    return sorted(
        entry.name.removesuffix(".md")
        for entry in resources.files(package).iterdir()
        if entry.is_file() and entry.name.endswith(".md")
    )
