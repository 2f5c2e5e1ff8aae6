"""Chat models from plain parameters: any OpenAI-compatible endpoint (OpenAI, Groq, vLLM, llama.cpp
server, LM Studio) through `langchain-openai`, or Ollama through `langchain-ollama`."""

from __future__ import annotations

import ssl
from functools import cache
from typing import Literal

from langchain_core.language_models import BaseChatModel

Provider = Literal["openai", "ollama"]

# Local OpenAI-compatible servers ignore the key, but the client insists on one.
_LOCAL_SERVER_KEY = "not-needed-by-local-server"


class ProviderConfigError(ValueError):
    """A chat model cannot be built from the given parameters."""


def build_chat_model(
    provider: Provider,
    model: str,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    timeout: float = 60.0,
    temperature: float = 0.0,
    max_retries: int = 1,
    num_ctx: int | None = None,
) -> BaseChatModel:
    """A langchain chat model for `provider`; raises ProviderConfigError naming what is missing.

    `max_retries` is the OpenAI client's own retry count (Ollama's client has none); `num_ctx` is
    Ollama's context window, sent with every request (Ollama's own default silently truncates long
    prompts)."""
    if not model:
        raise ProviderConfigError("llm.model must name a model")
    if timeout <= 0:
        raise ProviderConfigError("llm.timeout_seconds must be positive")
    if provider == "openai":
        from langchain_openai import ChatOpenAI

        if not api_key and not base_url:
            raise ProviderConfigError(
                "llm.api_key (or llm.api_key_file) is required for provider 'openai' without llm.base_url"
            )
        # Field names, not their aliases (model, base_url, api_key, timeout): the same settings, and
        # the names the pydantic mypy plugin checks (ChatOpenAI populates by name).
        return ChatOpenAI(
            model_name=model,
            openai_api_base=base_url,
            openai_api_key=api_key or _LOCAL_SERVER_KEY,
            request_timeout=timeout,
            temperature=temperature,
            max_retries=max_retries,
        )
    if provider == "ollama":
        from langchain_ollama import ChatOllama

        client_kwargs: dict[str, object] = {"timeout": timeout, "verify": _default_ssl_context()}
        if api_key:  # Ollama behind an authenticating proxy
            client_kwargs["headers"] = {"Authorization": f"Bearer {api_key}"}
        if num_ctx is not None and num_ctx < 1:
            raise ProviderConfigError("llm.num_ctx must be positive")
        return ChatOllama(
            model=model,
            base_url=base_url,
            temperature=temperature,
            num_ctx=num_ctx,
            client_kwargs=client_kwargs,
        )
    raise ProviderConfigError(f"unknown LLM provider {provider!r}: expected 'openai' or 'ollama'")


@cache
def _default_ssl_context() -> ssl.SSLContext:
    # What httpx builds for `verify=True` (the CA bundle, or SSL_CERT_FILE/SSL_CERT_DIR), built once:
    # loading the bundle costs ~40 ms of CPU, and each ChatOllama made two (its sync and async client).
    import httpx

    return httpx.create_ssl_context()
