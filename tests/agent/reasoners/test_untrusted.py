"""What goes into a prompt is fenced and redacted, even when something upstream forgot to redact."""

from __future__ import annotations

from agent.domain import Evidence, EvidenceItem, EvidenceKind, Incident, Trigger, WorkloadRef
from agent.reasoners import untrusted

PASSWORD = "Pg-pa55word-7731"
TOKEN = "tok_5f1b9c2e8a7d4c3b"


def test_evidence_incident_and_tool_results_are_redacted_in_the_prompt() -> None:
    target = WorkloadRef(namespace="shop", name="web-api")
    evidence = Evidence(
        target=target,
        items=[
            EvidenceItem(
                id="log:x",
                kind=EvidenceKind.LOG,
                source="Pod x",
                text=f"connecting postgres://app:{PASSWORD}@db:5432/shop",
                data={"env": [{"name": "API_TOKEN", "value": TOKEN}]},
            )
        ],
        manifest={
            "spec": {
                "template": {"spec": {"containers": [{"name": "app", "args": ["--password", PASSWORD]}]}}
            }
        },
    )
    incident = Incident(
        id="i", fingerprint="f", target=target, trigger=Trigger.MANUAL, reason="manual",
        summary=f"please check, the token is {TOKEN}", labels={"api_token": TOKEN},
    )  # fmt: skip
    boundary = untrusted.new_boundary()
    prompt = "\n".join(
        [
            untrusted.evidence_lines(evidence, boundary),
            untrusted.incident_line(incident, boundary),
            untrusted.fence("TOOL-RESULT", f"DB_PASSWORD={PASSWORD}", boundary),
        ]
    )
    assert PASSWORD not in prompt and TOKEN not in prompt
    assert "postgres://app:«redacted:" in prompt and '"API_TOKEN"' in prompt
