"""Label keys the watcher sets on the incidents it raises: facts about related objects it has read
itself from the cluster (never copied from logs or alerts), for the reasoners to corroborate.

Only an incident whose trigger is the watcher carries them with this meaning: an Alertmanager
alert's labels are untrusted input and may hold any key, so readers check the trigger first
(`watcher_facts`).
"""

from __future__ import annotations

from agent.domain import Incident, Trigger

# On a workload whose configuration reaches a Service with no endpoints: that Service
# (`Service shop/redis`) and why it has none (one of the states below).
DEPENDENCY = "paramedic.dev/dependency"
DEPENDENCY_STATE = "paramedic.dev/dependency-state"
# On a workload scaled to zero: the running workloads whose configuration reaches its Service
# (`Deployment shop/worker,Deployment shop/web-api`).
DEPENDANTS = "paramedic.dev/dependants"

SELECTOR_MATCHES_NOTHING = "selector-matches-nothing"
SCALED_TO_ZERO = "scaled-to-zero"


def watcher_facts(incident: Incident) -> dict[str, str]:
    """The incident's labels when the watcher raised it (trusted facts), else nothing."""
    return dict(incident.labels) if incident.trigger is Trigger.WATCHER else {}
