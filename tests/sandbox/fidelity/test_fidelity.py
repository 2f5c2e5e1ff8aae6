"""The fidelity suite: real-world-style manifests reach the state a real Kubernetes 1.30+ cluster shows.

Every case in `cases/*.yaml` (format: FIDELITY_FORMAT.md) is applied with the real kubectl to a fresh
stepped sandbox and compared with its expectation (STATUS/READY/RESTARTS as kubectl prints them,
container reasons, events, logs, other objects' phase and conditions), then - for a failing case -
the rules reasoner's diagnosis of the case's target on that state against the case's `diagnosis`.

The diagnoses the reasoner gets wrong today are listed in DIAGNOSIS_MISSES (measured, see
docs/sandbox.md): strict xfails, so a miss that starts passing fails until it leaves the list, and a
state mismatch still fails those cases.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sandbox.fidelity.harness import (
    CASES_DIR,
    KUBECTL,
    check_case,
    check_diagnosis,
    load_case,
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


@pytest.mark.process  # kubectl, 3 runs per case
@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem, marks=_marks(p)) for p in CASES])
def test_case_reaches_the_real_cluster_state(path: Path, tmp_path: Path) -> None:
    case = load_case(path)
    seen = run_case(case, tmp_path / "sandbox")
    problems = check_case(case, seen)
    assert not problems, f"{path.name}: {case['description']}\n  " + "\n  ".join(problems)
    if (wrong := check_diagnosis(case, seen)) is not None:
        raise DiagnosisMismatch(f"{path.name}: {wrong}")
