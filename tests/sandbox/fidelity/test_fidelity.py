"""The fidelity suite: real-world-style manifests reach the state a real Kubernetes 1.30+ cluster shows.

Every case in `cases/*.yaml` (format: FIDELITY_FORMAT.md) is applied with the real kubectl to a fresh
stepped sandbox and compared with its expectation (STATUS/READY/RESTARTS as kubectl prints them,
container reasons, events, logs, other objects' phase and conditions), then - for a failing case -
the rules reasoner's diagnosis of the case's target on that state against the case's `diagnosis`.
kubectl runs twice per case (apply, one get); the table and logs are read over HTTP from what kubectl
prints them from, and on KUBECTL_VIEW_CASE kubectl's own `get pods` and `logs` must print the same.

The diagnoses the reasoner gets wrong today are listed in DIAGNOSIS_MISSES (measured, see
docs/sandbox.md): strict xfails, so a miss that starts passing fails until it leaves the list, and a
state mismatch still fails those cases.
"""

from __future__ import annotations

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
    namespaces = {}
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


# The case on which the real kubectl's table and logs are compared with what the harness reads over
# HTTP: an init container in a crash loop (RESTARTS printed as "N (Xs ago)", a previous log, a main
# container whose log the server refuses while it waits).
KUBECTL_VIEW_CASE = "init-crashloop"


def kubectl_prints_what_the_harness_read(case: Obj) -> Callable[[Sandbox, Observed], None]:
    """A check, for `run_case`'s `inspect`: `kubectl get pods` prints the table cells and `kubectl logs`
    the logs the harness read over HTTP (so the cases are checked on what kubectl shows)."""

    def check(sb: Sandbox, seen: Observed) -> None:
        ns = case["namespace"]
        printed = kubectl(sb, "get", "pods", "-n", ns, "--no-headers").stdout.splitlines()
        rows = {line.split()[0]: " ".join(line.split()[1:]) for line in printed}
        assert set(rows) == set(seen.table) and rows, (printed, seen.table)
        for name, cells in seen.table.items():
            assert rows[name].startswith(f"{cells['ready']} {cells['status']} {cells['restarts']} "), rows[
                name
            ]
        assert any("ago)" in cells["restarts"] for cells in seen.table.values()), seen.table
        assert seen.logs, "the case checks logs"
        for pod in seen.pods:
            name = pod["metadata"]["name"]
            requests = log_requests(pod)
            assert any(previous for _, previous in requests), requests  # a previous log is read too
            shown = "".join(
                kubectl(sb, "logs", name, "-n", ns, "-c", c, f"--previous={str(p).lower()}").stdout
                for c, p in requests
            )
            assert shown == seen.logs[name], (shown, seen.logs[name])

    return check


@pytest.mark.process  # kubectl, 2 runs per case
@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem, marks=_marks(p)) for p in CASES])
def test_case_reaches_the_real_cluster_state(path: Path, tmp_path: Path) -> None:
    case = load_case(path)
    inspect = kubectl_prints_what_the_harness_read(case) if path.stem == KUBECTL_VIEW_CASE else None
    seen = run_case(case, tmp_path / "sandbox", inspect=inspect)
    problems = check_case(case, seen)
    assert not problems, f"{path.name}: {case['description']}\n  " + "\n  ".join(problems)
    if (wrong := check_diagnosis(case, seen)) is not None:
        raise DiagnosisMismatch(f"{path.name}: {wrong}")
