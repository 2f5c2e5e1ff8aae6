"""`paramedic memory export|import|forget`: moving a memory between clusters, and erasing it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from agent.domain import WorkloadRef
from graph.memory import IncidentSignature, MemoryOutcome
from paramedic.cli.main import app
from server.runstore import open_run_store
from server.runstore.memory_models import MemoryEntry

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _seed(data: Path) -> None:
    signature = IncidentSignature("Deployment", ("oomkilled",), category="oom", fix_kind="restart")
    with open_run_store(f"sqlite:///{data / 'paramedic.db'}") as store:
        for n, name in enumerate(("web", "web", "cart")):
            store.remember(
                MemoryEntry(
                    run_id=f"r{n}",
                    recorded_at=T0 + timedelta(days=n),
                    target=WorkloadRef(namespace="shop", name=name),
                    category="oom",
                    fix_kind="restart",
                    outcome=MemoryOutcome.HEALED,
                    signature=signature.to_data(),
                    summary="OOMKilled",
                )
            )


def _env(data: Path) -> dict[str, str]:
    return {"PARAMEDIC_DATA_DIR": str(data)}


def test_export_then_import_into_another_cluster(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    _seed(one)
    file = tmp_path / "memory.jsonl"
    exported = CliRunner().invoke(app, ["memory", "export", "-o", str(file)], env=_env(one))
    assert exported.exit_code == 0, exported.output
    lines = file.read_text().splitlines()
    assert [json.loads(line)["run_id"] for line in lines] == ["r2", "r1", "r0"]
    imported = CliRunner().invoke(app, ["memory", "import", str(file)], env=_env(two))
    assert imported.exit_code == 0 and "imported 3 incidents" in imported.output
    with open_run_store(f"sqlite:///{two / 'paramedic.db'}") as store:
        assert [e.run_id for e in store.memory_entries()] == ["r2", "r1", "r0"]
    to_stdout = CliRunner().invoke(app, ["memory", "export"], env=_env(two))
    assert to_stdout.stdout.splitlines() == lines


def test_a_bad_file_imports_nothing_and_names_the_lines(tmp_path: Path) -> None:
    good = MemoryEntry(
        run_id="ok",
        recorded_at=T0,
        target=WorkloadRef(namespace="a", name="b"),
        outcome=MemoryOutcome.FAILED,
        summary="password=hunter2",
    ).model_dump_json()
    file = tmp_path / "bad.jsonl"
    file.write_text(f'{good}\nnot json\n{{"run_id": "x"}}\n')
    result = CliRunner().invoke(app, ["memory", "import", str(file)], env=_env(tmp_path))
    assert result.exit_code == 2 and "line 2" in result.output and "line 3" in result.output
    with open_run_store(f"sqlite:///{tmp_path / 'paramedic.db'}") as store:
        assert store.memory_entries() == []
    file.write_text(f"{good}\n")
    assert CliRunner().invoke(app, ["memory", "import", str(file)], env=_env(tmp_path)).exit_code == 0
    with open_run_store(f"sqlite:///{tmp_path / 'paramedic.db'}") as store:
        [entry] = store.memory_entries()
    assert "hunter2" not in entry.summary  # redacted on the way in, whatever the exporter did
    missing = CliRunner().invoke(app, ["memory", "import", str(tmp_path / "nope.jsonl")], env=_env(tmp_path))
    assert missing.exit_code == 2


def test_forget_needs_a_filter_and_erases_what_matches(tmp_path: Path) -> None:
    _seed(tmp_path)
    refused = CliRunner().invoke(app, ["memory", "forget"], env=_env(tmp_path))
    assert refused.exit_code == 2 and "needs a filter" in refused.output
    done = CliRunner().invoke(
        app, ["memory", "forget", "-w", "web", "--before", "2026-03-02T12:00:00"], env=_env(tmp_path)
    )
    assert done.exit_code == 0 and "forgot 1 incidents" in done.output
    assert (
        "forgot 2 incidents"
        in CliRunner().invoke(app, ["memory", "forget", "--all"], env=_env(tmp_path)).output
    )
