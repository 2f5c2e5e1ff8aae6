"""Reads against recorded API responses: owner chains, status models, event folding, logs,
manifest cleaning and rollout history."""

from __future__ import annotations

from tests.tools.kubernetes.builders import NS, deployment, oom_pod, replica_set
from tests.tools.kubernetes.conftest import Answer, FakeApi, Trace, status_body
from tools.kubernetes.client import KubeClient
from tools.kubernetes.manifest import clean_manifest
from tools.kubernetes.owners import owner_chain
from tools.kubernetes.pod_logs import pod_logs, workload_logs
from tools.kubernetes.rollouts import history_of
from tools.kubernetes.status import pod_status_of, workload_status
from tools.kubernetes.workload_events import fold_events, workload_events
from tools.result import ToolStatus

APPS = f"/apis/apps/v1/namespaces/{NS}"
CORE = f"/api/v1/namespaces/{NS}"


def _serve_web(api: FakeApi) -> None:
    api.on("GET", f"{APPS}/deployments/web", Answer(200, deployment()))
    rss = [
        replica_set("web-old11", 1, "shop/web:1.1"),
        replica_set("web-abc12", 2, "shop/web:1.2", replicas=2),
    ]
    foreign = replica_set("other-zz", 1, "x", owner_uid="someone-else")
    api.on("GET", f"{APPS}/replicasets", Answer(200, {"kind": "ReplicaSetList", "items": [*rss, foreign]}))
    stray = oom_pod("stray-1", rs="other-zz", rs_uid="rs-x")
    api.on("GET", f"{CORE}/pods", Answer(200, {"kind": "PodList", "items": [oom_pod(), stray]}))


def test_owner_chain_pod_to_deployment(fake_api: FakeApi, fake_kube: KubeClient, trace: Trace) -> None:
    _serve_web(fake_api)
    fake_api.on("GET", f"{CORE}/pods/web-abc12-xyz", Answer(200, oom_pod()))
    fake_api.on(
        "GET", f"{APPS}/replicasets/web-abc12", Answer(200, replica_set("web-abc12", 2, "shop/web:1.2"))
    )
    result = owner_chain(fake_kube, NS, "web-abc12-xyz", sink=trace)
    assert result.ok, result.error
    chain = result.data
    assert chain is not None
    assert [(r.kind, r.name) for r in chain.chain] == [
        ("Pod", "web-abc12-xyz"),
        ("ReplicaSet", "web-abc12"),
        ("Deployment", "web"),
    ]
    assert chain.workload is not None and chain.workload.name == "web"
    assert trace.events[0].summary == "Pod/web-abc12-xyz <- ReplicaSet/web-abc12 <- Deployment/web"


def test_owner_chain_stops_at_a_deleted_owner(fake_api: FakeApi, fake_kube: KubeClient) -> None:
    fake_api.on("GET", f"{CORE}/pods/web-abc12-xyz", Answer(200, oom_pod()))
    fake_api.on(
        "GET",
        f"{APPS}/replicasets/web-abc12",
        Answer(404, status_body(404, "NotFound", 'replicasets.apps "web-abc12" not found')),
    )
    chain = owner_chain(fake_kube, NS, "web-abc12-xyz").data
    assert chain is not None
    assert chain.top.kind == "ReplicaSet" and not chain.top.found
    assert chain.workload is None


def test_owner_chain_of_a_missing_pod_is_an_error(fake_api: FakeApi, fake_kube: KubeClient) -> None:
    result = owner_chain(fake_kube, NS, "ghost")
    assert result.status is ToolStatus.ERROR and "not found" in (result.error or "")


def test_pod_status_model_reads_crash_loop_and_oom() -> None:
    pod = pod_status_of(oom_pod())
    assert pod.phase == "Running" and not pod.ready
    assert pod.owner == "ReplicaSet/web-abc12"
    assert pod.revision == "abc12"
    [c] = pod.containers
    assert (c.state, c.reason, c.restart_count) == ("waiting", "CrashLoopBackOff", 5)
    assert c.last_termination is not None
    assert (c.last_termination.reason, c.last_termination.exit_code) == ("OOMKilled", 137)


