"""Play a scenario's steps against its cluster: inject faults, commit red herrings, write log lines, wait.

This is the only place the harness changes a cluster before the agent runs, through the
`ClusterUnderTest` seam (inject, commit, append to logs, advance time).
"""

from __future__ import annotations

from evals.dataset import CommitStep, LogStep, Scenario, Step
from evals.outcome import FaultTruth
from evals.testbed import ClusterUnderTest


class StepError(RuntimeError):
    """A step could not be played (the message names the scenario and the step)."""


def play(cluster: ClusterUnderTest, scenario: Scenario) -> list[FaultTruth]:
    """Play every step in order; returns the injected faults' ground truth."""
    faults: list[FaultTruth] = []
    for index, step in enumerate(scenario.steps):
        try:
            fault = play_step(cluster, step)
        except StepError:
            raise
        except Exception as exc:  # a fault that does not apply, Git errors: say which step of which scenario
            raise StepError(f"scenario {scenario.id}, step {index + 1}: {type(exc).__name__}: {exc}") from exc
        if fault is not None:
            faults.append(fault)
    return faults


def play_step(cluster: ClusterUnderTest, step: Step) -> FaultTruth | None:
    """One step; an inject step returns its fault's ground truth."""
    if step.inject is not None:
        return cluster.inject(step.inject.fault, step.inject.target, via=step.inject.via)
    if step.commit is not None:
        _commit(cluster, step.commit)
    elif step.log is not None:
        _write_log(cluster, step.log)
    elif step.wait is not None:
        cluster.advance(step.wait)
    return None


def _commit(cluster: ClusterUnderTest, commit: CommitStep) -> None:
    if commit.files is not None:
        cluster.commit_files(dict(commit.files), commit.message)
        return
    cluster.commit_patches([(item.resource, item.patch) for item in commit.patches or ()], commit.message)


def _write_log(cluster: ClusterUnderTest, step: LogStep) -> None:
    if not cluster.append_log(step.target, step.lines, step.container):
        raise StepError(f"log step: no running container of {step.target} to write to")
