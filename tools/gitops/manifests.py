"""Read and patch Kubernetes manifests without disturbing what the patch does not touch.

Patching is a ruamel.yaml round-trip of the one document concerned, with strategic-merge
semantics for lists keyed by name (containers, env, ports, ...). The re-serialised lines are
then spliced back into the original text, so comments, key order, quoting and the layout of
every untouched line (and every other document in the file) stay exactly as they were.
"""

from __future__ import annotations

import copy
import difflib
import io
import re
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

_DOC_START = re.compile(r"---(?:[ \t]|$)")

# Strategic-merge keys of the list fields Paramedic patches; the first key the patch item
# carries is the one used (Kubernetes merges container ports by containerPort, Service ports by port).
MERGE_KEYS: Mapping[str, tuple[str, ...]] = {
    "containers": ("name",),
    "initContainers": ("name",),
    "ephemeralContainers": ("name",),
    "env": ("name",),
    "ports": ("name", "containerPort", "port"),
    "volumeMounts": ("mountPath",),
    "volumes": ("name",),
    "imagePullSecrets": ("name",),
}


class ManifestError(ValueError):
    """A manifest that cannot be parsed, or a patch that cannot be applied to it."""


@dataclass(frozen=True)
class Document:
    """One non-empty YAML document of a file: its index among them and its parsed content."""

    index: int
    segment: int
    data: Any

    @property
    def kind(self) -> str | None:
        """The Kubernetes kind, when the document is a mapping that has one."""
        return _str_field(self.data, "kind")

    @property
    def name(self) -> str | None:
        """metadata.name, when present."""
        meta = self.data.get("metadata") if isinstance(self.data, Mapping) else None
        return _str_field(meta, "name")

    @property
    def namespace(self) -> str | None:
        """metadata.namespace, when present."""
        meta = self.data.get("metadata") if isinstance(self.data, Mapping) else None
        return _str_field(meta, "namespace")


def _str_field(mapping: Any, key: str) -> str | None:
    value = mapping.get(key) if isinstance(mapping, Mapping) else None
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None


def _segments(text: str) -> list[str]:
    """The text cut before every `---` line; joined back they are the text, byte for byte."""
    segments: list[str] = []
    current: list[str] = []
    for line in text.splitlines(keepends=True):
        if _DOC_START.match(line) and current:
            segments.append("".join(current))
            current = []
        current.append(line)
    segments.append("".join(current))
    return segments


def _round_trip_yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap long strings
    return yaml


def _load_segment(segment: str, where: str) -> Any:
    try:
        return _round_trip_yaml().load(segment)
    except YAMLError as exc:
        raise ManifestError(f"{where}: not valid YAML: {exc}") from None


def documents(text: str, source: str = "<manifest>") -> list[Document]:
    """The file's non-empty documents, in order (comment-only and empty documents are skipped)."""
    found: list[Document] = []
    for position, segment in enumerate(_segments(text)):
        data = _load_segment(segment, f"{source} (document at segment {position})")
        if data is not None:
            found.append(Document(index=len(found), segment=position, data=data))
    return found


def _is_shared(node: Any) -> bool:
    anchor = getattr(node, "anchor", None)
    return anchor is not None and anchor.value is not None


def _own(parent: MutableMapping[Any, Any], key: Any) -> Any:
    """The child to modify in place: a private copy when it is anchored or merged in (`<<`)."""
    child = parent[key]
    inherited = isinstance(parent, CommentedMap) and key not in parent._ok  # came in through `<<`
    if _is_shared(child) or inherited:
        # Editing an anchored node would silently change every alias of it too.
        child = copy.deepcopy(child)
        if hasattr(child, "yaml_set_anchor"):
            child.anchor.value = None
        parent[key] = child
    return child


def _to_node(value: Any) -> Any:
    if isinstance(value, Mapping):
        node = CommentedMap()
        for k, v in value.items():
            if not str(k).startswith("$"):
                node[k] = _to_node(v)
        return node
    if isinstance(value, list | tuple):
        return CommentedSeq(_to_node(v) for v in value)
    return value


