"""Prometheus adapter: a query client, named PromQL templates per workload, typed series."""

from tools.prometheus.alerts import ALERTS_TOOL, Alert
from tools.prometheus.client import QUERY_TOOL, RANGE_TOOL, PrometheusClient
from tools.prometheus.series import QueryResult, Sample, Series
from tools.prometheus.templates import DEFAULT_WINDOW, TEMPLATES, PromQLTemplate, Workload, template

__all__ = [
    "ALERTS_TOOL",
    "DEFAULT_WINDOW",
    "QUERY_TOOL",
    "RANGE_TOOL",
    "TEMPLATES",
    "Alert",
    "PromQLTemplate",
    "PrometheusClient",
    "QueryResult",
    "Sample",
    "Series",
    "Workload",
    "template",
]
