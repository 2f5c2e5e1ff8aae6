"""The fidelity suite: real-world-style manifests reach the state a real Kubernetes 1.30+ cluster shows.

Every case in `cases/*.yaml` (format: FIDELITY_FORMAT.md) is applied with the real kubectl to a fresh
stepped sandbox and compared with its expectation (STATUS/READY/RESTARTS as kubectl prints them,
container reasons, events, logs, other objects' phase and conditions), then - for a failing case -
the rules reasoner's diagnosis of the case's target on that state against the case's `diagnosis`.
kubectl applies each case; the state is read over HTTP from what kubectl prints it from, and on
KUBECTL_VIEW_CASES kubectl's own `get -o json`, `get pods` and `logs` must print the same.

The diagnoses the reasoner gets wrong today are listed in DIAGNOSIS_MISSES (measured, see
docs/sandbox.md): strict xfails, so a miss that starts passing fails until it leaves the list, and a
state mismatch still fails those cases.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from sandbox.cluster import Sandbox
from tests.sandbox.fidelity.harness import (
    CASES_DIR,
    KUBECTL,
    Obj,
    Observed,
    check_case,
    check_diagnosis,
    kubectl,
    load_case,
    log_requests,
    run_case,
)

CASES = sorted(CASES_DIR.glob("*.yaml"))
# Cases whose state the sandbox reaches but whose cause the rules reasoner does not name (yet); none
# today (docs/sandbox.md). A new case the rules miss goes here, by its file's stem, until they name it.
DIAGNOSIS_MISSES: frozenset[str] = frozenset()


class DiagnosisMismatch(AssertionError):
    """The sandbox reached the expected state, but the diagnosis differs from the case's."""


def _marks(path: Path) -> list[pytest.MarkDecorator]:
    if path.stem in DIAGNOSIS_MISSES:
        return [pytest.mark.xfail(raises=DiagnosisMismatch, strict=True, reason="known diagnosis miss")]
    return []


pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")


def test_every_case_follows_the_format() -> None:
    assert CASES, "no fidelity cases"
    namespaces: dict[str, str] = {}
    for path in CASES:
        case = load_case(path)
        assert path.stem.split("-")[0] in {
            "image", "shell", "job", "cronjob", "statefulset", "daemonset", "volume", "init", "sched",
            "probe", "admission", "kinds", "kubectl",
        }, path.name  # fmt: skip
        assert case["namespace"] not in namespaces, (
            f"{path.name} reuses {namespaces.get(case['namespace'])}'s namespace"
        )
        namespaces[case["namespace"]] = path.name


# The cases on which the real kubectl's output is compared with what the harness reads over HTTP;
# between them, every kind of thing the harness reads.
KUBECTL_VIEW_CASES = {
    # RESTARTS printed as "N (Xs ago)", BackOff events, an init container's current and previous
    # logs, and a main container whose log the server refuses while it waits
    "init-crashloop",
    # a Job in the list and as a named object, its failed pods' logs
    "job-backofflimit-exceeded",
}


def kubectl_prints_what_the_harness_read(case: Obj) -> Callable[[Sandbox, Observed], None]:
    """A check, for `run_case`'s `inspect`: `kubectl get -o json` prints the objects, `kubectl get pods`
    the table cells and `kubectl logs` the logs the harness read over HTTP (so the cases are checked
    on what kubectl shows)."""

    def check(sb: Sandbox, seen: Observed) -> None:
        ns = case["namespace"]
        shown = json.loads(kubectl(sb, "get", "pods,events,jobs", "-n", ns, "-o", "json").stdout)["items"]
        assert [_shown(o) for o in shown] == [_shown(o) for o in [*seen.pods, *seen.events, *seen.jobs]]
        for kind, name in seen.objects:
            proc = kubectl(sb, "get", kind, name, "-n", ns, "-o", "json")
            assert _shown(json.loads(proc.stdout)) == _shown(seen.objects[(kind, name)] or {}), (kind, name)
        printed = kubectl(sb, "get", "pods", "-n", ns, "--no-headers").stdout.splitlines()
        rows = {line.split()[0]: " ".join(line.split()[1:]) for line in printed}
        assert set(rows) == set(seen.table) and rows, (printed, seen.table)
        for name, cells in seen.table.items():
            row = f"{cells['ready']} {cells['status']} {cells['restarts']} "
            assert rows[name].startswith(row), (rows[name], row)
        assert seen.logs, "the case checks logs"
        for name in seen.logs:
            pod = next(p for p in seen.pods if p["metadata"]["name"] == name)
            printed_logs = "".join(
                kubectl(sb, "logs", name, "-n", ns, "-c", c, f"--previous={str(p).lower()}").stdout
                for c, p in log_requests(pod)
            )
            assert printed_logs == seen.logs[name], (printed_logs, seen.logs[name])

    return check


def _shown(obj: Obj) -> Obj:
    """An object as `kubectl get -o json` prints it: without managedFields (--show-managed-fields)."""
    metadata = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "managedFields"}
    return {**obj, "metadata": metadata}


@pytest.mark.process  # kubectl, 1 run per case (an apply)
@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem, marks=_marks(p)) for p in CASES])
def test_case_reaches_the_real_cluster_state(path: Path, tmp_path: Path) -> None:
    case = load_case(path)
    inspect = kubectl_prints_what_the_harness_read(case) if path.stem in KUBECTL_VIEW_CASES else None
    seen = run_case(case, tmp_path / "sandbox", inspect=inspect)
    problems = check_case(case, seen)
    assert not problems, f"{path.name}: {case['description']}\n  " + "\n  ".join(problems)
    if (wrong := check_diagnosis(case, seen)) is not None:
        raise DiagnosisMismatch(f"{path.name}: {wrong}")
