"""The graph's map: one node module per node, named after it, routes in edges, one runtime context."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

from langgraph.checkpoint.memory import InMemorySaver

import graph.nodes
from graph.builder import build_graph, compile_graph
from graph.context import HealingContext

NODES_DIR = Path(graph.nodes.__file__).parent
NODE_MODULES = sorted(p.stem for p in NODES_DIR.glob("*.py") if p.stem != "__init__")


def test_every_node_module_holds_the_node_of_its_name_and_every_node_has_one() -> None:
    built = build_graph()
    assert sorted(built.nodes) == NODE_MODULES
    for name in NODE_MODULES:
        module = importlib.import_module(f"graph.nodes.{name}")
        assert built.nodes[name].runnable.func is getattr(module, name), name  # type: ignore[attr-defined]


def test_node_modules_do_not_import_each_other() -> None:
    for path in NODES_DIR.glob("*.py"):
        imported = {
            node.module
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.ImportFrom) and node.module
        }
        assert not {m for m in imported if m.startswith("graph.nodes")}, path.name


def test_routes_live_in_edges() -> None:
    built = build_graph()
    for source, branches in built.branches.items():
        for branch in branches.values():
            assert branch.path.func.__module__ == "graph.edges", source  # type: ignore[attr-defined]


def test_the_compiled_graph_takes_the_healing_context_per_run() -> None:
    app = compile_graph(InMemorySaver())
    assert app.context_schema is HealingContext
    assert app.name == "paramedic"


def test_langgraph_tooling_can_describe_the_graph() -> None:
    # What LangGraph Studio and the API server ask of a graph: JSON schemas of input, output, context.
    app = compile_graph()
    assert "incident" in app.get_input_jsonschema()["properties"]
    assert "outcome" in app.get_output_jsonschema()["properties"]
    context = app.get_context_jsonschema()
    assert context is not None and context["title"] == "HealingContext"
