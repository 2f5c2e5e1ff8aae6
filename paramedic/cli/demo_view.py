"""How the demo shows a run: trace events printed live with Rich, and the closing table.

Only presentation lives here; `paramedic/cli/demo.py` decides what runs. Text from the cluster
(logs, events, diffs) is printed with markup off, so a hostile log line cannot style the terminal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from agent.trace import TraceEvent, TraceEventType

_NODE_STYLE = {
    "analyst": "cyan",
    "auditor": "magenta",
    "decision": "yellow",
    "approval": "yellow",
    "remediation": "green",
    "verification": "blue",
    "rollback": "red",
    "escalate": "red",
    "report": "white",
    "follow": "cyan",
}


@dataclass(frozen=True)
class DemoRow:
    """One fault of the demo and what became of it."""

    fault: str
    target: str
    expected: str
    diagnosis: str
    confidence: float | None
    action: str
    pr: str
    attempts: int
    outcome: str
    recovered: bool
    sim_seconds: float | None
    wall_seconds: float | None

    @property
    def correct(self) -> bool:
        """Diagnosed as the injected category and healed."""
        return self.diagnosis == self.expected and self.recovered


def _line(node: str | None, label: str, text: str, style: str = "") -> Text:
    out = Text("  ")
    out.append(f"{(node or '-'):<12}", style=_NODE_STYLE.get(node or "", "white"))
    out.append(f" {label:<9} ", style="bold")
    out.append(text, style=style)
    return out


def render_event(console: Console, event: TraceEvent) -> None:
    """Print one trace event as the demo shows it (node starts are implied by their first line)."""
    kind = event.type
    payload = event.payload
    if kind is TraceEventType.TOOL_CALL:
        if event.node == "verification":
            return  # its polls are summed up by the verification line
        console.print(_line(event.node, "tool", event.summary, "dim"))
    elif kind is TraceEventType.DECISION:
        console.print(_line(event.node, "decides", event.summary, "yellow"))
    elif kind is TraceEventType.ACTION:
        console.print(_line(event.node, "action", event.summary, "bold green"))
        diff = str(payload.get("diff") or "")
        if diff.strip():
            console.print(Syntax(diff, "diff", theme="ansi_dark", word_wrap=True, padding=(0, 4)))
    elif kind is TraceEventType.VERIFICATION:
        style = "bold green" if payload.get("healthy") else "bold red"
        console.print(_line(event.node, "verifies", f"{event.summary}: {payload.get('detail', '')}", style))
    elif kind is TraceEventType.ERROR:
        console.print(_line(event.node, "error", event.summary, "red"))
    elif kind is TraceEventType.NODE_END:
        console.print(_line(event.node, "done", event.summary))
    elif kind is TraceEventType.APPROVAL:
        console.print(_line(event.node, "approval", event.summary, "yellow"))


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}s"


def summary_table(rows: Sequence[DemoRow]) -> Table:
    """The closing table: fault, diagnosis, confidence, action, PR, recovered, time to recover."""
    table = Table(title="Paramedic demo", show_lines=False)
    for column in (
        "fault",
        "target",
        "diagnosis",
        "confidence",
        "action",
        "attempts",
        "PR",
        "recovered",
        "sim",
        "wall",
    ):
        table.add_column(
            column, justify="right" if column in ("confidence", "attempts", "sim", "wall") else "left"
        )
    for row in rows:
        diagnosis = Text(row.diagnosis, style="green" if row.diagnosis == row.expected else "red")
        recovered = Text(
            "yes" if row.recovered else f"no ({row.outcome})", style="green" if row.recovered else "red"
        )
        table.add_row(
            row.fault,
            row.target,
            diagnosis,
            "-" if row.confidence is None else f"{row.confidence:.2f}",
            row.action or "-",
            str(row.attempts),
            row.pr or "-",
            recovered,
            _seconds(row.sim_seconds),
            _seconds(row.wall_seconds),
        )
    return table
