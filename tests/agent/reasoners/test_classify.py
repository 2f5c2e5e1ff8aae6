"""`classify`: the error kind of a failed model request and whether a retry may help.

openai is imported in the tests, not at collection (1 s of CPU for every xdist worker); its
exceptions carry requests of `httpx2`, the HTTP client openai is built on.
"""

from __future__ import annotations

import httpx

from agent.reasoners.base import ReasonerErrorKind
from agent.reasoners.conversation import classify

URL = "http://llm.test/v1/chat/completions"


def test_openai_timeouts_and_connection_failures_are_worth_a_retry() -> None:
    import httpx2
    import openai

    request = httpx2.Request("POST", URL)
    assert classify(openai.APITimeoutError(request=request)) == (ReasonerErrorKind.TIMEOUT, True)
    assert classify(openai.APIConnectionError(request=request)) == (ReasonerErrorKind.UNAVAILABLE, True)
    assert classify(httpx.ConnectError("refused")) == (ReasonerErrorKind.UNAVAILABLE, True)
    assert classify(httpx.ReadTimeout("slow")) == (ReasonerErrorKind.TIMEOUT, True)


def test_status_codes_decide_the_rest() -> None:
    import httpx2
    import openai

    def status(code: int) -> openai.APIStatusError:
        response = httpx2.Response(code, request=httpx2.Request("POST", URL))
        return openai.APIStatusError("failed", response=response, body=None)

    assert classify(status(429)) == (ReasonerErrorKind.UNAVAILABLE, True)
    assert classify(status(503)) == (ReasonerErrorKind.UNAVAILABLE, True)
    assert classify(status(400)) == (ReasonerErrorKind.UNAVAILABLE, False)
    assert classify(ValueError("no status")) == (ReasonerErrorKind.UNAVAILABLE, False)
