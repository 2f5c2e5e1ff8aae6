"""Services whose selector matches no pod: every request to them fails."""

from __future__ import annotations

from collections.abc import Iterator

from tools.scan.finding import Finding, Severity, as_yaml
from tools.scan.objects import dig, labels_of, name_of, namespace_of, pod_template, selector_matches
from tools.scan.snapshot import Snapshot

ID = "service-selects-nothing"
TITLE = "Service selects no pod"


def check(snapshot: Snapshot) -> Iterator[Finding]:
    """A finding per Service with a selector that matches no pod and no workload's pod template."""
    for service in snapshot.services:
        selector = dig(service, "spec", "selector")
        if not isinstance(selector, dict) or not selector:
            continue  # headless or externally managed endpoints: nothing to check
        namespace, name = namespace_of(service), name_of(service)
        workloads = snapshot.in_namespace(snapshot.workloads, namespace)
        if snapshot.pods_matching(namespace, selector):
            continue
        if any(selector_matches(selector, labels_of(pod_template(w))) for w in workloads):
            continue  # its workload is scaled down or starting: not a wrong selector
        same_name = [w for w in workloads if name_of(w) == name]
        suggestion = labels_of(pod_template(same_name[0])) if same_name else {"app": name}
        yield Finding(
            check=ID,
            severity=Severity.HIGH,
            namespace=namespace,
            kind="Service",
            name=name,
            message=f"service {name} selects {selector}; no pod or workload in {namespace} has those labels",
            patch=as_yaml({"spec": {"selector": suggestion}}),
        )
