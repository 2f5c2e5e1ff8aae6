"""The cluster network seen from a pod: DNS like CoreDNS, connections like kube-proxy."""

from sandbox.profiles.world import ClusterNetwork
from sandbox.resources import PODS, SERVICES
from sandbox.shell.process import Listener
from sandbox.store import Store

HTTP = Listener(8080, "http", lambda m, p: (200, "ok"))


def _cluster(ready: bool = True, listening: bool = True) -> ClusterNetwork:
    store = Store()
    store.create(
        SERVICES,
        {
            "metadata": {"name": "api", "namespace": "shop"},
            "spec": {
                "clusterIP": "10.96.0.20",
                "selector": {"app": "api"},
                "ports": [{"port": 80, "targetPort": "http"}],
            },
        },
    )
    store.create(
        SERVICES,
        {
            "metadata": {"name": "db", "namespace": "data"},
            "spec": {"clusterIP": "None", "selector": {"app": "db"}, "ports": [{"port": 5432}]},
        },
    )
    store.create(
        PODS,
        {
            "metadata": {"name": "api-1", "namespace": "shop", "labels": {"app": "api"}},
            "spec": {"containers": [{"name": "a", "ports": [{"name": "http", "containerPort": 8080}]}]},
            "status": {"podIP": "10.244.1.7"},
        },
    )
    store.create(
        PODS,
        {
            "metadata": {"name": "db-0", "namespace": "data", "labels": {"app": "db"}},
            "spec": {"hostname": "db-0", "subdomain": "db", "containers": [{"name": "pg"}]},
            "status": {"podIP": "10.244.2.9"},
        },
    )
    ready_pods = {"shop": {"api-1": {"app": "api"}} if ready else {}, "data": {"db-0": {"app": "db"}}}

    def listener(ns, pod, port):
        return HTTP if listening and (pod, port) == ("api-1", 8080) else None

    return ClusterNetwork(store, "shop", "client-1", "10.244.1.3", listener, ready_pods)


def test_names_resolve_with_the_pod_search_path():
    net = _cluster()
    assert net.resolve("api") == ("api.shop.svc.cluster.local", "10.96.0.20")
    assert net.resolve("api.shop.svc.cluster.local.")[1] == "10.96.0.20"
    assert net.resolve("db.data") == ("db.data.svc.cluster.local", "10.244.2.9")  # headless: a pod address
    assert net.resolve("db-0.db.data")[1] == "10.244.2.9"
    assert net.resolve("db") is None and net.resolve("api.other") is None
    assert net.resolve("example.com") is not None and net.resolve("localhost")[1] == "127.0.0.1"


def test_connections_go_through_ready_listening_backends():
    ep = _cluster().connect("api", 80)
    assert ep.outcome == "ok" and ep.listener is HTTP
    assert _cluster(ready=False).connect("api", 80).outcome == "refused"
    assert _cluster(listening=False).connect("api", 80).outcome == "refused"
    assert _cluster().connect("api", 8080).outcome == "timeout"
    assert _cluster().connect("nope", 80).outcome == "unresolved"
    assert _cluster().connect("10.244.1.7", 8080).outcome == "ok"


def test_the_api_servers_service_always_resolves_and_answers_https():
    net = _cluster()
    assert net.resolve("kubernetes.default") == ("kubernetes.default.svc.cluster.local", "10.96.0.1")
    assert net.resolve("kubernetes") is None  # from namespace shop, the short name is shop's
    ep = net.connect("kubernetes.default.svc", 443)
    assert ep.outcome == "ok" and ep.listener.protocol == "https"
