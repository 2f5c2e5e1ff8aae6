"""The rules reasoner's diagnosis of a fidelity case's target, on the sandbox state the case reached.

Evidence is gathered exactly as the analyst gathers it (`graph.evidence_gathering.gather_evidence`
through the `kubernetes` client), for the target the case names, with an incident as the watcher or
`paramedic run` would raise it; no Git repository (the case was applied with kubectl).
"""

from __future__ import annotations

from pathlib import Path

from agent.domain import Incident, Trigger, WorkloadRef
from agent.reasoners.rules import RulesReasoner
from graph.evidence_gathering import Sources, gather_evidence
from tools.kubernetes import KubeClient


def diagnose(kubeconfig: Path, namespace: str, kind: str, name: str) -> str:
    """The category (a `RootCause` value) the rules reasoner names for the workload."""
    target = WorkloadRef(namespace=namespace, kind=kind, name=name)
    kube = KubeClient.from_config(str(kubeconfig))
    try:
        evidence = gather_evidence(Sources(kube), target)
    finally:
        kube.close()
    incident = Incident.new(target, Trigger.MANUAL, "fidelity")
    return RulesReasoner().diagnose(incident, evidence).diagnosis.category.value
