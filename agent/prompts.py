"""Prompt templates shipped as package data in `prompts/`, each declaring the variables it takes.

A template file starts with a YAML front-matter header:

    ---
    description: what the prompt is for
    variables: [evidence_block, incident]
    ---
    body, rendered with Jinja2 ({{ incident }}, {% if witty %}...{% endif %})

Files whose name starts with `_` are partials: rules or macros several prompts share, pulled in
with `{% include "_untrusted_data.md" %}` or `{% from "_fence.md" import fence %}`. A partial
is never a prompt of its own; its variables count as the including prompt's.

Both directions are checked: a template that uses an undeclared variable (or declares one it never
uses), itself or through its partials, fails to load, and rendering with a missing or unexpected
variable fails loudly.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any

import jinja2
import jinja2.meta
import yaml

PROMPTS_PACKAGE = "prompts"
PARTIAL_PREFIX = "_"
_FRONT_MATTER = "---"
_SUFFIX = ".md"


class PromptError(ValueError):
    """A template that cannot be loaded or rendered as declared."""


def _split(name: str, text: str) -> tuple[dict[str, Any], str]:
    """A template file's front matter (as a mapping) and its body."""
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
    return header, "".join(lines[end + 1 :])


def _partial_body(package: str, file_name: str) -> str:
    """The body of partial `file_name` (e.g. `_fence.md`) in `package`; PromptError when there is none."""
    if not file_name.startswith(PARTIAL_PREFIX) or not file_name.endswith(_SUFFIX) or "/" in file_name:
        raise PromptError(f"{file_name!r} is not a partial: partials are `_<name>.md` beside the prompts")
    resource = resources.files(package).joinpath(file_name)
    if not resource.is_file():
        raise PromptError(f"no partial named {file_name!r} in package {package!r}")
    return _split(file_name, resource.read_text(encoding="utf-8"))[1]


def _environment(package: str = PROMPTS_PACKAGE) -> jinja2.Environment:
    # Markdown prompts, not HTML: no autoescaping; StrictUndefined so a typo cannot render as "".
    return jinja2.Environment(
        loader=jinja2.FunctionLoader(lambda file_name: _partial_body(package, file_name)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )


def _variables(package: str, name: str, body: str, partials: tuple[str, ...] = ()) -> set[str]:
    """The variables `body` uses, itself and through the partials it includes or imports."""
    env = _environment(package)
    try:
        tree = env.parse(body)
    except jinja2.TemplateSyntaxError as exc:
        raise PromptError(f"prompt {name!r}: line {exc.lineno}: {exc.message}") from exc
    used = set(jinja2.meta.find_undeclared_variables(tree))
    for partial in jinja2.meta.find_referenced_templates(tree):
        if partial is None:
            raise PromptError(f"prompt {name!r}: a partial must be named by a string literal")
        if partial in partials:
            raise PromptError(f"prompt {name!r}: partial {partial!r} includes itself")
        partial_body = _partial_body(package, partial)
        used |= _variables(package, f"{name} > {partial}", partial_body, (*partials, partial))
    return used


@dataclass(frozen=True)
class PromptTemplate:
    """A loaded template: its name, description, declared variables and Jinja2 body."""

    name: str
    description: str
    variables: frozenset[str]
    body: str
    package: str = PROMPTS_PACKAGE  # where its partials are looked up

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
            return _environment(self.package).from_string(self.body).render(**values)
        except jinja2.TemplateError as exc:
            raise PromptError(f"prompt {self.name!r}: {exc}") from exc


def parse_template(name: str, text: str, package: str = PROMPTS_PACKAGE) -> PromptTemplate:
    """Parse a template file's text (front matter + body) and check its declared variables."""
    header, body = _split(name, text)
    declared = header.get("variables", [])
    if not isinstance(declared, list) or not all(isinstance(v, str) for v in declared):
        raise PromptError(f"prompt {name!r}: 'variables' must be a list of names")
    used = _variables(package, name, body)
    if used != set(declared):
        raise PromptError(
            f"prompt {name!r}: declared variables {sorted(declared)} but the body uses {sorted(used)}"
        )
    return PromptTemplate(
        name=name,
        description=str(header.get("description", "")),
        variables=frozenset(declared),
        body=body,
        package=package,
    )


def load_prompt(name: str, package: str = PROMPTS_PACKAGE) -> PromptTemplate:
    """Load `<name>.md` from the prompts package data."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise PromptError(f"invalid prompt name {name!r}")
    if name.startswith(PARTIAL_PREFIX):
        raise PromptError(f"{name!r} is a partial: prompts include it, it is not rendered alone")
    resource = resources.files(package).joinpath(f"{name}{_SUFFIX}")
    if not resource.is_file():
        raise PromptError(f"no prompt named {name!r} in package {package!r}")
    return parse_template(name, resource.read_text(encoding="utf-8"), package)


def _file_names(package: str) -> list[str]:
    return sorted(
        entry.name
        for entry in resources.files(package).iterdir()
        if entry.is_file() and entry.name.endswith(_SUFFIX)
    )


def available_prompts(package: str = PROMPTS_PACKAGE) -> list[str]:
    """The names of every template in the prompts package (partials excluded)."""
    return [n.removesuffix(_SUFFIX) for n in _file_names(package) if not n.startswith(PARTIAL_PREFIX)]


def available_partials(package: str = PROMPTS_PACKAGE) -> list[str]:
    """The file names of every partial in the prompts package (`_fence.md`, ...)."""
    return [n for n in _file_names(package) if n.startswith(PARTIAL_PREFIX)]
