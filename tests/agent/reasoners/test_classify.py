"""`classify`: the error kind of a failed model request and whether a retry may help."""

from __future__ import annotations

import httpx
import openai

from agent.reasoners.base import ReasonerErrorKind
from agent.reasoners.conversation import classify

REQUEST = httpx.Request("POST", "http://llm.test/v1/chat/completions")


def test_openai_timeouts_and_connection_failures_are_worth_a_retry() -> None:
    assert classify(openai.APITimeoutError(request=REQUEST)) == (ReasonerErrorKind.TIMEOUT, True)
    assert classify(openai.APIConnectionError(request=REQUEST)) == (ReasonerErrorKind.UNAVAILABLE, True)
    assert classify(httpx.ConnectError("refused")) == (ReasonerErrorKind.UNAVAILABLE, True)


def test_status_codes_decide_the_rest() -> None:
    def status(code: int) -> openai.APIStatusError:
        response = httpx.Response(code, request=REQUEST)
        return openai.APIStatusError("failed", response=response, body=None)

    assert classify(status(429)) == (ReasonerErrorKind.UNAVAILABLE, True)
    assert classify(status(503)) == (ReasonerErrorKind.UNAVAILABLE, True)
    assert classify(status(400)) == (ReasonerErrorKind.UNAVAILABLE, False)
    assert classify(ValueError("no status")) == (ReasonerErrorKind.UNAVAILABLE, False)
