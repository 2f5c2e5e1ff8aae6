"""Whether a run should move its investigation to a dependency its diagnosis blamed.

A workload that answers 5xx because its database is at zero replicas is a victim: nothing in its
own manifest is wrong, and every action on it is forbidden by common sense. The fix is the
dependency's. `dependency_to_follow` is the pure rule that lets the same run investigate the
dependency next (read-only: the dependency then gets its own diagnosis, audit, policy verdict
and decision, exactly as if it had been the incident's target).

What it will follow, and why no more:
- only a `dependency_down` diagnosis that proposes no change of its own (the reasoner says "the
  fault is elsewhere"), naming a workload kind (Deployment, StatefulSet, DaemonSet);
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

_RESOURCE = re.compile(
    rf"^\s*(?P<kind>{'|'.join(FOLLOWABLE_KINDS)})\s+(?P<namespace>[a-z0-9][a-z0-9.-]*)/(?P<name>[a-z0-9][a-z0-9.-]*)\s*$"
)


def workload_of_resource(resource: str) -> WorkloadRef | None:
    """`Deployment shop/postgres` as a WorkloadRef; None for anything else (a Service, a Node, text)."""
    match = _RESOURCE.match(resource or "")
    if match is None:
        return None
    return WorkloadRef(namespace=match["namespace"], kind=match["kind"], name=match["name"])


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
    dependency = workload_of_resource(diagnosis.faulty_resource)
    if dependency is None or dependency.namespace != subject.namespace:
        return None
    return None if dependency in visited else dependency
