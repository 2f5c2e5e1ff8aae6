"""Named PromQL templates for one workload (namespace + Deployment/StatefulSet/DaemonSet name).

Pods of a workload are named after it: `<deploy>-<hash>-<suffix>` for a Deployment,
`<name>-<ordinal>` for a StatefulSet, `<name>-<suffix>` for a DaemonSet or Job. The pod regex
accepts one or two generated segments after the name rather than `<name>-.*`, so that the
pods of `checkout-worker` are not counted as pods of `checkout`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")
_DURATION = re.compile(r"([0-9]+(ms|s|m|h|d|w|y))+\Z")

DEFAULT_WINDOW = "5m"


@dataclass(frozen=True)
class Workload:
    """A workload to query: validated Kubernetes names, so they can go into PromQL unquoted-safe."""

    namespace: str
    name: str

    def __post_init__(self) -> None:
        if len(self.namespace) > 63 or not _DNS_LABEL.match(self.namespace):
            raise ValueError(f"namespace {self.namespace!r} is not a valid Kubernetes namespace name")
        if len(self.name) > 253 or not _DNS_SUBDOMAIN.match(self.name):
            raise ValueError(f"workload name {self.name!r} is not a valid Kubernetes object name")

    @property
    def pod_regex(self) -> str:
        """An RE2 regex (anchored by PromQL) matching the names of this workload's pods."""
        # Validated names hold only [a-z0-9.-]; of those only the dot is special in a regex.
        return self.name.replace(".", "\\.") + "-[a-z0-9]+(-[a-z0-9]+)?"

    def pod_selector(self) -> str:
        """Label matchers for this workload's pods, ready to put between braces."""
        # Inside a PromQL string a backslash must itself be escaped.
        regex = self.pod_regex.replace("\\", "\\\\")
        return f'namespace="{self.namespace}",pod=~"{regex}"'


def _containers(w: Workload) -> str:
    # cAdvisor also reports the pod cgroup (container="") and the pause container ("POD").
    return w.pod_selector() + ',container!="",container!="POD"'


@dataclass(frozen=True)
class PromQLTemplate:
    """A named query about one workload; `unit` says what the values measure."""

    name: str
    description: str
    unit: str
    _render: Callable[[Workload, str], str]

    def render(self, workload: Workload, window: str = DEFAULT_WINDOW) -> str:
        """The PromQL for `workload`; `window` is the range of rate()/increase() (e.g. "5m")."""
        if not _DURATION.match(window):
            raise ValueError(f"window {window!r} is not a PromQL duration such as 30s, 5m or 1h")
        return self._render(workload, window)


def _t(name: str, description: str, unit: str, render: Callable[[Workload, str], str]) -> PromQLTemplate:
    return PromQLTemplate(name, description, unit, render)


_ALL = (
    _t(
        "memory_working_set",
        "Working-set memory per container (what the OOM killer compares with the limit).",
        "bytes",
        lambda w, _: f"max by (pod, container) (container_memory_working_set_bytes{{{_containers(w)}}})",
    ),
    _t(
        "memory_limit",
        "Memory limit per container (containers without a limit are left out).",
        "bytes",
        lambda w, _: f"max by (pod, container) (container_spec_memory_limit_bytes{{{_containers(w)}}} > 0)",
    ),
    _t(
        "memory_limit_ratio",
        "Working set divided by the memory limit per container; near 1 means about to be OOM-killed.",
        "ratio",
        lambda w, _: (
            f"max by (pod, container) (container_memory_working_set_bytes{{{_containers(w)}}})"
            f" / max by (pod, container) (container_spec_memory_limit_bytes{{{_containers(w)}}} > 0)"
        ),
    ),
    _t(
        "cpu_usage",
        "CPU used per container, in cores, averaged over the window.",
        "cores",
        lambda w, win: (
            f"sum by (pod, container) (rate(container_cpu_usage_seconds_total{{{_containers(w)}}}[{win}]))"
        ),
    ),
    _t(
        "restarts",
        "Restart count per container since the pod started.",
        "count",
        lambda w, _: (
            f"max by (pod, container) (kube_pod_container_status_restarts_total{{{w.pod_selector()}}})"
        ),
    ),
    _t(
        "restarts_increase",
        "Restarts per container within the window.",
        "count",
        lambda w, win: (
            "sum by (pod, container) "
            f"(increase(kube_pod_container_status_restarts_total{{{w.pod_selector()}}}[{win}]))"
        ),
    ),
    _t(
        "waiting_reason",
        "Containers currently waiting, by reason (CrashLoopBackOff, ImagePullBackOff, ...).",
        "flag",
        lambda w, _: (
            "max by (pod, container, reason) "
            f"(kube_pod_container_status_waiting_reason{{{w.pod_selector()}}}) > 0"
        ),
    ),
    _t(
        "replicas_unavailable",
        "Unavailable replicas of the Deployment.",
        "count",
        lambda w, _: (
            "max by (namespace, deployment) (kube_deployment_status_replicas_unavailable"
            f'{{namespace="{w.namespace}",deployment="{w.name}"}})'
        ),
    ),
    _t(
        "http_5xx_ratio",
        "Share of HTTP requests answered with a 5xx code over the window (empty without traffic).",
        "ratio",
        lambda w, win: (
            f'(sum(rate(http_requests_total{{{w.pod_selector()},code=~"5.."}}[{win}])) or vector(0))'
            f" / sum(rate(http_requests_total{{{w.pod_selector()}}}[{win}]))"
        ),
    ),
    _t(
        "latency_p95",
        "95th percentile of HTTP request duration over the window.",
        "seconds",
        lambda w, win: (
            "histogram_quantile(0.95, sum by (le) "
            f"(rate(http_request_duration_seconds_bucket{{{w.pod_selector()}}}[{win}])))"
        ),
    ),
)

TEMPLATES: Mapping[str, PromQLTemplate] = MappingProxyType({t.name: t for t in _ALL})


def template(name: str) -> PromQLTemplate:
    """The template called `name`; a ValueError lists the known names otherwise."""
    try:
        return TEMPLATES[name]
    except KeyError:
        raise ValueError(f"unknown PromQL template {name!r}; known: {', '.join(TEMPLATES)}") from None
