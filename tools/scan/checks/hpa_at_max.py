"""HorizontalPodAutoscalers pinned at their maximum: the next spike has nowhere to go."""

from __future__ import annotations

from collections.abc import Iterator

from tools.scan.finding import Finding, Severity, as_yaml
from tools.scan.objects import dig, name_of, namespace_of
from tools.scan.snapshot import Snapshot

ID = "hpa-at-max"
TITLE = "HorizontalPodAutoscaler is at its maximum"


def check(snapshot: Snapshot) -> Iterator[Finding]:
    """A finding per HPA whose current (or desired) replicas reached `maxReplicas`."""
    for hpa in snapshot.hpas:
        maximum = dig(hpa, "spec", "maxReplicas")
        current = dig(hpa, "status", "currentReplicas")
        desired = dig(hpa, "status", "desiredReplicas")
        if not isinstance(maximum, int) or max(current or 0, desired or 0) < maximum:
            continue
        name = name_of(hpa)
        yield Finding(
            check=ID,
            severity=Severity.MEDIUM,
            namespace=namespace_of(hpa),
            kind="HorizontalPodAutoscaler",
            name=name,
            message=f"{name} runs {current} of at most {maximum} replicas: it cannot scale further; "
            "raise the maximum or find out why the load grew",
            patch=as_yaml({"spec": {"maxReplicas": maximum + max(1, maximum // 2)}}),
        )
