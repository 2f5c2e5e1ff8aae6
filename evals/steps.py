"""Play a scenario's steps against its cluster: inject faults, commit raw changes, apply or delete raw
manifests, write log lines, post alerts, wait.

This is the only place the harness changes a cluster before the agent runs, through the
`ClusterUnderTest` seam. Alerts are not sent anywhere here: they are collected as Alertmanager
webhook payloads (stamped with the simulated time they fired) for the agent to receive the way
its webhook would.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from evals.dataset import AlertStep, CommitStep, LogStep, Scenario, Step
from evals.outcome import FaultTruth
from evals.testbed import ClusterUnderTest

Payload = dict[str, Any]


class StepError(RuntimeError):
    """A step could not be played (the message names the scenario and the step)."""


@dataclass
class Played:
    """What playing the steps produced: the injected faults' truth and the alerts that fired."""

    faults: list[FaultTruth] = field(default_factory=list)
    alerts: list[Payload] = field(default_factory=list)


def play(cluster: ClusterUnderTest, scenario: Scenario) -> Played:
    """Play every step in order."""
    played = Played()
    for index, step in enumerate(scenario.steps):
        try:
            fault = play_step(cluster, step, played)
        except StepError as exc:
            raise StepError(f"scenario {scenario.id}, step {index + 1}: {exc}") from exc
        except Exception as exc:  # a fault that does not apply, Git errors: say which step of which scenario
            raise StepError(f"scenario {scenario.id}, step {index + 1}: {type(exc).__name__}: {exc}") from exc
        if fault is not None:
            played.faults.append(fault)
    return played


def play_step(cluster: ClusterUnderTest, step: Step, played: Played | None = None) -> FaultTruth | None:
    """One step; an inject step returns its fault's ground truth, an alert step joins `played.alerts`."""
    if step.inject is not None:
        inject = step.inject
        return cluster.inject(inject.fault, inject.target, via=inject.via, message=inject.message)
    if step.commit is not None:
        _commit(cluster, step.commit)
    elif step.apply is not None:
        cluster.apply_manifest(step.apply.manifest)
    elif step.delete is not None:
        cluster.delete_object(step.delete.resource)
    elif step.log is not None:
        _write_log(cluster, step.log)
    elif step.alert is not None:
        if played is not None:
            played.alerts.append(alert_payload(step.alert, cluster.now()))
    elif step.wait is not None:
        cluster.advance(step.wait)
    return None


def _commit(cluster: ClusterUnderTest, commit: CommitStep) -> None:
    if commit.files is not None:
        cluster.commit_files(dict(commit.files), commit.message)
        return
    cluster.commit_patches([(item.resource, item.patch) for item in commit.patches or ()], commit.message)


def _write_log(cluster: ClusterUnderTest, step: LogStep) -> None:
    written = cluster.append_log(
        step.target, step.lines, step.container, instance=step.instance, persist=step.persist
    )
    if not written and not step.persist:
        which = "running" if step.instance == "current" else "terminated"
        raise StepError(f"log step: no {which} container of {step.target} to write to")


def alert_payload(alert: AlertStep, fired_at: float) -> Payload:
    """The Alertmanager webhook body (version 4) for one firing alert, fired at `fired_at` (epoch s)."""
    labels = dict(alert.labels)
    fingerprint = hashlib.sha256(json.dumps(labels, sort_keys=True).encode()).hexdigest()[:16]
    starts = datetime.fromtimestamp(fired_at, UTC).isoformat().replace("+00:00", "Z")
    return {
        "version": "4",
        "groupKey": "{}:{alertname=" + json.dumps(labels["alertname"]) + "}",
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "paramedic",
        "groupLabels": {"alertname": labels["alertname"]},
        "commonLabels": labels,
        "commonAnnotations": dict(alert.annotations),
        "externalURL": "http://alertmanager.monitoring:9093",
        "alerts": [
            {
                "status": "firing",
                "labels": labels,
                "annotations": dict(alert.annotations),
                "startsAt": starts,
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.monitoring:9090/graph",
                "fingerprint": fingerprint,
            }
        ],
    }
