"""The checkpointing tests' tiny graph a -> b -> c, and the child process that crashes in it (`tests.forked`).

Every node appends its name to a journal file, so the journal shows exactly which nodes ran,
across graph objects and across processes.
"""

from __future__ import annotations

import os
from pathlib import Path

from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import interrupt
from typing_extensions import TypedDict

from graph.checkpointing import open_checkpointer, run_config


class _State(TypedDict, total=False):
    steps: list[str]
    answer: str


def build(journal: Path, b_behaviour: str, checkpointer: object) -> CompiledStateGraph:
    """The tiny graph; `b_behaviour` is 'ok', 'raise', 'exit' (hard process crash) or 'interrupt'."""

    def node(name: str):
        def run(state: _State) -> _State:
            with journal.open("a") as out:
                out.write(name + "\n")
            update: _State = {"steps": [*state.get("steps", []), name]}
            if name == "b":
                if b_behaviour == "raise":
                    raise RuntimeError("b crashed")
                if b_behaviour == "exit":
                    os._exit(17)
                if b_behaviour == "interrupt":
                    update["answer"] = interrupt({"question": "may b go on?"})
            return update

        return run

    builder = StateGraph(_State)
    for name in "abc":
        builder.add_node(name, node(name))
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    builder.add_edge("b", "c")
    builder.add_edge("c", END)
    return builder.compile(checkpointer=checkpointer)  # type: ignore[arg-type]


def crash_in_b(storage_url: str, journal: Path, thread: str) -> None:
    """Run the graph on `thread` with checkpoints in `storage_url` until b ends the process (exit code 17)."""
    with open_checkpointer(storage_url) as saver:
        build(journal, "exit", saver).invoke({"steps": []}, run_config(thread), durability="sync")
