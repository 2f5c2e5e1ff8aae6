"""The image-* and shell-* fidelity cases, applied to a stepped sandbox through the kubernetes client.

A minimal runner for the cases in tests/sandbox/fidelity/cases (format: FIDELITY_FORMAT.md):
create the namespace, create every manifest, let `settle_seconds` of simulated time pass, then
compare the pods with what a real cluster shows — the STATUS and READY columns as kubectl prints
them, restarts, the container's reason, event reasons and messages, and log lines. The shared
fidelity harness (tests/sandbox/fidelity) is meant to take these cases over; this keeps them
exercised meanwhile.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, config, utils
from kubernetes.client.rest import ApiException

from sandbox.cluster import Sandbox

CASES = sorted(
    p
    for p in (Path(__file__).parent / "fidelity" / "cases").glob("*.yaml")
    if p.name.startswith(("image-", "shell-"))
)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sandbox, client.ApiClient]]:
    sb = Sandbox(tmp_path_factory.mktemp("cases"), seed=7, background=False)
    sb.start()
    try:
        yield sb, config.new_client_from_config(str(sb.kubeconfig_path))
    finally:
        sb.stop()


def status_column(pod: Any) -> str:
    """The STATUS column of `kubectl get pods` (its printer's rules for containers)."""
    st = pod.status
    reason = st.reason or st.phase
    for cs in reversed(st.container_statuses or []):
        state = cs.state
        if state.waiting and state.waiting.reason:
            reason = state.waiting.reason
        elif state.terminated and state.terminated.reason:
            reason = state.terminated.reason
        elif state.terminated:
            reason = f"ExitCode:{state.terminated.exit_code}"
    if pod.metadata.deletion_timestamp:
        reason = "Terminating"
    return reason


def _reasons(pod: Any) -> set[str]:
    out = set()
    for cs in pod.status.container_statuses or []:
        for state in (cs.state, cs.last_state):
            if state is None:
                continue
            for part in (state.waiting, state.terminated):
                if part is not None and part.reason:
                    out.add(part.reason)
    return out


def _logs(core: client.CoreV1Api, ns: str, name: str) -> str:
    text = ""
    for previous in (False, True):
        try:
            text += core.read_namespaced_pod_log(name, ns, previous=previous) or ""
        except ApiException:
            continue
    return text


def _any(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case_reaches_the_real_cluster_state(cluster: tuple[Sandbox, client.ApiClient], path: Path) -> None:
    sb, api = cluster
    case = yaml.safe_load(path.read_text())
    ns = case["namespace"]
    core = client.CoreV1Api(api)
    core.create_namespace({"metadata": {"name": ns}})
    for doc in yaml.safe_load_all(case["manifests"]):
        if doc:
            utils.create_from_dict(api, doc, namespace=ns)
    sb.advance(float(case.get("settle_seconds", 120)))
    expect = case["expect"]
    pods = core.list_namespaced_pod(ns).items
    running = [p for p in pods if p.status.phase == "Running"]
    healthy = (
        bool(pods)
        and len(running) == len(pods)
        and all(all(cs.ready for cs in p.status.container_statuses or []) for p in pods)
    )
    summary = {p.metadata.name: (status_column(p), sorted(_reasons(p))) for p in pods}
    assert healthy == expect["healthy"], summary
    events = core.list_namespaced_event(ns).items
    for want in expect.get("pods") or []:
        mine = [p for p in pods if p.metadata.name.startswith(want["name"])]
        assert mine, f"no pod named {want['name']}*: {summary}"
        if "count" in want:
            assert len(mine) == want["count"], summary
        for pod in mine:
            name = pod.metadata.name
            statuses = pod.status.container_statuses or []
            if "status" in want:
                assert status_column(pod) in _any(want["status"]), (name, summary)
            if "ready" in want:
                ready = f"{sum(1 for cs in statuses if cs.ready)}/{len(pod.spec.containers)}"
                assert ready == want["ready"], (name, ready)
            if "restarts_at_least" in want:
                assert sum(cs.restart_count for cs in statuses) >= want["restarts_at_least"], (name, summary)
            if "reason" in want:
                assert _reasons(pod) & set(_any(want["reason"])), (name, _reasons(pod))
            mine_events = [e for e in events if e.involved_object.name == name]
            for reason in want.get("events") or []:
                assert any(e.reason == reason for e in mine_events), (
                    name,
                    reason,
                    [e.reason for e in mine_events],
                )
            for text in want.get("event_messages") or []:
                assert any(text in (e.message or "") for e in mine_events), (name, text)
            if want.get("logs_contain"):
                logs = _logs(core, ns, name)
                for text in want["logs_contain"]:
                    assert text in logs, (name, text, logs[-2000:])
