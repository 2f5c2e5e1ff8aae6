"""bashlex's parser built from cached LR tables is the parser a plain `import bashlex` builds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sandbox.shell.bashlex_tables import cache_file

# The tables as the parser holds them after bashlex's own fix-ups, and a parse through them.
_DUMP = """
import json, sys
{load}
p = bashlex.parser.yaccparser
print(json.dumps({{
    "action": {{str(k): v for k, v in p.action.items()}},
    "goto": {{str(k): v for k, v in p.goto.items()}},
    "defaulted": {{str(k): v for k, v in p.defaulted_states.items()}},
    "productions": [(q.str, q.len, q.func) for q in p.productions],
    "callables": sum(q.callable is not None for q in p.productions),
    "parse": bashlex.parse("a=1 b | c > f && (d; e) || $(g `h`)")[0].dump(),
}}))
"""


def _tables(load: str, cache: Path) -> dict:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    script = "import logging; logging.basicConfig(level=logging.DEBUG)\n" + _DUMP.format(load=load)
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert "not cached" not in out.stderr and "not written" not in out.stderr, out.stderr
    return json.loads(out.stdout)


def test_cached_tables_build_the_same_parser_and_a_bad_cache_is_rebuilt(tmp_path: Path) -> None:
    plain = _tables("import bashlex, bashlex.parser", tmp_path)
    target = cache_file(tmp_path / "paramedic-sandbox")
    assert target is not None and not target.exists()
    target.parent.mkdir()
    target.write_text('{"format": 1, "productions": [], "action": {"0": {"x": "not a number"}}}')
    cached_load = "from sandbox.shell.bashlex_tables import load_bashlex; bashlex = load_bashlex()"
    rebuilt = _tables(cached_load, tmp_path)  # the bad file is ignored, the tables built and kept
    assert json.loads(target.read_text())["productions"] == [p[0] for p in plain["productions"]]
    written = target.stat().st_mtime_ns
    from_cache = _tables(cached_load, tmp_path)
    assert target.stat().st_mtime_ns == written  # read, not rebuilt and rewritten
    assert rebuilt == plain
    assert from_cache == plain
    assert plain["callables"] > 100
