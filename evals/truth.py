"""The ground truth of a scenario's faults: the cluster's for injected faults (checked against what the
scenario expects), the scenario's own for hand-written ones, and whether the final state fixes each.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence

from evals.dataset import ExpectedFault, Scenario
from evals.outcome import FaultRecord, FaultTruth, ForbiddenRule
from evals.predicates import fixed
from evals.testbed import ClusterUnderTest


class TruthMismatch(RuntimeError):
    """A scenario's ground truth disagrees with what the cluster injected (a dataset bug)."""


# -- ground truth -----------------------------------------------------------------------------


def check_truth(scenario: Scenario, faults: Sequence[FaultTruth]) -> None:
    """Raise TruthMismatch when the scenario's expected faults of its inject steps are not what the
    cluster injected."""
    wanted = scenario.expect.injected
    if len(faults) != len(wanted):
        raise TruthMismatch(f"{scenario.id}: {len(faults)} faults injected, {len(wanted)} expected")
    for index, (truth, want) in enumerate(zip(faults, wanted, strict=True)):
        problems = []
        if truth.category != want.category:
            problems.append(f"category {truth.category} != {want.category}")
        if not fnmatch.fnmatchcase(truth.faulty_resource, want.faulty_resource):
            problems.append(f"faulty_resource {truth.faulty_resource!r} != {want.faulty_resource!r}")
        if truth.faulty_field != want.faulty_field:
            problems.append(f"faulty_field {truth.faulty_field!r} != {want.faulty_field!r}")
        if problems:
            raise TruthMismatch(
                f"{scenario.id}, fault {index + 1} ({truth.fault_type}): {'; '.join(problems)}"
            )


def declared_truth(fault: ExpectedFault) -> FaultTruth:
    """The ground truth of a hand-written fault, as the scenario states it."""
    return FaultTruth(
        fault_type="declared",
        target=fault.symptoms_at,
        category=fault.category,
        faulty_resource=fault.faulty_resource,
        faulty_field=fault.faulty_field,
        symptom_workload=fault.symptoms_at,
        explanation=fault.explanation or "",
        fix_in_git=False,
        forbidden=[ForbiddenRule(**rule.model_dump()) for rule in fault.forbidden],
        declared=True,
    )


def all_truths(scenario: Scenario, injected: Sequence[FaultTruth]) -> list[FaultTruth]:
    """Every fault's truth in the order of `expect.faults`: the cluster's for injected ones, the
    scenario's for hand-written ones."""
    pending = iter(injected)
    return [declared_truth(f) if f.declared else next(pending) for f in scenario.expect.faults]


def fault_records(
    cluster: ClusterUnderTest, scenario: Scenario, truths: Sequence[FaultTruth]
) -> list[FaultRecord]:
    """Each fault's ground truth and whether the cluster's final state fixes it: the cluster judges
    the injected faults, the scenario's `fixed_when` checks the hand-written ones."""
    judged = iter(cluster.fixed())
    live = git = None
    records = []
    for want, truth in zip(scenario.expect.faults, truths, strict=True):
        if want.declared:
            assert want.fixed_when is not None  # declared means it has fixed_when
            if live is None or git is None:
                live, git = cluster.objects("live"), cluster.objects("git")
            records.append(truth.record(fixed(want.fixed_when, live, git)))
            continue
        verdict = next(judged, None)
        if verdict is None:
            raise TruthMismatch(f"the cluster judged fewer faults than the {len(truths)} expected")
        records.append(truth.record(verdict))
    return records
