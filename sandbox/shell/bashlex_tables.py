"""bashlex, imported with its LR parser tables read from a cache instead of rebuilt.

bashlex builds its parser on import with a bundled PLY that always recomputes the LALR tables
(~0.3-0.5 s of CPU in every process that parses a shell script: each test worker, each CLI child
running a sandbox); its `yacc(write_tables=..., outputdir=..., picklefile=...)` arguments are
accepted and ignored, and the `parsetab.py` it ships is never read. The tables are plain data (state
-> token -> action), so the first import here keeps them in a JSON file and later imports hand them
to bashlex's own table class instead of recomputing them. Everything else - the grammar, the
production callables, the parser object and bashlex's own fix-ups of the tables - is bashlex's code
as it runs on a plain import.

The file is keyed by the bashlex sources and the Python version and also records the grammar's
productions, checked against the grammar being built; on any mismatch or error the import is a
plain `import bashlex`, as before.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import logging
import os
import sys
import tempfile
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

log = logging.getLogger(__name__)
_LOCK = threading.Lock()
_FORMAT = 1


def load_bashlex() -> ModuleType:
    """The `bashlex` package, its parser built from cached tables when they fit."""
    if "bashlex.parser" not in sys.modules:
        with _LOCK:
            if "bashlex.parser" not in sys.modules:
                try:
                    _import_with_cached_tables()
                except Exception as exc:  # a cache problem never stops a parse: build as usual
                    log.debug("bashlex tables not cached: %s", exc)
                    for name in [n for n in sys.modules if n == "bashlex" or n.startswith("bashlex.")]:
                        del sys.modules[name]
    import bashlex

    return bashlex


def cache_file(folder: Path) -> Path | None:
    """Where the tables for the installed bashlex and this Python live (None: bashlex not found)."""
    spec = importlib.util.find_spec("bashlex")
    if spec is None or spec.origin is None:
        return None
    source = Path(spec.origin).parent
    digest = hashlib.sha256(sys.version.encode())
    for name in ("yacc.py", "parser.py"):
        digest.update((source / name).read_bytes())
    return folder / f"bashlex-lr-{digest.hexdigest()[:24]}.json"


def _cache_folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "paramedic-sandbox"


def _import_with_cached_tables() -> None:
    spec = importlib.util.find_spec("bashlex")
    path = cache_file(_cache_folder())
    if spec is None or spec.loader is None or path is None:
        raise ImportError("bashlex is not installed")
    cached = _read(path)
    # The package object without running its __init__ (which imports the parser at once), so that
    # bashlex.yacc can be loaded first and given the tables; then the package runs as usual.
    package = importlib.util.module_from_spec(spec)
    sys.modules["bashlex"] = package
    yacc: Any = importlib.import_module("bashlex.yacc")
    built: list[str] = []
    original = yacc.LRTable

    class CachedLRTable(original):  # type: ignore[misc,valid-type]  # bashlex ships no types
        def __init__(self, grammar: Any, log: Any = None) -> None:
            productions = [p.str for p in grammar.Productions]
            if cached is not None and cached["productions"] == productions:
                self.grammar = grammar
                self.log = log or yacc.NullLogger()
                self.lr_action = cached["action"]
                self.lr_goto = cached["goto"]
                self.lr_productions = grammar.Productions
                self.lr_goto_cache: dict[Any, Any] = {}
                self.lr0_cidhash: dict[Any, Any] = {}
                self._add_count = self.sr_conflict = self.rr_conflict = 0
                self.conflicts: list[Any] = []
                self.sr_conflicts: list[Any] = []
                self.rr_conflicts: list[Any] = []
                return
            super().__init__(grammar, log)
            # Kept before bashlex's parser module adjusts a few entries of the built tables.
            built.append(_dump(productions, self.lr_action, self.lr_goto))

    yacc.LRTable = CachedLRTable
    try:
        spec.loader.exec_module(package)
    finally:
        yacc.LRTable = original
    if built:
        _write(path, built[0])


def _dump(productions: list[str], action: dict[int, dict[str, int]], goto: dict[int, dict[str, int]]) -> str:
    return json.dumps({"format": _FORMAT, "productions": productions, "action": action, "goto": goto})


def _read(path: Path) -> dict[str, Any] | None:
    """The cached tables, or None when absent or not well-formed (then they are built)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != _FORMAT:
            return None
        tables = {
            "productions": [str(p) for p in data["productions"]],
            "action": _table(data["action"]),
            "goto": _table(data["goto"]),
        }
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None
    return tables


def _table(raw: Any) -> dict[int, dict[str, int]]:
    if not isinstance(raw, dict):
        raise TypeError("a table is a mapping")
    out: dict[int, dict[str, int]] = {}
    for state, row in raw.items():
        if not isinstance(row, dict) or not all(isinstance(v, int) for v in row.values()):
            raise TypeError("a table row maps tokens to numbers")
        out[int(state)] = {str(k): v for k, v in row.items()}
    return out


def _write(path: Path, text: str) -> None:
    """Write the tables atomically (workers may race); a read-only home just means no cache."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".bashlex-lr-")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        log.debug("bashlex tables not written to %s: %s", path, exc)
