"""Reasoners, LLM providers, prompt loading, domain schemas, settings and the CLI."""
