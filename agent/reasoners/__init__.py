"""Reasoners: the offline rules engine, the LLM reasoner and the hybrid of both."""
