"""Webhook notifications: kind detection, the Slack/Discord/generic payload shapes as a local
receiver gets them, failures that never raise, and the secret URL kept out of traces and logs."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from tests.tools.conftest import Receiver, Reply
from tools.notify import (
    TOOL,
    Notification,
    Severity,
    WebhookKind,
    WebhookNotifier,
    build_payload,
    detect_kind,
    redact_url,
)
from tools.result import NO_RETRY, RetryPolicy, ToolCallEvent, ToolStatus

FAST_RETRY = RetryPolicy(attempts=3, initial_wait=0.01, max_wait=0.02)
WHEN = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
PR = "https://github.com/acme/gitops/pull/42"


def oom_notification(**overrides) -> Notification:
    values = {
        "title": "checkout is being OOM-killed",
        "severity": Severity.CRITICAL,
        "summary": "Working set reached the 256Mi limit; 5 restarts in 10 minutes.",
        "namespace": "shop",
        "workload": "checkout",
        "root_cause": "memory limit too low for the new cache",
        "confidence": 0.92,
        "action": "raise memory limit to 384Mi",
        "pr_url": PR,
        "created_at": WHEN,
    }
    return Notification(**(values | overrides))


def deliver(receiver: Receiver, kind: WebhookKind | None, notification: Notification) -> dict:
    result = WebhookNotifier(receiver.url + "/hook", kind=kind).send(notification)
    assert result.status is ToolStatus.OK, result.error
    (request,) = receiver.received
    assert request.method == "POST" and request.path == "/hook"
    assert request.headers["content-type"] == "application/json"
    return request.json()


# -- kind detection and redaction -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://hooks.slack.com/services/T000/B000/XXXX", WebhookKind.SLACK),
        ("https://discord.com/api/webhooks/123/abc", WebhookKind.DISCORD),
        ("https://discordapp.com/api/webhooks/123/abc", WebhookKind.DISCORD),
        ("https://canary.discord.com/api/v10/webhooks/123/abc", WebhookKind.DISCORD),
        ("https://discord.com/channels/1/2", WebhookKind.GENERIC),
        ("https://hooks.slack.com.evil.example/services/x", WebhookKind.GENERIC),
        ("https://evil.example/hooks.slack.com/services/x", WebhookKind.GENERIC),
        ("https://alerts.example.com/paramedic", WebhookKind.GENERIC),
    ],
)
def test_kind_is_detected_from_the_url(url: str, kind: WebhookKind) -> None:
    assert detect_kind(url) is kind
    assert WebhookNotifier(url).kind is kind


def test_redaction_keeps_only_scheme_host_and_port() -> None:
    assert redact_url("https://hooks.slack.com/services/T0/B0/s3cret") == "https://hooks.slack.com/[redacted]"
    assert redact_url("http://u:pw@127.0.0.1:8080/x?token=s3cret") == "http://127.0.0.1:8080/[redacted]"


# -- payload shapes as received -------------------------------------------------------------------


def test_slack_payload_is_block_kit(receiver: Receiver) -> None:
    body = deliver(receiver, WebhookKind.SLACK, oom_notification())
    assert body["text"] == "[CRITICAL] checkout is being OOM-killed"
    blocks = body["blocks"]
    assert [b["type"] for b in blocks] == ["header", "section", "section", "actions", "context"]
    assert blocks[0]["text"] == {"type": "plain_text", "text": "checkout is being OOM-killed", "emoji": True}
    assert blocks[1]["text"]["type"] == "mrkdwn"
    assert "256Mi limit" in blocks[1]["text"]["text"]
    fields = [f["text"] for f in blocks[2]["fields"]]
    assert fields == [
        "*Namespace*\nshop",
        "*Workload*\ncheckout",
        "*Root cause*\nmemory limit too low for the new cache",
        "*Confidence*\n92%",
        "*Action*\nraise memory limit to 384Mi",
    ]
    assert all(f["type"] == "mrkdwn" for f in blocks[2]["fields"])
    (button,) = blocks[3]["elements"]
    assert button["type"] == "button" and button["url"] == PR
    context = blocks[4]["elements"][0]["text"]
    assert "critical" in context and "2026-03-04T05:06:07" in context


def test_slack_text_is_escaped_so_it_cannot_ping_or_link(receiver: Receiver) -> None:
    body = deliver(receiver, WebhookKind.SLACK, oom_notification(summary="<!channel> a & b <http://x|y>"))
    assert body["blocks"][1]["text"]["text"] == "&lt;!channel&gt; a &amp; b &lt;http://x|y&gt;"


def test_discord_payload_is_one_embed(receiver: Receiver) -> None:
    body = deliver(receiver, WebhookKind.DISCORD, oom_notification())
    assert body["username"] == "Paramedic"
    assert body["allowed_mentions"] == {"parse": []}
    (embed,) = body["embeds"]
    assert embed["title"] == "checkout is being OOM-killed"
    assert embed["url"] == PR
    assert embed["color"] == 0xE74C3C
    assert "256Mi limit" in embed["description"]
    assert embed["timestamp"] == WHEN.isoformat()
    assert embed["footer"] == {"text": "Paramedic · critical"}
    assert [(f["name"], f["value"], f["inline"]) for f in embed["fields"]] == [
        ("Namespace", "shop", True),
        ("Workload", "checkout", True),
        ("Root cause", "memory limit too low for the new cache", False),
        ("Confidence", "92%", True),
        ("Action", "raise memory limit to 384Mi", False),
        ("Pull request", PR, False),
    ]


def test_generic_payload_is_flat_json_with_every_key(receiver: Receiver) -> None:
    body = deliver(receiver, None, oom_notification(pr_url=None, action=None))
    assert body == {
        "source": "paramedic",
        "title": "checkout is being OOM-killed",
        "severity": "critical",
        "summary": "Working set reached the 256Mi limit; 5 restarts in 10 minutes.",
        "fields": {
            "namespace": "shop",
            "workload": "checkout",
            "root_cause": "memory limit too low for the new cache",
            "confidence": 0.92,
            "action": None,
            "pr_url": None,
        },
        "timestamp": WHEN.isoformat(),
    }


def test_unset_fields_are_left_out_of_chat_payloads() -> None:
    bare = Notification("Heads up", Severity.INFO, "nothing more", created_at=WHEN)
    slack = build_payload(WebhookKind.SLACK, bare)
    assert [b["type"] for b in slack["blocks"]] == ["header", "section", "context"]
    discord = build_payload(WebhookKind.DISCORD, bare)["embeds"][0]
    assert discord["fields"] == [] and "url" not in discord
    assert discord["color"] == 0x3498DB


def test_long_text_is_clipped_to_each_services_limits() -> None:
    n = oom_notification(title="t" * 400, summary="s" * 10_000, root_cause="r" * 5_000)
    slack = build_payload(WebhookKind.SLACK, n)
    assert len(slack["blocks"][0]["text"]["text"]) == 150
    assert len(slack["blocks"][1]["text"]["text"]) == 3000
    assert all(len(f["text"]) <= 2000 for f in slack["blocks"][2]["fields"])
    embed = build_payload(WebhookKind.DISCORD, n)["embeds"][0]
    assert len(embed["title"]) == 256 and embed["title"].endswith("…")
    assert all(len(f["value"]) <= 1024 for f in embed["fields"])
    total = (
        len(embed["title"])
        + len(embed["description"])
        + len(embed["footer"]["text"])
        + sum(len(f["name"]) + len(f["value"]) for f in embed["fields"])
    )
    assert total <= 6000 and len(embed["description"]) > 1000


# -- failures never raise -------------------------------------------------------------------------


def test_not_configured_is_unavailable() -> None:
    events: list[ToolCallEvent] = []
    result = WebhookNotifier(None).send(oom_notification(), sink=events.append)
    assert result.status is ToolStatus.UNAVAILABLE
    assert "no notification webhook configured" in (result.error or "")
    assert events[0].arguments["webhook"] == "(not configured)"


def test_receiver_down_is_an_error(refused_url: str) -> None:
    result = WebhookNotifier(refused_url + "/hook", retry=FAST_RETRY).send(oom_notification())
    assert result.status is ToolStatus.ERROR
    assert "cannot reach generic webhook" in (result.error or "")


def test_persistent_500_is_retried_then_an_error(receiver: Receiver) -> None:
    receiver.default = Reply(500, b"internal trouble")
    result = WebhookNotifier(receiver.url, retry=FAST_RETRY).send(oom_notification())
    assert result.status is ToolStatus.ERROR
    assert "HTTP 500: internal trouble" in (result.error or "")
    assert len(receiver.received) == 3


def test_transient_503_then_success_is_delivered(receiver: Receiver) -> None:
    receiver.reply(Reply(503, b"busy"))
    receiver.default = Reply(204, b"")
    result = WebhookNotifier(receiver.url, kind=WebhookKind.DISCORD, retry=FAST_RETRY).send(
        oom_notification()
    )
    assert result.ok and result.data is not None
    assert (result.data.kind, result.data.status_code) == (WebhookKind.DISCORD, 204)
    assert len(receiver.received) == 2


def test_rejected_payload_is_not_retried(receiver: Receiver) -> None:
    receiver.default = Reply(400, b"invalid_blocks")
    result = WebhookNotifier(receiver.url, kind=WebhookKind.SLACK, retry=FAST_RETRY).send(oom_notification())
    assert result.status is ToolStatus.ERROR
    assert "HTTP 400: invalid_blocks" in (result.error or "")
    assert len(receiver.received) == 1


def test_timeout_is_an_error_and_not_resent(receiver: Receiver) -> None:
    receiver.default = Reply(delay=1.0)
    result = WebhookNotifier(receiver.url, timeout=0.2, retry=FAST_RETRY).send(oom_notification())
    assert result.status is ToolStatus.ERROR
    assert "did not answer within 0.2s" in (result.error or "")
    assert len(receiver.received) == 1  # a slow receiver may still post it; do not post twice


def test_non_http_url_is_an_error_not_an_exception() -> None:
    result = WebhookNotifier("ftp://example.com/hook", retry=NO_RETRY).send(oom_notification())
    assert result.status is ToolStatus.ERROR
    assert "not http(s)" in (result.error or "")


# -- the secret stays secret ----------------------------------------------------------------------


def test_the_webhook_secret_never_reaches_events_errors_or_our_logs(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    secret_path = "/services/T0PSECRET/B0PSECRET/xoxTOPSECRET"
    url = receiver.url + secret_path + "?token=TOPSECRETQ"
    # A receiver that echoes the URL back in its error must not leak it through our message.
    receiver.default = Reply(500, f"unknown hook {url} at {secret_path}".encode())
    events: list[ToolCallEvent] = []
    caplog.set_level(logging.DEBUG, logger="tools")
    result = WebhookNotifier(url, kind=WebhookKind.SLACK, retry=FAST_RETRY).send(
        oom_notification(), sink=events.append
    )
    assert result.status is ToolStatus.ERROR
    assert receiver.received[0].path == secret_path + "?token=TOPSECRETQ"  # it was really used
    (event,) = events
    assert event.tool == TOOL
    assert event.arguments["webhook"] == redact_url(url)
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("tools"))
    assert "not delivered" in ours  # the failure is logged, redacted
    for text in (repr(event), result.error or "", ours):
        assert "TOPSECRET" not in text


# -- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"title": "  "}, "non-empty title"),
        ({"severity": "apocalyptic"}, "severity 'apocalyptic' is not one of"),
        ({"confidence": 1.5}, "between 0 and 1"),
        ({"confidence": float("nan")}, "between 0 and 1"),
        ({"pr_url": "github.com/acme/pull/1"}, "http(s) URL"),
        ({"created_at": datetime(2026, 1, 1)}, "timezone-aware"),
    ],
)
def test_invalid_notifications_are_refused_with_a_clear_message(overrides: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        oom_notification(**overrides)


def test_severity_may_be_given_as_text() -> None:
    assert oom_notification(severity="warning").severity is Severity.WARNING


def test_a_notification_is_redacted_on_its_way_out(receiver: Receiver) -> None:
    notification = oom_notification(
        summary="login failed: Authorization: Bearer tok_5f1b9c2e8a7d4c3bzz9",
        root_cause="DATABASE_URL=postgres://app:Pg-pa55word-7731@db/shop is wrong",
    )
    body = deliver(receiver, None, notification)
    dumped = str(body)
    assert "tok_5f1b9c2e8a7d4c3bzz9" not in dumped and "Pg-pa55word-7731" not in dumped
    assert "Bearer «redacted:" in body["summary"]
