"""A scripted investigating model for the fake OpenAI-compatible server (`FakeLLMServer(responder=)`).

It behaves like a small tool-calling model: on its first turn it describes the workload it was
asked about and reads its events (the tools' real answers come back from the cluster); then it
answers from what it read, by the signatures a human would look for (an OOMKilled termination, an
image that cannot be pulled, a missing key), citing the tool results it fetched, and proposes only
`notify` (the point is the loop and its cost, not the fix). It reports token counts the way a
server does: from the size of the request it received (4 characters a token).
"""

from __future__ import annotations

import json
import re
from typing import Any

from tests.agent.fake_llm import Turn

_TARGET = re.compile(
    r"(?:Diagnose|Review the diagnosis of) the workload "
    r"([a-z0-9-]+)/([a-z]+)/([a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)"
)
_SIGNATURES = [
    ("oom", re.compile(r"OOMKilled", re.I)),
    ("bad_image", re.compile(r"ImagePullBackOff|ErrImagePull|manifest unknown", re.I)),
    ("missing_config_key", re.compile(r"CreateContainerConfigError|couldn't find key", re.I)),
]
KINDS = {"deployment": "Deployment", "statefulset": "StatefulSet", "daemonset": "DaemonSet"}


def _text(body: dict[str, Any]) -> str:
    return "\n".join(str(m.get("content") or "") for m in body.get("messages") or [])


def _tokens(body: dict[str, Any]) -> int:
    """What a server would count: the messages' text, tool calls' arguments and the tool specs."""
    size = len(json.dumps(body.get("tools") or []))
    for message in body.get("messages") or []:
        size += len(str(message.get("content") or "")) + len(json.dumps(message.get("tool_calls") or []))
    return size // 4


def investigating_model(body: dict[str, Any]) -> Turn:
    """The next turn for a request: read first, then answer from what was read."""
    text = _text(body)
    size = _tokens(body)
    fetched = sorted(set(re.findall(r'"result_id":"(tool:\d+)"', text)))
    target = _TARGET.search(text)
    if body.get("tools") and "tool_choice" not in body and not fetched and target:
        namespace, kind, name = target.groups()
        ref = {"kind": KINDS.get(kind, "Deployment"), "namespace": namespace, "name": name}
        return Turn(
            tool_calls=[("k8s_describe", ref), ("k8s_events", ref)], input_tokens=size, output_tokens=40
        )
    if "verdict" in json.dumps(body.get("response_format") or {}) or "auditor" in text[:400]:
        answer: dict[str, Any] = {"verdict": "inconclusive", "explanation": "Nothing contradicts it.",
                                  "cited_evidence": fetched[:1]}  # fmt: skip
        return Turn(answer=answer, input_tokens=size, output_tokens=30)
    category = next((c for c, signature in _SIGNATURES if signature.search(text)), "unknown")
    resource = (
        f"{KINDS.get(target.group(2), 'Deployment')} {target.group(1)}/{target.group(3)}" if target else "?"
    )
    answer = {
        "category": category,
        "explanation": f"The tool results and the evidence show the signature of {category}.",
        "faulty_resource": resource,
        "cited_evidence": fetched,
        "confidence": 0.7 if category != "unknown" else 0.2,
        "remediation": {"action": "notify", "rationale": "tell the owners"},
    }
    return Turn(answer=answer, input_tokens=size, output_tokens=60)
