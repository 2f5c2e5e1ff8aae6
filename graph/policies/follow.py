"""Whether a run should move its investigation to a dependency its diagnosis blamed.

A workload that answers 5xx because its database is at zero replicas is a victim: nothing in its
own manifest is wrong, and every action on it is forbidden by common sense. The fix is the
dependency's. `dependency_to_follow` is the pure rule that lets the same run investigate the
dependency next (read-only: the dependency then gets its own diagnosis, audit, policy verdict
and decision, exactly as if it had been the incident's target).

What it will follow, and why no more:
- only a `dependency_down` diagnosis that proposes no change of its own (the reasoner says "the
  fault is elsewhere"), naming a workload kind (Deployment, StatefulSet, DaemonSet), or a Service
  together with the field of the Service at fault (`spec.selector`): a Service is an object with
  a manifest in Git like a workload, so its own evidence (its selector against the pods' labels,
  the history of its manifest) can say what to restore. A Service named only as a host in a log,
  with no field of its own blamed, is not followed: nothing says the Service is wrong;
- only in the subject's own namespace: a log line names a host, and a hostile log must not be
  able to point the agent at another team's namespace;
- never back to a workload already investigated in this run, and at most `max_follows` hops,
  so two services blaming each other cannot loop.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from agent.domain import Diagnosis, RootCause, WorkloadRef
from graph.policies.evaluate import MUTATING

MAX_FOLLOWS = 2
FOLLOWABLE_KINDS = ("Deployment", "StatefulSet", "DaemonSet")
# Objects that are not workloads but are followed when the diagnosis blames one of their fields.
FIELD_FOLLOWABLE_KINDS = ("Service",)

_RESOURCE = re.compile(
    rf"^\s*(?P<kind>{'|'.join((*FOLLOWABLE_KINDS, *FIELD_FOLLOWABLE_KINDS))})\s+"
    r"(?P<namespace>[a-z0-9][a-z0-9.-]*)/(?P<name>[a-z0-9][a-z0-9.-]*)\s*$"
)


def workload_of_resource(resource: str) -> WorkloadRef | None:
    """`Deployment shop/postgres` as a WorkloadRef; None for anything else (a Service, a Node, text)."""
    found = _resource(resource)
    return found if found is not None and found.kind in FOLLOWABLE_KINDS else None


def _resource(resource: str) -> WorkloadRef | None:
    match = _RESOURCE.match(resource or "")
    if match is None:
        return None
    return WorkloadRef(namespace=match["namespace"], kind=match["kind"], name=match["name"])


def followable(diagnosis: Diagnosis) -> WorkloadRef | None:
    """The object a diagnosis blames, when a run may investigate it: a workload, or a Service whose
    own field the diagnosis names."""
    found = _resource(diagnosis.faulty_resource)
    if found is None:
        return None
    if found.kind in FIELD_FOLLOWABLE_KINDS and not (diagnosis.faulty_field or "").startswith("spec."):
        return None
    return found


def dependency_to_follow(
    diagnosis: Diagnosis | None,
    subject: WorkloadRef,
    visited: Sequence[WorkloadRef],  # the incident's target first, the subject last
    max_follows: int = MAX_FOLLOWS,
) -> WorkloadRef | None:
    """The dependency to investigate next, or None (see the module docstring for the rules)."""
    if diagnosis is None or diagnosis.category is not RootCause.DEPENDENCY_DOWN:
        return None
    if diagnosis.remediation is not None and diagnosis.remediation.action in MUTATING:
        return None  # the reasoner proposes a change of its own; the decision judges that instead
    if len(visited) - 1 >= max_follows:
        return None
    dependency = followable(diagnosis)
    if dependency is None or dependency.namespace != subject.namespace:
        return None
    return None if dependency in visited else dependency
