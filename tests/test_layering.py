"""The import-linter contracts hold, and they really catch a violation."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT), "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_contracts_are_kept() -> None:
    proc = _lint(ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "broken" in proc.stdout and "0 broken" in proc.stdout


def test_a_layer_violation_is_caught(tmp_path: Path) -> None:
    copy = tmp_path / "repo"
    copy.mkdir()
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    for pkg in ("tools", "agent", "graph", "server", "sandbox", "evals"):
        (copy / pkg).mkdir()
        (copy / pkg / "__init__.py").write_text("")
    (copy / "agent" / "cli").mkdir()
    (copy / "graph" / "nodes.py").write_text("")
    # The composition root may wire every layer together.
    (copy / "agent" / "cli" / "__init__.py").write_text("import graph.nodes\nimport sandbox\n")
    (copy / "agent" / "cli" / "main.py").write_text("import graph\nimport evals\n")
    (copy / "tools" / "bad.py").write_text("import graph\n")  # tools may not import graph
    (copy / "sandbox" / "bad.py").write_text("import tools\n")  # sandbox is independent
    proc = subprocess.run(
        [str(LINT), "--no-cache"],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONPATH": str(copy), "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode != 0
    assert "tools.bad -> graph" in proc.stdout
    assert "sandbox.bad -> tools" in proc.stdout
    assert "agent.cli" not in proc.stdout
