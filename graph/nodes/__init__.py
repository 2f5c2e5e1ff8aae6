"""The healing graph's nodes and nothing else: one module per node, named after it.

Each module's node is a plain function `(state, runtime: Runtime[HealingContext]) -> update`;
graph/builder.py wires them, graph/edges.py routes between them, and their helpers live beside
this package in graph/ (evidence_gathering, direct_change, gitops_change, run_ending, ...).
"""