def test_workload_status_counts_and_only_its_own_pods(fake_api: FakeApi, fake_kube: KubeClient) -> None:
    _serve_web(fake_api)
    result = workload_status(fake_kube, NS, "Deployment", "web")
    assert result.ok, result.error
    s = result.data
    assert s is not None
    assert (s.desired, s.ready, s.available, s.updated, s.unavailable, s.revision) == (2, 1, 1, 2, 1, 2)
    assert [p.name for p in s.pods] == ["web-abc12-xyz"]  # the stray pod of another owner is excluded
    assert s.restarts == 5
    assert {c.type: c.status for c in s.conditions} == {"Available": "False", "Progressing": "True"}
    selector = fake_api.requests("GET")[-1].query["labelSelector"]
    assert selector == ["app=web"]


def test_workload_status_rejects_unsupported_kinds(fake_api: FakeApi, fake_kube: KubeClient) -> None:
    result = workload_status(fake_kube, NS, "Service", "x")  # a Pod or CronJob is a target now
    assert result.status is ToolStatus.ERROR and "unsupported kind" in (result.error or "")


def _event(
    name: str, reason: str, message: str, count: int, last: str, kind: str = "Pod", type_: str = "Warning"
):
    return {
        "metadata": {"name": f"{name}.{reason}.{last}", "namespace": NS},
        "involvedObject": {"kind": kind, "name": name, "namespace": NS},
        "reason": reason,
        "message": message,
        "type": type_,
        "count": count,
        "firstTimestamp": "2024-05-02T09:00:00Z",
        "lastTimestamp": last,
        "source": {"component": "kubelet"},
    }


def test_fold_events_sums_counts_and_sorts_newest_first() -> None:
    events = [
        _event("p1", "BackOff", "Back-off restarting failed container", 3, "2024-05-02T09:05:00Z"),
        _event("p1", "BackOff", "Back-off restarting failed container", 4, "2024-05-02T09:09:00Z"),
        _event("p1", "Pulled", "Container image pulled", 1, "2024-05-02T09:01:00Z", type_="Normal"),
        {
            **_event("p1", "OOMKilling", "Memory cgroup out of memory", 0, ""),
            "lastTimestamp": None,
            "eventTime": "2024-05-02T09:07:30.123456Z",
            "series": {"count": 2, "lastObservedTime": "2024-05-02T09:08:00.5Z"},
        },
    ]
    folded = fold_events(events)
    assert [(e.reason, e.count) for e in folded] == [("BackOff", 7), ("OOMKilling", 2), ("Pulled", 1)]
    assert folded[0].first_seen == "2024-05-02T09:00:00Z"
    assert folded[0].last_seen == "2024-05-02T09:09:00Z"
    assert folded[0].source == "kubelet"


def test_workload_events_cover_the_workload_its_replicasets_and_replaced_pods(
    fake_api: FakeApi, fake_kube: KubeClient
) -> None:
    _serve_web(fake_api)
    events = [
        _event(
            "web",
            "ScalingReplicaSet",
            "Scaled up replica set web-abc12 to 2",
            1,
            "2024-05-02T09:00:00Z",
            kind="Deployment",
            type_="Normal",
        ),
        _event(
            "web-abc12",
            "SuccessfulCreate",
            "Created pod: web-abc12-xyz",
            1,
            "2024-05-02T09:00:01Z",
            kind="ReplicaSet",
            type_="Normal",
        ),
        _event(
            "web-old11-gone", "Killing", "Stopping container app", 1, "2024-05-02T09:00:02Z", type_="Normal"
        ),
        _event("web-abc12-xyz", "BackOff", "Back-off restarting failed container", 9, "2024-05-02T09:10:00Z"),
        _event("webhook-1", "BackOff", "not ours", 1, "2024-05-02T09:11:00Z"),
        _event("other-zz-1", "BackOff", "not ours either", 1, "2024-05-02T09:11:00Z"),
    ]
    fake_api.on("GET", f"{CORE}/events", Answer(200, {"kind": "EventList", "items": events}))
    result = workload_events(fake_kube, NS, "Deployment", "web")
    assert result.ok, result.error
    names = [e.involved_name for e in result.data or []]
    assert names == ["web-abc12-xyz", "web-old11-gone", "web-abc12", "web"]


