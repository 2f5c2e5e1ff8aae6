"""The import-linter contracts hold with no exceptions, and they really catch a violation.

Layers: tools <- agent <- graph <- server, evals <- paramedic (the composition root); server and
evals are independent; the sandbox imports none of them and only paramedic wires it in.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")
PACKAGES = ("paramedic", "server", "evals", "graph", "agent", "tools", "sandbox")


def _lint(cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT), "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=300, env=env
    )


def _config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


@pytest.mark.process  # lint-imports
def test_contracts_are_kept() -> None:
    proc = _lint(ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


def test_no_contract_has_exceptions() -> None:
    config = _config()
    assert "ignore_imports" not in config
    for contract in config["contracts"]:
        assert not contract.get("ignore_imports"), contract["name"]


def test_every_top_level_package_is_under_contract() -> None:
    """A new top-level package cannot slip past the layers: every one is a root package."""
    on_disk = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests", "prompts"}
    assert on_disk == set(_config()["root_packages"]) == set(PACKAGES)


@pytest.mark.process  # lint-imports
def test_violations_are_caught_lazy_imports_included(tmp_path: Path) -> None:
    copy = tmp_path / "repo"
    copy.mkdir()
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    for pkg in PACKAGES:
        (copy / pkg).mkdir()
        (copy / pkg / "__init__.py").write_text("")
    (copy / "paramedic" / "cli").mkdir()
    (copy / "graph" / "nodes.py").write_text("")
    (copy / "sandbox" / "x.py").write_text("")
    # The composition root may wire every layer together, the sandbox included; evals sits on graph.
    (copy / "paramedic" / "cli" / "__init__.py").write_text("import graph.nodes\nimport sandbox\n")
    (copy / "paramedic" / "cli" / "main.py").write_text("import server\nimport evals\nimport tools\n")
    (copy / "evals" / "ok.py").write_text("import graph\nimport agent\n")
    env = {"PYTHONPATH": str(copy), "PATH": "/usr/bin:/bin"}
    allowed = _lint(copy, env)
    assert allowed.returncode == 0, allowed.stdout

    (copy / "tools" / "bad.py").write_text("import graph\n")  # tools may not import graph
    (copy / "sandbox" / "bad.py").write_text("import tools\n")  # sandbox is independent
    (copy / "evals" / "bad.py").write_text("import sandbox.x\n")  # only paramedic wires the sandbox
    (copy / "server" / "bad.py").write_text("import evals\n")  # server and evals are independent
    # A function-level import is an import: the old CLI <-> evals cycle went through one.
    (copy / "agent" / "lazy.py").write_text("def run():\n    import paramedic.cli\n")
    proc = _lint(copy, env)
    assert proc.returncode != 0
    for broken in (
        "tools.bad -> graph",
        "sandbox.bad -> tools",
        "evals.bad -> sandbox.x",
        "server.bad -> evals",
        "agent.lazy -> paramedic.cli",
    ):
        assert broken in proc.stdout, broken
