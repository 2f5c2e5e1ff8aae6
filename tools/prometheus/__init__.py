"""Prometheus adapter: a query client, named PromQL templates per workload, typed series."""

from tools.prometheus.client import QUERY_TOOL, RANGE_TOOL, PrometheusClient
from tools.prometheus.series import QueryResult, Sample, Series
from tools.prometheus.templates import DEFAULT_WINDOW, TEMPLATES, PromQLTemplate, Workload, template

__all__ = [
    "DEFAULT_WINDOW",
    "QUERY_TOOL",
    "RANGE_TOOL",
    "TEMPLATES",
    "PromQLTemplate",
    "PrometheusClient",
    "QueryResult",
    "Sample",
    "Series",
    "Workload",
    "template",
]