def test_pod_logs_current_and_previous_and_missing_previous(fake_api: FakeApi, fake_kube: KubeClient) -> None:
    pod = oom_pod()
    pod["spec"]["containers"].append({"name": "sidecar", "image": "proxy:1"})
    pod["status"]["containerStatuses"].append(
        {
            "name": "sidecar",
            "ready": True,
            "restartCount": 0,
            "state": {"running": {"startedAt": "2024-05-02T09:00:00Z"}},
        }
    )
    fake_api.on("GET", f"{CORE}/pods/web-abc12-xyz", Answer(200, pod))
    log_path = f"{CORE}/pods/web-abc12-xyz/log"
    fake_api.on("GET", log_path, Answer(200, b"line\n", content_type="text/plain"))
    result = pod_logs(fake_kube, NS, "web-abc12-xyz", tail_lines=50)
    assert result.ok, result.error
    logs = result.data
    assert logs is not None
    # app restarted: current and previous; the sidecar never restarted: current only.
    assert [(lg.container, lg.previous) for lg in logs.logs] == [
        ("app", False),
        ("app", True),
        ("sidecar", False),
    ]
    queries = [r.query for r in fake_api.requests("GET") if r.path == log_path]
    assert {q["container"][0] for q in queries} == {"app", "sidecar"}
    assert all(q["tailLines"] == ["50"] for q in queries)
    assert sorted(q.get("previous", ["false"])[0] for q in queries) == ["false", "false", "true"]


def test_pod_logs_reports_an_absent_log_per_container(fake_api: FakeApi, fake_kube: KubeClient) -> None:
    fake_api.on("GET", f"{CORE}/pods/web-abc12-xyz", Answer(200, oom_pod()))
    msg = 'previous terminated container "app" in pod "web-abc12-xyz" not found'
    fake_api.on("GET", f"{CORE}/pods/web-abc12-xyz/log", Answer(400, status_body(400, "BadRequest", msg)))
    logs = pod_logs(fake_kube, NS, "web-abc12-xyz", previous=True).data
    assert logs is not None
    assert all(not lg.available for lg in logs.logs)
    assert msg in logs.logs[1].note


def test_clean_manifest_removes_server_noise_and_defaults() -> None:
    body = clean_manifest(deployment())
    meta = body["metadata"]
    assert set(meta) == {"name", "namespace", "labels", "annotations"}
    assert meta["annotations"] == {"team": "checkout"}
    assert "status" not in body
    spec = body["spec"]
    assert set(spec) == {"replicas", "selector", "template"}
    pod_spec = spec["template"]["spec"]
    assert set(pod_spec) == {"containers"}
    assert set(pod_spec["containers"][0]) == {"name", "image", "resources", "env"}
    assert "creationTimestamp" not in spec["template"]["metadata"]


def test_clean_manifest_keeps_non_default_values() -> None:
    body = clean_manifest(deployment(progressDeadlineSeconds=120))
    assert body["spec"]["progressDeadlineSeconds"] == 120


def test_history_orders_revisions_and_strips_the_hash() -> None:
    rss = [
        replica_set("web-abc12", 2, "shop/web:1.2", replicas=2, change_cause="bump to 1.2"),
        replica_set("web-old11", 1, "shop/web:1.1"),
        {**replica_set("web-manual", 9, "x"), "metadata": {"name": "web-manual", "annotations": {}}},
    ]
    history = history_of(deployment(revision=2), rss)
    assert [r.revision for r in history.revisions] == [1, 2]  # a ReplicaSet without revision is skipped
    assert history.current_revision == 2
    current = history.get(2)
    assert current is not None and current.current and current.change_cause == "bump to 1.2"
    assert current.images == ["shop/web:1.2"]
    assert "pod-template-hash" not in current.template["metadata"]["labels"]
    assert history.previous is not None and history.previous.revision == 1


def test_statefulset_events_match_ordinal_pods_only(fake_api: FakeApi, fake_kube: KubeClient) -> None:
    sts = {"kind": "StatefulSet", "metadata": {"name": "db", "namespace": NS, "uid": "s-1"}, "spec": {}}
    fake_api.on("GET", f"{APPS}/statefulsets/db", Answer(200, sts))
    events = [
        _event("db-0", "BackOff", "crash", 2, "2024-05-02T09:10:00Z"),
        _event("db-api-7f9c8-abcde", "BackOff", "another workload", 1, "2024-05-02T09:11:00Z"),
        _event("db", "SuccessfulCreate", "create Pod db-0", 1, "2024-05-02T09:00:00Z", kind="StatefulSet"),
    ]
    fake_api.on("GET", f"{CORE}/events", Answer(200, {"kind": "EventList", "items": events}))
    result = workload_events(fake_kube, NS, "StatefulSet", "db")
    assert result.ok, result.error
    assert [e.involved_name for e in result.data or []] == ["db-0", "db"]