def _like(old: Any, new: Any) -> Any:
    """The new scalar, quoted the way the old one was."""
    if isinstance(new, str) and isinstance(old, DoubleQuotedScalarString | SingleQuotedScalarString):
        return type(old)(new)
    return _to_node(new)


def _merge_map(target: MutableMapping[Any, Any], patch: Mapping[str, Any], path: str) -> None:
    for key, value in patch.items():
        where = f"{path}.{key}" if path else str(key)
        if str(key).startswith("$"):
            raise ManifestError(f"{where}: strategic-merge directive {key} is only supported in list items")
        if value is None:
            target.pop(key, None)
            continue
        current = target.get(key)
        if isinstance(value, Mapping) and isinstance(current, list):
            raise ManifestError(f"{where}: the manifest has a list here, the patch a mapping")
        if isinstance(value, Mapping) and isinstance(current, MutableMapping):
            _merge_map(_own(target, key), value, where)
        elif isinstance(value, list) and key in MERGE_KEYS and current is not None:
            if not isinstance(current, list):
                shape = "a mapping" if isinstance(current, Mapping) else f"the scalar {current!r}"
                raise ManifestError(f"{where}: the manifest has {shape} here, not a list")
            _merge_list(_own(target, key), value, MERGE_KEYS[key], where)
        else:
            target[key] = _like(current, value)


def _merge_list(items: list[Any], patch: Sequence[Any], keys: tuple[str, ...], path: str) -> None:
    for item in patch:
        if not isinstance(item, Mapping):
            raise ManifestError(f"{path}: list items must be mappings carrying one of {', '.join(keys)}")
        key = next((k for k in keys if k in item), None)
        if key is None:
            raise ManifestError(f"{path}: list item has no merge key (one of {', '.join(keys)})")
        position = next(
            (
                i
                for i, existing in enumerate(items)
                if isinstance(existing, Mapping) and existing.get(key) == item[key]
            ),
            None,
        )
        directive = item.get("$patch")
        if directive == "delete":
            if position is not None:
                del items[position]
            continue
        if directive is not None:
            raise ManifestError(f"{path}: unsupported $patch directive {directive!r}")
        if position is None:
            items.append(_to_node(item))
        else:
            if _is_shared(items[position]):
                items[position] = copy.deepcopy(items[position])
                items[position].anchor.value = None
            _merge_map(items[position], item, f"{path}[{key}={item[key]}]")


def strategic_merge(document: MutableMapping[Any, Any], patch: Mapping[str, Any]) -> None:
    """Merge `patch` into `document` in place: maps merge, keyed lists merge by key, null deletes."""
    if not isinstance(patch, Mapping):
        raise ManifestError("a patch must be a mapping")
    _merge_map(document, patch, "")


def _guess_indent(segment: str) -> tuple[int, int, int]:
    """(mapping indent, sequence indent, dash offset) as ruamel's `YAML.indent` wants them."""
    mapping: int | None = None
    sequence: tuple[int, int] | None = None
    parent: int | None = None  # key column of the previous line when it was a bare `key:`
    for line in segment.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(line.lstrip(" "))
        dash = stripped.startswith("- ")
        key_column = indent + len(stripped) - len(stripped[2:].lstrip(" ")) if dash else indent
        if parent is not None and indent > parent:
            if dash and sequence is None:
                sequence = (key_column - parent, indent - parent)
            elif not dash and mapping is None:
                mapping = indent - parent
        if mapping is not None and sequence is not None:
            break
        parent = key_column if stripped.endswith(":") else None
    mapping = mapping or 2
    seq, offset = sequence or (mapping, 0)
    return mapping, seq, offset


