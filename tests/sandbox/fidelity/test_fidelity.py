"""The fidelity suite: real-world-style manifests reach the state a real Kubernetes 1.30+ cluster shows.

Every case in `cases/*.yaml` (format: FIDELITY_FORMAT.md) is applied with the real kubectl to a fresh
stepped sandbox and compared with its expectation (STATUS/READY/RESTARTS as kubectl prints them,
container reasons, events, logs, other objects' phase and conditions).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sandbox.fidelity.harness import CASES_DIR, KUBECTL, check_case, load_case, run_case

CASES = sorted(CASES_DIR.glob("*.yaml"))
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


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case_reaches_the_real_cluster_state(path: Path, tmp_path: Path) -> None:
    case = load_case(path)
    seen = run_case(case, tmp_path / "sandbox")
    problems = check_case(case, seen)
    assert not problems, f"{path.name}: {case['description']}\n  " + "\n  ".join(problems)
