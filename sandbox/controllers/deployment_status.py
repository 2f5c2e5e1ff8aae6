"""A Deployment's status: replica counts summed over its ReplicaSets and the Available/Progressing
conditions with kube-controller-manager's reasons, ProgressDeadlineExceeded included."""

from __future__ import annotations

from collections.abc import Callable

from sandbox.clock import parse_rfc3339, rfc3339
from sandbox.controllers.base import Key, Timers, put_status
from sandbox.controllers.events import EventRecorder, Source
from sandbox.controllers.rollout import spec_replicas, status_count, surge_and_unavailable
from sandbox.resources import DEPLOYMENTS
from sandbox.store import Obj, Store

_SOURCE = Source("deployment-controller")


class DeploymentStatus:
    """Writes Deployment status; arms a wake-up for the progress deadline."""

    def __init__(
        self, store: Store, clock: Callable[[], float], timers: Timers, recorder: EventRecorder, owner: str
    ) -> None:
        self._store = store
        self._clock = clock
        self._timers = timers
        self._recorder = recorder
        self._owner = owner  # the controller the deadline wake-up goes to

    def sync(
        self, d: Obj, key: Key, new_rs: Obj | None, olds: list[Obj], note: tuple[str, str] | None
    ) -> None:
        """Write the status of `d` from its new and old ReplicaSets; `note` is a Progressing reason."""
        now = self._clock()
        spec = d.get("spec") or {}
        want = int(spec.get("replicas", 1))
        all_rs = ([new_rs] if new_rs else []) + olds
        _, max_unavailable = surge_and_unavailable(d)
        status = {
            "observedGeneration": d["metadata"].get("generation", 1),
            "replicas": sum(status_count(r, "replicas") for r in all_rs),
            "updatedReplicas": status_count(new_rs, "replicas") if new_rs else 0,
            "readyReplicas": sum(status_count(r, "readyReplicas") for r in all_rs),
            "availableReplicas": sum(status_count(r, "availableReplicas") for r in all_rs),
        }
        status["unavailableReplicas"] = max(
            sum(spec_replicas(r) for r in all_rs) - status["availableReplicas"], 0
        )
        old_status = d.get("status") or {}
        conds = {c["type"]: c for c in old_status.get("conditions") or []}
        ts = rfc3339(now)

        def put(type_: str, value: str, reason: str, message: str, touch: bool = True) -> None:
            old = conds.get(type_)
            old = old or {}
            same = bool(old) and old.get("status") == value
            conds[type_] = {
                "type": type_,
                "status": value,
                "lastUpdateTime": ts
                if (touch or not same or old.get("reason") != reason)
                else old["lastUpdateTime"],
                "lastTransitionTime": old["lastTransitionTime"] if same else ts,
                "reason": reason,
                "message": message,
            }

        if status["availableReplicas"] >= want - max_unavailable:
            put(
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
                touch=False,
            )
        else:
            put(
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
                touch=False,
            )
        name = new_rs["metadata"]["name"] if new_rs else ""
        deadline = spec.get("progressDeadlineSeconds", 600)
        progressing = conds.get("Progressing")
        complete = (
            new_rs is not None
            and status["updatedReplicas"] == want
            and status["replicas"] == want
            and status["availableReplicas"] == want
        )
        if spec.get("paused"):
            put("Progressing", "Unknown", "DeploymentPaused", "Deployment is paused")
        elif note is not None:
            put("Progressing", "True", note[0], note[1])
        elif complete:
            already = progressing and progressing.get("reason") == "NewReplicaSetAvailable"
            put(
                "Progressing",
                "True",
                "NewReplicaSetAvailable",
                f'ReplicaSet "{name}" has successfully progressed.',
                touch=not already,
            )
        elif _progressed(old_status, status):
            put("Progressing", "True", "ReplicaSetUpdated", f'ReplicaSet "{name}" is progressing.')
        elif (
            progressing is not None
            and deadline is not None
            and progressing.get("reason") not in ("NewReplicaSetAvailable", "ProgressDeadlineExceeded")
        ):
            since = parse_rfc3339(progressing["lastUpdateTime"])
            if now - since > int(deadline):
                put(
                    "Progressing",
                    "False",
                    "ProgressDeadlineExceeded",
                    f'ReplicaSet "{name}" has timed out progressing.',
                )
                self._recorder.emit(
                    d,
                    "Warning",
                    "ProgressDeadlineExceeded",
                    f'Deployment "{key[1]}" has timed out progressing.',
                    _SOURCE,
                )
        elif progressing is None:
            put("Progressing", "True", "ReplicaSetUpdated", f'ReplicaSet "{name}" is progressing.')
        current = conds.get("Progressing") or {}
        if (
            not complete
            and deadline is not None
            and current.get("status") == "True"
            and current.get("reason") != "NewReplicaSetAvailable"  # a finished roll-out never times out
        ):
            due = parse_rfc3339(current["lastUpdateTime"]) + int(deadline) + 1
            if due > now:
                self._timers.at(due, self._owner, key)
        failure = next(
            (
                c
                for c in ((new_rs or {}).get("status") or {}).get("conditions") or []
                if c.get("type") == "ReplicaFailure"
            ),
            None,
        )
        if failure is not None:
            put(
                "ReplicaFailure",
                "True",
                failure.get("reason", "FailedCreate"),
                failure.get("message", ""),
                touch=False,
            )
        else:
            conds.pop("ReplicaFailure", None)
        status["conditions"] = [
            conds[t] for t in ("Available", "Progressing", "ReplicaFailure") if t in conds
        ]
        for k in ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas", "unavailableReplicas"):
            if not status[k]:
                del status[k]

        put_status(self._store, DEPLOYMENTS, key, status)


def _progressed(old: Obj, new: Obj) -> bool:
    return (
        new.get("updatedReplicas", 0) > old.get("updatedReplicas", 0)
        or new.get("readyReplicas", 0) > old.get("readyReplicas", 0)
        or new.get("availableReplicas", 0) > old.get("availableReplicas", 0)
        or (new.get("replicas", 0) - new.get("updatedReplicas", 0))
        < (old.get("replicas", 0) - old.get("updatedReplicas", 0))
    )