def _dump(data: Any, segment: str) -> str:
    mapping, sequence, offset = _guess_indent(segment)
    yaml = _round_trip_yaml()
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    if _DOC_START.match(segment):
        yaml.explicit_start = True
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def _hunks(a: list[str], b: list[str]) -> Iterator[tuple[int, int, int, int]]:
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag != "equal":
            yield i1, i2, j1, j2


_INNER_SPACE = re.compile(r"(?<=\S)[ \t]+")


def _layout_key(line: str) -> str:
    """A line with its inner spacing collapsed: ruamel re-spaces `key:   value  # note`."""
    return _INNER_SPACE.sub(" ", line.rstrip())


def _comment_at(line: str) -> tuple[str, str] | None:
    match = re.search(r"[ \t]+(#.*)$", line.rstrip("\n"))
    return (line[: match.start()], match.group(1)) if match else None


def _keep_comment_column(original: str, new: str) -> str:
    """The new line with its end-of-line comment at the column the original line had it."""
    old, fresh = _comment_at(original), _comment_at(new)
    if old is None or fresh is None or old[1] != fresh[1]:
        return new
    column = len(original.rstrip("\n")) - len(old[1])
    code, comment = fresh
    gap = column - len(code) if len(code) < column else max(1, column - len(old[0]))
    return f"{code}{' ' * gap}{comment}" + ("\n" if new.endswith("\n") else "")


def _splice(original: list[str], normalized: list[str], patched: list[str]) -> list[str] | None:
    """Apply the normalized->patched changes to the original lines; None when they cannot be placed."""
    to_original: dict[int, int] = {}
    matcher = difflib.SequenceMatcher(
        None, [_layout_key(x) for x in normalized], [_layout_key(x) for x in original], autojunk=False
    )
    for tag, i1, i2, j1, _ in matcher.get_opcodes():
        if tag == "equal":
            to_original.update({i1 + k: j1 + k for k in range(i2 - i1)})
    edits: list[tuple[int, int, list[str]]] = []
    for i1, i2, j1, j2 in _hunks(normalized, patched):
        lines = patched[j1:j2]
        if i1 < i2:
            span = [to_original.get(i) for i in range(i1, i2)]
            if any(s is None for s in span):
                return None
            start = span[0]
            assert start is not None
            if span != list(range(start, start + len(span))):
                return None
            end = start + len(span)
            if len(lines) == end - start:
                lines = [_keep_comment_column(o, n) for o, n in zip(original[start:end], lines, strict=True)]
        elif i1 - 1 in to_original:
            start = end = to_original[i1 - 1] + 1
        elif i1 in to_original:
            start = end = to_original[i1]
        elif i1 == 0:
            start = end = 0
        else:
            return None
        edits.append((start, end, lines))
    result = list(original)
    for start, end, lines in sorted(edits, key=lambda e: e[0], reverse=True):
        result[start:end] = lines
    return result


def patch_text(text: str, document_index: int, patch: Mapping[str, Any], source: str = "<manifest>") -> str:
    """The file text with `patch` strategic-merged into its `document_index`-th document."""
    docs = documents(text, source)
    if not 0 <= document_index < len(docs):
        raise ManifestError(f"{source}: no document {document_index} (the file has {len(docs)})")
    segments = _segments(text)
    position = docs[document_index].segment
    segment = segments[position]
    data = _load_segment(segment, source)
    if not isinstance(data, MutableMapping):
        raise ManifestError(f"{source}: document {document_index} is not a mapping")
    normalized = _dump(data, segment)
    strategic_merge(data, patch)
    patched = _dump(data, segment)
    spliced = _splice(segment.splitlines(keepends=True), normalized.splitlines(keepends=True),
                      patched.splitlines(keepends=True))  # fmt: skip
    new_segment = "".join(spliced) if spliced is not None else patched
    if not segment.endswith("\n") and new_segment.endswith("\n"):
        new_segment = new_segment[:-1]
    segments[position] = new_segment
    return "".join(segments)


def unified_diff(before: str, after: str, path: str) -> str:
    """A git-style unified diff of one file."""
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{path}", f"b/{path}"
        )
    )
