"""The credential formats `token_spans` looks for: detect-secrets' plugin patterns and our own.

Where `detect-secrets` (1.5) has a plugin for a format its `denylist` regexes are used as they
are; formats it lacks, or matches too narrowly, have their own patterns. Imported at the first
redaction (`tools.redaction.tokens`), not with the package: detect-secrets loads `requests` and its
scan machinery (0.2 s of CPU), which a process that never redacts does not need.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Protocol

from detect_secrets.plugins.aws import AWSKeyDetector
from detect_secrets.plugins.discord import DiscordBotTokenDetector
from detect_secrets.plugins.github_token import GitHubTokenDetector
from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
from detect_secrets.plugins.jwt import JwtTokenDetector
from detect_secrets.plugins.mailchimp import MailchimpDetector
from detect_secrets.plugins.openai import OpenAIDetector
from detect_secrets.plugins.pypi_token import PypiTokenDetector
from detect_secrets.plugins.sendgrid import SendGridDetector
from detect_secrets.plugins.slack import SlackDetector
from detect_secrets.plugins.square_oauth import SquareOAuthDetector
from detect_secrets.plugins.stripe import StripeDetector
from detect_secrets.plugins.telegram_token import TelegramBotTokenDetector

from tools.redaction.tokens import Shape


class _Denylisted(Protocol):
    """A detect-secrets regex plugin class: its class-level `denylist` of compiled patterns."""

    @property
    def denylist(self) -> Iterable[re.Pattern[str]]: ...


def _plugin(
    kind: str, plugin: _Denylisted, needles: tuple[str, ...], *, group: int = 0, skip: str = ""
) -> list[Shape]:
    # A denylist pattern whose first group is the secret (AWS's quoted secret key) says so with
    # group=1; the others' groups only hold a prefix, so their whole match is the secret.
    # `skip` drops patterns whose match is wider than the secret (a whole webhook URL).
    return [
        Shape(kind, pattern, needles=needles, group=group if pattern.groups >= 1 and group else 0)
        for pattern in plugin.denylist
        if not (skip and skip in pattern.pattern)
    ]


def _mixed(token: str) -> bool:
    """Random-looking: has a digit, an upper- and a lower-case letter (not a k8s-style name)."""
    return any(c.isdigit() for c in token) and any(c.isupper() for c in token) and token.upper() != token


_JWT_VALID = JwtTokenDetector.is_formally_valid

_AWS_IDS = ("a3t", "abia", "acca", "akia", "asia")
_GITHUB = ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_")
_GITLAB = ("glpat-", "gldt-", "glft-", "glsoat-", "glrt-", "gr1348941", "glcbt-", "glimt-", "glptt-",
           "glagent-", "gloas-")  # fmt: skip

SHAPES: tuple[Shape, ...] = (
    *_plugin("aws-access-key-id", AWSKeyDetector, (*_AWS_IDS, "aws"), group=1),
    # An AWS secret access key standing next to its key id (`AKIA...:wJalr...`, `AKIA... wJalr...`).
    Shape(
        "aws-secret-key",
        re.compile(r"(?:A3T[A-Z0-9]|ABIA|ACCA|AKIA|ASIA)[0-9A-Z]{16}[\s:;,|/\"'=]{1,6}([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"),
        needles=_AWS_IDS,
        group=1,
        widen=False,
    ),
    *_plugin("github-token", GitHubTokenDetector, _GITHUB),
    Shape(
        "github-token",
        re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{22,255})"),
        needles=_GITHUB,
    ),
    *_plugin("gitlab-token", GitLabTokenDetector, _GITLAB),
    *_plugin("slack-token", SlackDetector, ("xox",), skip="hooks"),
    Shape(
        "slack-token",
        re.compile(r"\bxox[abposre]-[A-Za-z0-9-]{10,}|\bxapp-\d-[A-Za-z0-9-]{10,}"),
        needles=("xox", "xapp-"),
    ),
    # A Slack/Discord webhook URL: the last path segment is the secret; the ids before it are not.
    Shape(
        "webhook-secret",
        re.compile(r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_]+/[A-Za-z0-9_]+/([A-Za-z0-9_]+)"),
        needles=("hooks.slack.com",),
        group=1,
    ),
    Shape(
        "webhook-secret",
        re.compile(r"discord(?:app)?\.com/api/webhooks/\d+/([A-Za-z0-9_\-]+)"),
        needles=("discord",),
        group=1,
    ),
    *_plugin("stripe-key", StripeDetector, ("k_live_",)),
    Shape(
        "stripe-key",
        re.compile(r"\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,}|\bwhsec_[A-Za-z0-9]{24,}"),
        needles=("k_live_", "k_test_", "whsec_"),
    ),
    *_plugin("openai-key", OpenAIDetector, ("t3blbkfj",)),
    Shape(
        "api-key",
        re.compile(r"\bsk-(?:proj-|svcacct-|admin-|ant-(?:api|admin)\d\d-)?([A-Za-z0-9_\-]{20,})"),
        needles=("sk-",),
        valid=lambda key: _mixed(key[3:]) or len(key) >= 40,
    ),
    Shape("google-api-key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}"), needles=("aiza",)),
    Shape(
        "google-oauth",
        re.compile(r"\bGOCSPX-[\w\-]{20,}|\bya29\.[\w\-]{20,}"),
        needles=("gocspx-", "ya29."),
        widen=False,
    ),
    Shape("huggingface-token", re.compile(r"\bhf_[A-Za-z0-9]{30,}"), needles=("hf_",)),
    Shape("vault-token", re.compile(r"\bhv[sbr]\.[\w\-]{24,}"), needles=("hvs.", "hvb.", "hvr."), widen=0),
    Shape("digitalocean-token", re.compile(r"\bdo[opr]_v1_[a-f0-9]{64}"), needles=("_v1_",)),
    Shape("shopify-token", re.compile(r"\bshp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}"), needles=("shp",)),
    Shape("npm-token", re.compile(r"\bnpm_[A-Za-z0-9]{36}"), needles=("npm_",)),
    Shape("docker-token", re.compile(r"\bdckr_pat_[A-Za-z0-9_\-]{20,}"), needles=("dckr_pat_",)),
    Shape(
        "grafana-token",
        re.compile(r"\bglsa_[A-Za-z0-9]{32}_[a-fA-F0-9]{8}|\bglc_[A-Za-z0-9+/]{32,}=*"),
        needles=("glsa_", "glc_"),
    ),
    Shape("atlassian-token", re.compile(r"\bATATT3[A-Za-z0-9_\-=]{30,}"), needles=("atatt3",)),
    Shape("databricks-token", re.compile(r"\bdapi[a-f0-9]{32}(?:-\d)?"), needles=("dapi",)),
    Shape("age-secret-key", re.compile(r"\bAGE-SECRET-KEY-1[0-9A-Z]{58}"), needles=("age-secret-key-",)),
    *_plugin("sendgrid-key", SendGridDetector, ("sg.",)),
    *_plugin("pypi-token", PypiTokenDetector, ("pypi-",)),
    # Bare Discord/Telegram bot tokens are looked for where the service is named (a URL, a
    # variable); everywhere else their names (`DISCORD_TOKEN=`) give them away.
    *_plugin("discord-token", DiscordBotTokenDetector, ("discord",)),
    *_plugin("telegram-token", TelegramBotTokenDetector, ("telegram", "/bot")),
    *_plugin("mailchimp-key", MailchimpDetector, ("-us",)),
    *_plugin("square-oauth", SquareOAuthDetector, ("sq0csp-",)),
    # JWTs: detect-secrets' pattern ends lazily (it would stop before the signature), so the
    # span comes from this pattern; a match must still be a formally valid JWT by its check,
    # except a token cut short in a log (header and payload still there) which is redacted too.
    Shape(
        "jwt",
        re.compile(r"\beyJ[A-Za-z0-9_\-]{2,}={0,2}\.[A-Za-z0-9_\-]{2,}={0,2}(?:\.[A-Za-z0-9_\-+/]*={0,2})?"),
        needles=("eyj",),
        valid=lambda token: _JWT_VALID(token) or ".eyJ" in token,
        widen=False,
    ),
)


NEEDLES = frozenset(needle for shape in SHAPES for needle in shape.needles)