def test_bare_pod_events_and_logs_are_its_own(fake_api: FakeApi, fake_kube: KubeClient) -> None:
    pod = oom_pod(name="liveness-http")
    fake_api.on("GET", f"{CORE}/pods/liveness-http", Answer(200, pod))
    events = [
        _event(
            "liveness-http",
            "Unhealthy",
            "Liveness probe failed: HTTP probe failed",
            3,
            "2024-05-02T09:10:00Z",
        ),
        _event("liveness-http-abcde", "BackOff", "a pod named after it is not it", 1, "2024-05-02T09:11:00Z"),
    ]
    fake_api.on("GET", f"{CORE}/events", Answer(200, {"kind": "EventList", "items": events}))
    fake_api.on("GET", f"{CORE}/pods/liveness-http/log", Answer(200, b"started\n", content_type="text/plain"))
    got = workload_events(fake_kube, NS, "Pod", "liveness-http")
    assert got.ok, got.error
    assert [(e.involved_name, e.reason) for e in got.data or []] == [("liveness-http", "Unhealthy")]
    logs = workload_logs(fake_kube, NS, "Pod", "liveness-http")
    assert logs.ok, logs.error
    assert [(p.pod, [(lg.container, lg.previous) for lg in p.logs]) for p in logs.data or []] == [
        ("liveness-http", [("app", False), ("app", True)])
    ]


def test_cronjob_events_and_logs_reach_its_jobs_and_their_pods(
    fake_api: FakeApi, fake_kube: KubeClient
) -> None:
    batch = f"/apis/batch/v1/namespaces/{NS}"
    cron = {"kind": "CronJob", "metadata": {"name": "report", "namespace": NS, "uid": "cj-1"}, "spec": {}}
    job = {
        "kind": "Job",
        "metadata": {
            "name": "report-28801",
            "namespace": NS,
            "uid": "j-1",
            "ownerReferences": [{"kind": "CronJob", "name": "report", "uid": "cj-1", "controller": True}],
        },
        "spec": {"selector": {"matchLabels": {"job-name": "report-28801"}}},
    }
    pod = oom_pod(name="report-28801-x7k2p")
    pod["metadata"]["ownerReferences"] = [
        {"kind": "Job", "name": "report-28801", "uid": "j-1", "controller": True}
    ]
    fake_api.on("GET", f"{batch}/cronjobs/report", Answer(200, cron))
    fake_api.on("GET", f"{batch}/jobs", Answer(200, {"kind": "JobList", "items": [job]}))
    fake_api.on("GET", f"{CORE}/pods", Answer(200, {"kind": "PodList", "items": [pod]}))
    fake_api.on(
        "GET", f"{CORE}/pods/report-28801-x7k2p/log", Answer(200, b"boom\n", content_type="text/plain")
    )
    events = [
        _event(
            "report", "SawCompletedJob", "done", 1, "2024-05-02T09:00:00Z", kind="CronJob", type_="Normal"
        ),
        _event(
            "report-28801",
            "BackoffLimitExceeded",
            "Job has reached the backoff limit",
            1,
            "2024-05-02T09:05:00Z",
            kind="Job",
        ),
        _event("report-28700-ab12c", "BackOff", "a pod of a Job already deleted", 1, "2024-05-02T09:03:00Z"),
        _event("reporter-7f9c8-abcde", "BackOff", "another workload", 1, "2024-05-02T09:11:00Z"),
    ]
    fake_api.on("GET", f"{CORE}/events", Answer(200, {"kind": "EventList", "items": events}))
    got = workload_events(fake_kube, NS, "CronJob", "report")
    assert got.ok, got.error
    assert [e.involved_name for e in got.data or []] == ["report-28801", "report-28700-ab12c", "report"]
    logs = workload_logs(fake_kube, NS, "CronJob", "report")
    assert logs.ok, logs.error
    assert [p.pod for p in logs.data or []] == ["report-28801-x7k2p"]
