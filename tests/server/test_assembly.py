"""The service's cluster readiness probe: True against a live API server, a reason otherwise."""

from __future__ import annotations

from kubernetes import client as k8s

from sandbox.cluster import Sandbox
from server.assembly import cluster_probe
from tests.ports import free_port
from tools.kubernetes import KubeClient


def test_the_probe_is_true_while_the_api_server_answers_and_says_why_when_it_does_not(tmp_path) -> None:
    with Sandbox(workdir=tmp_path / "sb", background=False) as sb:
        kube = KubeClient.from_config(str(sb.kubeconfig_path))
        assert cluster_probe(kube)() is True
        kube.close()
    port = free_port()  # a port nobody listens on
    config = k8s.Configuration(host=f"http://127.0.0.1:{port}")
    down = KubeClient(k8s.ApiClient(config))
    reason = cluster_probe(down)()
    assert isinstance(reason, str) and reason.startswith("cluster unreachable:")
    down.close()
