"""Chat about incidents and runs: a deterministic rules answerer over the run store (the default)
and, with an LLM configured, a tool-calling agent over read-only run-store tools."""

from server.chat.models import Answer, ChatRequest, Citation

__all__ = ["Answer", "ChatRequest", "Citation"]
