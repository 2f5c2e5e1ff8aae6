"""Alerts as Prometheus evaluates them (`GET /api/v1/alerts`), parsed into typed records."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ALERTS_TOOL = "prometheus.alerts"


@dataclass(frozen=True)
class Alert:
    """One active alert: its labels (alertname, namespace, ...), annotations, state and since when."""

    name: str
    state: str  # "firing" or "pending"
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    active_at: str = ""
    value: str = ""

    @property
    def namespace(self) -> str | None:
        """The `namespace` label, when the alert has one."""
        return self.labels.get("namespace")


def _strings(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): str(v) for k, v in value.items()}


def parse_alerts(data: Any) -> list[Alert]:
    """The alerts of an `/api/v1/alerts` answer's `data`; raises ValueError on another shape."""
    if not isinstance(data, Mapping) or not isinstance(data.get("alerts"), list):
        raise ValueError("expected an object with an 'alerts' list")
    out = []
    for item in data["alerts"]:
        if not isinstance(item, Mapping):
            raise ValueError("an alert is not an object")
        labels = _strings(item.get("labels"))
        out.append(
            Alert(
                name=labels.get("alertname", ""),
                state=str(item.get("state") or ""),
                labels=labels,
                annotations=_strings(item.get("annotations")),
                active_at=str(item.get("activeAt") or ""),
                value=str(item.get("value") or ""),
            )
        )
    return out
