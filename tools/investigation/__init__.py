"""Read-only investigation tools for a model: Kubernetes, Prometheus and Git reads behind one exit
point that validates, scopes, redacts and caps every call (`InvestigationTools.call`).

    scope = NamespaceScope.of(["shop"])
    tools = InvestigationTools.create(kube=kube, prometheus=prom, repo=repo, scope=scope)
    tools.function_specs()                       # what the model is offered (reads only)
    tools.call("k8s_pod_logs", {"namespace": "shop", "pod": "web-1", "previous": True})

The analyst's and auditor's LLM tool loops use it (agent/reasoners); nothing here writes.
"""

from tools.investigation.catalogue import Backends, Limits, ToolArgs, ToolSpec
from tools.investigation.outcome import ToolOutcome
from tools.investigation.scope import NamespaceScope, OutOfScope, api_selector_check
from tools.investigation.toolset import CATALOGUE, WRITE_WORDS, InvestigationTools

__all__ = [
    "CATALOGUE",
    "WRITE_WORDS",
    "Backends",
    "InvestigationTools",
    "Limits",
    "NamespaceScope",
    "OutOfScope",
    "ToolArgs",
    "ToolOutcome",
    "ToolSpec",
    "api_selector_check",
]
