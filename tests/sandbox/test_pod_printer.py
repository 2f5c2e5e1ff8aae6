"""kubectl's printPod rules in the server-side table: READY, STATUS and RESTARTS for every pod state."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sandbox.apiserver.printers.pods import pod_columns, pod_row

NOW = datetime(2025, 6, 2, 10, 0, 0, tzinfo=UTC)


def pod(
    containers: list[dict[str, Any]],
    init: list[dict[str, Any]] | None = None,
    *,
    phase: str = "Pending",
    spec_init: list[dict[str, Any]] | None = None,
    **status: Any,
) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": c["name"]} for c in containers]}
    if init is not None:
        spec["initContainers"] = spec_init or [{"name": c["name"]} for c in init]
    st: dict[str, Any] = {"phase": phase, "containerStatuses": containers, **status}
    if init is not None:
        st["initContainerStatuses"] = init
    return {
        "metadata": {"name": "p", "creationTimestamp": "2025-06-02T09:50:00Z"},
        "spec": spec,
        "status": st,
    }


def waiting(name: str, reason: str, restarts: int = 0, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "ready": False,
        "restartCount": restarts,
        "state": {"waiting": {"reason": reason}},
        **extra,
    }


def terminated(name: str, reason: str | None, code: int, restarts: int = 0) -> dict[str, Any]:
    term: dict[str, Any] = {"exitCode": code}
    if reason:
        term["reason"] = reason
    return {"name": name, "ready": False, "restartCount": restarts, "state": {"terminated": term}}


def running(name: str, ready: bool = True, restarts: int = 0, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "ready": ready,
        "restartCount": restarts,
        "started": True,
        "state": {"running": {"startedAt": "2025-06-02T09:51:00Z"}},
        **extra,
    }


def test_init_progress_counts_finished_init_containers() -> None:
    p = pod(
        [waiting("app", "PodInitializing")],
        [terminated("a", "Completed", 0), waiting("b", "PodInitializing")],
    )
    assert pod_columns(p)[2] == "Init:1/2"


def test_init_failures_name_the_init_container_reason() -> None:
    crash = pod([waiting("app", "PodInitializing")], [waiting("a", "CrashLoopBackOff", restarts=3)])
    assert pod_columns(crash)[2:4] == ("Init:CrashLoopBackOff", 3)
    error = pod([waiting("app", "PodInitializing")], [terminated("a", "Error", 1)], phase="Failed")
    assert pod_columns(error)[2] == "Init:Error"
    bare = pod([waiting("app", "PodInitializing")], [terminated("a", None, 7)])
    assert pod_columns(bare)[2] == "Init:ExitCode:7"
    pull = pod([waiting("app", "PodInitializing")], [waiting("a", "ImagePullBackOff")])
    assert pod_columns(pull)[2] == "Init:ImagePullBackOff"


def test_app_container_reasons_after_initialization() -> None:
    p = pod(
        [waiting("app", "CrashLoopBackOff", restarts=4)],
        [terminated("a", "Completed", 0)],
        phase="Running",
        conditions=[{"type": "Initialized", "status": "True"}],
    )
    assert pod_columns(p)[2:4] == ("CrashLoopBackOff", 4)
    assert pod_columns(pod([waiting("app", "ContainerCreating")]))[2] == "ContainerCreating"
    assert pod_columns(pod([terminated("app", "Completed", 0)], phase="Succeeded"))[2] == "Completed"
    assert pod_columns(pod([terminated("app", "OOMKilled", 137)], phase="Running"))[2] == "OOMKilled"


def test_completed_with_a_container_still_running_is_running_or_notready() -> None:
    conditions = [{"type": "Ready", "status": "False"}]
    p = pod([terminated("a", "Completed", 0), running("b")], phase="Running", conditions=conditions)
    assert pod_columns(p)[2] == "Running"
    assert pod_columns(pod([terminated("a", "Completed", 0), running("b")], phase="Running"))[2] == "NotReady"


def test_native_sidecars_count_in_ready_and_do_not_block_initialization() -> None:
    p = pod(
        [running("app")],
        [running("proxy")],
        phase="Running",
        spec_init=[{"name": "proxy", "restartPolicy": "Always"}],
        conditions=[{"type": "Initialized", "status": "True"}],
    )
    ready, total, reason, _, _ = pod_columns(p)
    assert (ready, total, reason) == (2, 2, "Running")


def test_terminating_unknown_and_gated() -> None:
    p = pod([running("app")], phase="Running")
    p["metadata"]["deletionTimestamp"] = "2025-06-02T09:59:00Z"
    assert pod_columns(p)[2] == "Terminating"
    p["status"]["reason"] = "NodeLost"
    assert pod_columns(p)[2] == "Unknown"
    gated = pod([waiting("app", "")], conditions=[{"type": "PodScheduled", "reason": "SchedulingGated"}])
    assert pod_columns(gated)[2] == "SchedulingGated"
    evicted = pod([terminated("app", "Error", 137)], phase="Failed", reason="Evicted")
    assert pod_columns(evicted)[2] == "Error"


def test_restarts_say_how_long_ago_the_last_one_was() -> None:
    crash = running("app", restarts=2, lastState={"terminated": {"finishedAt": "2025-06-02T09:55:00Z"}})
    row = pod_row(pod([crash], phase="Running"), NOW)
    assert row[1:5] == ["1/1", "Running", "2 (5m ago)", "10m"]
