"""The LangGraph healing graph: state, nodes, edges and policies."""
