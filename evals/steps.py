"""Play a scenario's steps against a sandbox: inject faults, commit red herrings, write log lines, wait.

This is the only place the harness changes a sandbox before the agent runs; it uses the
sandbox's public members (inject, commit, advance) plus the simulation's log store for `log`
steps, because the sandbox has no public knob for extra log lines yet.
"""

from __future__ import annotations

from typing import Any

from evals.dataset import CommitStep, LogStep, Scenario, Step
from sandbox.apps import REPO_FOLDER
from sandbox.cluster import Sandbox
from sandbox.faults import InjectedFault, Target
from sandbox.faults.yamledit import ManifestFiles
from sandbox.resources import DEPLOYMENTS, PODS


class StepError(RuntimeError):
    """A step could not be played (the message names the scenario and the step)."""


def play(sandbox: Sandbox, scenario: Scenario) -> list[InjectedFault]:
    """Play every step in order; returns the injected faults (their ground truth included)."""
    faults: list[InjectedFault] = []
    for index, step in enumerate(scenario.steps):
        try:
            fault = play_step(sandbox, step)
        except StepError:
            raise
        except Exception as exc:  # FaultNotApplicable, Git errors: say which step of which scenario
            raise StepError(f"scenario {scenario.id}, step {index + 1}: {type(exc).__name__}: {exc}") from exc
        if fault is not None:
            faults.append(fault)
    return faults


def play_step(sandbox: Sandbox, step: Step) -> InjectedFault | None:
    """One step; an inject step returns its fault."""
    if step.inject is not None:
        return sandbox.inject(step.inject.fault, step.inject.target, via=step.inject.via)
    if step.commit is not None:
        _commit(sandbox, step.commit)
    elif step.log is not None:
        _write_log(sandbox, step.log)
    elif step.wait is not None:
        sandbox.advance(step.wait)
    return None


def _commit(sandbox: Sandbox, commit: CommitStep) -> None:
    if commit.files is not None:
        sandbox.commit(dict(commit.files), commit.message)
        return
    changes: dict[str, str] = {}
    for item in commit.patches or ():
        # Re-read after each patch so two patches of one file both land.
        files = ManifestFiles(sandbox.repo, REPO_FOLDER)
        path = files.path_of(item.resource)
        if path in changes:
            raise StepError(f"two patches of one file ({path}) in one commit step are not supported")
        changes.update(files.patch(item.resource, item.patch))
    sandbox.commit(changes, commit.message)


def _write_log(sandbox: Sandbox, step: LogStep) -> None:
    target = Target.parse(step.target)
    deployment = sandbox.store.find(DEPLOYMENTS, target.namespace, target.name)
    if deployment is None:
        raise StepError(f"log step: {target.id} does not exist")
    selector = (deployment.get("spec", {}).get("selector") or {}).get("matchLabels") or {}
    pods, _ = sandbox.store.list(PODS)
    now = sandbox.clock.time()
    written = 0
    for pod in pods:
        meta: dict[str, Any] = pod["metadata"]
        labels = meta.get("labels") or {}
        if meta.get("namespace") != target.namespace or not selector:
            continue
        if any(labels.get(k) != v for k, v in selector.items()):
            continue
        containers = (pod.get("spec") or {}).get("containers") or []
        name = step.container or (containers[0]["name"] if containers else None)
        log = sandbox.simulation.logs.current(target.namespace, meta["name"], name) if name else None
        if log is None or log.finished is not None:
            continue  # nothing running to write into (a crash-looping container between starts)
        log.add(now, "\n".join(step.lines))
        written += 1
    if not written:
        raise StepError(f"log step: no running container of {target.id} to write to")
