"""Watch streams and the watcher against the sandbox's real API server over HTTP."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes import client as k8s

from agent.config import ScopeSettings
from agent.domain import Incident, WorkloadRef, fingerprint
from server.watcher.detect import CRASH_LOOP, OOM_KILLED
from server.watcher.streams import Backoff, Resource, ResourceStream, StreamSpec
from server.watcher.watcher import Watcher, WatcherOptions
from tests.polling import eventually
from tests.server.watcher import objects as o
from tests.server.watcher.conftest import Cluster, require_api_server

pytestmark = pytest.mark.integration
WEB = WorkloadRef(namespace="shop", kind="Deployment", name="web-api")


class Recorder:
    """A stream handler that keeps what it was given."""

    def __init__(self) -> None:
        self.lists: list[list[str]] = []
        self.events: queue.Queue[tuple[str, str]] = queue.Queue()
        self.seen: list[tuple[str, str]] = []

    def on_list(self, spec: StreamSpec, items: list[dict[str, Any]]) -> None:
        self.lists.append(sorted(i["metadata"]["name"] for i in items))

    def on_event(self, spec: StreamSpec, event_type: str, obj: dict[str, Any]) -> None:
        self.events.put((event_type, obj["metadata"]["name"]))

    def next(self, timeout: float = 10.0) -> tuple[str, str]:
        event = self.events.get(timeout=timeout)
        self.seen.append(event)
        return event

    def until(self, wanted: tuple[str, str], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while (event := self.next(max(0.01, deadline - time.monotonic()))) != wanted:
            pass
        assert event == wanted


def _store_pod(cluster: Cluster, name: str, namespace: str = "shop", **kw: Any) -> dict[str, Any]:
    from sandbox.resources import PODS

    obj = o.pod(name=name, namespace=namespace, **kw)
    for field_ in ("uid", "resourceVersion", "creationTimestamp"):
        obj["metadata"].pop(field_, None)
    return cluster.store.create(PODS, obj)


@pytest.fixture
def pod_stream(cluster: Cluster) -> Iterator[Callable[..., tuple[ResourceStream, Recorder]]]:
    started: list[ResourceStream] = []
    api = cluster.api_client()

    def start(timeout_seconds: int = 300) -> tuple[ResourceStream, Recorder]:
        recorder = Recorder()
        spec = StreamSpec("pods/shop", "Pod", k8s.CoreV1Api(api).list_namespaced_pod, ("shop",))
        stream = ResourceStream(
            spec, recorder, api, timeout_seconds=timeout_seconds, backoff=Backoff(0.05, 0.5)
        )
        stream.start()
        started.append(stream)
        assert eventually(lambda: len(recorder.lists) == 1, timeout=10.0), "the stream never listed"
        return stream, recorder

    yield start
    for stream in started:
        stream.stop()
        assert stream.join(10), "the stream did not stop"
    api.close()


def test_stream_lists_then_delivers_changes(cluster: Cluster, pod_stream: Callable[..., Any]) -> None:
    _store_pod(cluster, "before")
    stream, recorder = pod_stream()
    assert recorder.lists == [["before"]]
    _store_pod(cluster, "after")
    recorder.until(("ADDED", "after"))
    from sandbox.resources import PODS

    cluster.store.delete(PODS, "shop", "after")
    recorder.until(("DELETED", "after"))
    assert stream.state.resource_version == str(cluster.store.resource_version)


def test_stream_resumes_from_its_resource_version_when_a_watch_ends(
    cluster: Cluster, pod_stream: Callable[..., Any]
) -> None:
    stream, recorder = pod_stream(timeout_seconds=1)
    _store_pod(cluster, "a")
    recorder.until(("ADDED", "a"))
    watches = stream.state.watches
    assert eventually(lambda: stream.state.watches >= watches + 2, timeout=10.0), (
        "the watch did not time out and resume"
    )
    _store_pod(cluster, "b")
    recorder.until(("ADDED", "b"))
    assert stream.state.lists == 1  # resumed, never listed again
    assert recorder.seen.count(("ADDED", "a")) == 1  # and nothing was replayed


def test_stream_reconnects_after_the_server_drops_and_catches_up(
    cluster: Cluster, pod_stream: Callable[..., Any]
) -> None:
    stream, recorder = pod_stream()
    cluster.drop()
    assert eventually(lambda: stream.state.errors >= 1, timeout=10.0), (
        "the stream did not notice the server going away"
    )
    _store_pod(cluster, "while-down")
    cluster.restore()
    recorder.until(("ADDED", "while-down"), timeout=15)
    assert stream.state.lists == 1  # the history still held the change: resumed, not relisted


def test_stream_relists_when_its_resource_version_is_gone(
    cluster: Cluster, pod_stream: Callable[..., Any]
) -> None:
    from sandbox.resources import CONFIGMAPS, PODS

    _store_pod(cluster, "doomed")
    _store_pod(cluster, "survivor")
    stream, recorder = pod_stream()
    cluster.drop()
    cluster.store.delete(PODS, "shop", "doomed")
    for i in range(60):  # more changes than the store's history keeps
        cluster.store.create(
            CONFIGMAPS, {"metadata": {"name": f"churn-{i}", "namespace": "default"}, "data": {}}
        )
    cluster.restore()
    assert eventually(lambda: len(recorder.lists) == 2, timeout=15), "no relist after 410"
    assert stream.state.gone >= 1
    assert recorder.lists[1] == ["survivor"]
    _store_pod(cluster, "later")
    recorder.until(("ADDED", "later"))


def test_stream_of_a_missing_crd_is_off(cluster: Cluster) -> None:
    api = cluster.api_client()
    recorder = Recorder()
    resource = Resource("kustomize.toolkit.fluxcd.io", "v1", "kustomizations")
    custom = k8s.CustomObjectsApi(api)
    spec = StreamSpec("kustomizations", "Kustomization", custom.list_cluster_custom_object,
                      (resource.group, resource.version, resource.plural), resource)  # fmt: skip
    stream = ResourceStream(spec, recorder, api)
    stream.start()
    assert stream.join(10)
    assert stream.state.available is False and recorder.lists == []
    api.close()


# -- the watcher end to end --------------------------------------------------------------------


class Incidents:
    def __init__(self) -> None:
        self.items: list[Incident] = []
        self.arrived = threading.Condition()

    def __call__(self, incident: Incident) -> None:
        with self.arrived:
            self.items.append(incident)
            self.arrived.notify_all()

    def wait(self, predicate: Callable[[list[Incident]], bool], timeout: float) -> bool:
        with self.arrived:
            return self.arrived.wait_for(lambda: predicate(self.items), timeout)


def test_failing_pods_become_one_incident_for_their_deployment(cluster: Cluster) -> None:
    from sandbox.resources import DEPLOYMENTS, REPLICASETS

    deployment = cluster.store.create(DEPLOYMENTS, {k: v for k, v in o.deployment().items() if k != "status"})
    rs = {
        "metadata": {
            "name": "web-api-7d9f8c6b5",
            "namespace": "shop",
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web-api",
                                 "uid": deployment["metadata"]["uid"], "controller": True}],
        },
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web-api"}}},
    }  # fmt: skip
    rs = cluster.store.create(REPLICASETS, rs)
    incidents = Incidents()
    api = cluster.api_client()
    watcher = Watcher(api, ScopeSettings(), incidents, options=WatcherOptions(backoff_initial=0.05))
    watcher.start()
    try:
        assert eventually(
            lambda: all(s.state.lists or s.state.available is False for s in watcher._streams), timeout=10.0
        )
        for i in range(6):
            pod = o.pod(name=f"web-api-7d9f8c6b5-p{i}", containers=[o.crashloop_container()], ready=False)
            pod["metadata"]["ownerReferences"][0]["uid"] = rs["metadata"]["uid"]
            for field_ in ("uid", "resourceVersion", "creationTimestamp"):
                pod["metadata"].pop(field_, None)
            from sandbox.resources import PODS

            cluster.store.create(PODS, pod)
        assert incidents.wait(lambda items: len(items) >= 1, timeout=10)
        time.sleep(0.5)  # give a second incident the chance to (wrongly) appear
        (incident,) = incidents.items
        assert incident.target == WEB and incident.reason == CRASH_LOOP
        assert watcher.stats().fold.folded >= 5
        names = {s.spec.name: s.state.available for s in watcher._streams}
        assert names["kustomizations"] is False  # no Flux in this cluster: that stream is off
    finally:
        watcher.stop()
        api.close()


@pytest.mark.e2e
def test_sandbox_oom_fault_reaches_on_incident_once(tmp_path: Any) -> None:
    require_api_server()
    from sandbox.cluster import Sandbox

    with Sandbox(tmp_path / "sandbox", seed=7, time_factor=30.0) as sandbox:
        sandbox.wait_healthy(timeout=60)
        incidents = Incidents()
        api = k8s.ApiClient(k8s.Configuration())
        from tools.kubernetes.client import api_client_from_config

        api = api_client_from_config(sandbox.kubeconfig_path)
        watcher = Watcher(api, ScopeSettings(), incidents, sandbox.clock.now)
        watcher.start()
        try:
            sandbox.inject("oom", "shop/deploy/web-api")
            oom = fingerprint(WEB, OOM_KILLED)
            assert incidents.wait(lambda items: any(i.fingerprint == oom for i in items), timeout=60), [
                (str(i.target), i.reason) for i in incidents.items
            ]
            sandbox.advance(120)  # more crashes, more pods: still one incident while its run is active
            assert [i.fingerprint for i in incidents.items].count(oom) == 1
            assert not [i for i in incidents.items if i.target == WEB and i.fingerprint != oom]
        finally:
            watcher.stop()
            api.close()
