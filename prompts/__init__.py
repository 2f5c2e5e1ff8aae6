"""Prompt templates, shipped as package data (see agent.prompts for loading)."""
