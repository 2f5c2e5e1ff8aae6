"""Which remediation actions make sense for which kind of workload: a pure check the policy applies.

A Deployment takes every action. A StatefulSet or DaemonSet rolls back through its ControllerRevision
history and restarts like a Deployment, but a DaemonSet runs one pod per node, so there is nothing to
scale. A Job or CronJob has no rollout: its pod template is immutable once created (a Job), replicas
do not exist, and "restart" or "rollback" mean nothing — the fix is a change in Git (a patch of the
manifest or a revert), which re-creates the Job, or a human. A bare Pod has no controller: deleting
it ("restart") loses it for good, so it too is fixed through Git or by a human. A Service has no
pods, replicas or revisions of its own: its manifest changes in Git (a revert of the commit that
broke it), or a human changes it.
"""

from __future__ import annotations

from agent.domain import ActionType

_GIT_AND_HUMANS = frozenset(
    {ActionType.GITOPS_PR, ActionType.REVERT_COMMIT, ActionType.NOTIFY, ActionType.NONE}
)
_ROLLING = _GIT_AND_HUMANS | {ActionType.PATCH, ActionType.RESTART, ActionType.ROLLBACK}

# The actions each kind supports; a kind not listed supports only Git changes and notifying humans.
ACTIONS_BY_KIND: dict[str, frozenset[ActionType]] = {
    "Deployment": frozenset(ActionType),
    "StatefulSet": _ROLLING | {ActionType.SCALE},
    "DaemonSet": _ROLLING,
    "Job": _GIT_AND_HUMANS,
    "CronJob": _GIT_AND_HUMANS | {ActionType.PATCH},  # its jobTemplate can change; the next run uses it
    "Pod": _GIT_AND_HUMANS,
    "Service": _GIT_AND_HUMANS,
}

_WHY: dict[tuple[str, ActionType], str] = {
    (
        "DaemonSet",
        ActionType.SCALE,
    ): "a DaemonSet runs one pod per matching node: it has no replicas to scale",
    (
        "Job",
        ActionType.SCALE,
    ): "a Job is never scaled: its completions and parallelism are its work, not capacity",
    ("Job", ActionType.PATCH): "a Job's pod template is immutable: re-create it from Git instead",
    ("Job", ActionType.RESTART): "a Job has no rollout to restart: re-create it from Git instead",
    ("Job", ActionType.ROLLBACK): "a Job has no revision history to roll back",
    ("CronJob", ActionType.SCALE): "a CronJob is never scaled",
    ("CronJob", ActionType.RESTART): "a CronJob has no rollout to restart",
    ("CronJob", ActionType.ROLLBACK): "a CronJob has no revision history to roll back",
    ("Pod", ActionType.RESTART): "a bare Pod has no controller: deleting it would lose it for good",
    ("Pod", ActionType.SCALE): "a bare Pod has no replicas",
    ("Pod", ActionType.ROLLBACK): "a bare Pod has no revision history",
    ("Pod", ActionType.PATCH): "a bare Pod's spec is immutable: change it in Git instead",
    ("Service", ActionType.RESTART): "a Service has no pods of its own to restart",
    ("Service", ActionType.SCALE): "a Service has no replicas",
    ("Service", ActionType.ROLLBACK): "a Service has no revision history: revert its commit in Git",
    ("Service", ActionType.PATCH): "a Service is changed in Git, where a direct write would be synced away",
}


def kind_problem(action: ActionType, kind: str) -> str | None:
    """Why `action` makes no sense on a workload of `kind`, or None when it does. Pure."""
    allowed = ACTIONS_BY_KIND.get(kind, _GIT_AND_HUMANS)
    if action in allowed:
        return None
    return _WHY.get((kind, action)) or f"{action.value} is not an action for a {kind}"
