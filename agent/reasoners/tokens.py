"""Token estimates for prompts, before a model has counted them.

The budgets (the opening bundle, the prompt window, Ollama's `num_ctx`) are set in tokens, and a
prompt must be measured before it is sent. With `TIKTOKEN_CACHE_DIR` pointing at a directory that
holds the `o200k_base` encoding, tiktoken counts exactly (for OpenAI's models; near enough for
others); otherwise the estimate is one token per four characters, rounded up, the usual rule of
thumb for English text and JSON (tiktoken would download its encoding on first use, which an
air-gapped cluster cannot do, and a hung download must never stall an investigation).
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable, Iterable
from typing import Any

CHARS_PER_TOKEN = 4
MESSAGE_OVERHEAD = 4  # role and separators of one chat message
_ENCODING = "o200k_base"


@functools.cache
def _counter() -> Callable[[str], int] | None:
    """tiktoken's counter when its encoding is available offline, else None (the heuristic)."""
    if not os.environ.get("TIKTOKEN_CACHE_DIR"):
        return None
    try:
        import tiktoken

        encoding = tiktoken.get_encoding(_ENCODING)
    except Exception:  # not installed, not cached, corrupt cache: the heuristic still works
        return None
    return lambda text: len(encoding.encode(text, disallowed_special=()))


def method() -> str:
    """How tokens are being estimated (said in the trace next to every estimate)."""
    return f"tiktoken {_ENCODING}" if _counter() is not None else f"chars/{CHARS_PER_TOKEN}"


def estimate(text: str) -> int:
    """Tokens in `text` (exact with tiktoken, else `ceil(len / 4)`)."""
    counter = _counter()
    if counter is not None:
        return counter(text)
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            p if isinstance(p, str) else str(p.get("text", "")) for p in content if isinstance(p, str | dict)
        )
    return str(content)


def estimate_messages(messages: Iterable[Any]) -> int:
    """Tokens of a conversation: each message's text, its tool calls' arguments, and a small overhead."""
    total = 0
    for message in messages:
        total += MESSAGE_OVERHEAD + estimate(_content_text(getattr(message, "content", message)))
        for call in getattr(message, "tool_calls", None) or []:
            total += estimate(str(call.get("name", ""))) + estimate(str(call.get("args", "")))
    return total
