"""A single replica with no PodDisruptionBudget: every node drain or upgrade is an outage."""

from __future__ import annotations

from collections.abc import Iterator

from tools.scan.finding import Finding, Severity, as_yaml
from tools.scan.objects import (
    dig,
    labels_of,
    name_of,
    namespace_of,
    pod_template,
    replicas_of,
    selector_matches,
)
from tools.scan.snapshot import Snapshot

ID = "single-replica-no-pdb"
TITLE = "Single replica without a PodDisruptionBudget"


def check(snapshot: Snapshot) -> Iterator[Finding]:
    """A finding per Deployment/StatefulSet with one replica whose pods no PDB covers (and no HPA scales)."""
    for workload in snapshot.workloads:
        if replicas_of(workload) != 1:
            continue
        namespace, name = namespace_of(workload), name_of(workload)
        labels = labels_of(pod_template(workload))
        covered = any(
            selector_matches(dig(pdb, "spec", "selector"), labels)
            for pdb in snapshot.in_namespace(snapshot.pdbs, namespace)
        )
        scaled = any(
            dig(hpa, "spec", "scaleTargetRef", "name") == name
            for hpa in snapshot.in_namespace(snapshot.hpas, namespace)
        )
        if covered or scaled:
            continue
        yield Finding(
            check=ID,
            severity=Severity.LOW,
            namespace=namespace,
            kind=str(workload.get("kind")),
            name=name,
            message=f"{name} runs one replica and no PodDisruptionBudget covers it: a drain takes it down",
            patch=as_yaml({"spec": {"replicas": 2}}),
        )
