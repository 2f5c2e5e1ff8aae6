"""The real kubectl, unchanged, against the sandbox: every command the issue lists, output asserted."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from sandbox.cluster import Sandbox
from tests import system_packages
from tests.manifests import selecting_spec
from tests.polling import eventually
from tests.sandbox.kubectl import run_kubectl

pytestmark = pytest.mark.process  # every test runs kubectl


def kubectl_binary() -> str:
    """The real kubectl; missing, it fails the test naming the package (`make test` installs it)."""
    return system_packages.require("kubectl")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with Sandbox(workdir=tmp_path_factory.mktemp("kubectl"), seed=3, time_factor=60.0) as sb:
        sb.wait_healthy(timeout=60)
        # These tests edit the cluster by hand; Argo CD-style self-heal would revert them (as it should).
        kubectl(
            sb, "patch", "application", "sandbox-apps", "-n", "argocd", "--type", "merge",
            "-p", '{"spec":{"syncPolicy":{"automated":{"prune":true,"selfHeal":false}}}}',
        )  # fmt: skip
        yield sb


def kubectl(sb: Sandbox, *args: str, check: bool = True, stdin: str | None = None) -> str:
    proc = run_kubectl(sb, *args, stdin=stdin, timeout=60, check=check)
    return proc.stdout + proc.stderr if not check else proc.stdout


def web_pod(sb: Sandbox) -> str:
    out = kubectl(sb, "get", "pods", "-n", "shop", "-l", "app.kubernetes.io/name=web-api", "-o", "name")
    return out.split()[0].split("/", 1)[1]


def test_get_all_namespaces_prints_the_server_side_table(cluster: Sandbox) -> None:
    out = kubectl(cluster, "get", "pods", "-A")
    header, *rows = out.strip().splitlines()
    assert header.split() == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert any(r.split()[0] == "shop" and r.split()[1].startswith("web-api-") for r in rows)
    assert all(r.split()[3] == "Running" for r in rows)


def test_get_wide_yaml_json_and_label_selector(cluster: Sandbox) -> None:
    wide = kubectl(cluster, "get", "deploy", "-n", "shop", "-o", "wide")
    assert wide.splitlines()[0].split()[:8] == [
        "NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR",
    ]  # fmt: skip
    assert "ghcr.io/paramedic-demo/web-api" in wide
    doc = yaml.safe_load(kubectl(cluster, "get", "deploy", "web-api", "-n", "shop", "-o", "yaml"))
    assert doc["kind"] == "Deployment" and doc["metadata"]["uid"]
    assert doc["spec"]["strategy"]["rollingUpdate"]["maxSurge"] == "25%"  # a managed default
    pods = json.loads(
        kubectl(cluster, "get", "pods", "-n", "shop", "-l", "app.kubernetes.io/name=redis", "-o", "json")
    )
    assert pods["kind"] == "List" and len(pods["items"]) == 1
    assert pods["items"][0]["metadata"]["labels"]["app.kubernetes.io/name"] == "redis"


def test_describe_pod_and_deployment(cluster: Sandbox) -> None:
    pod = web_pod(cluster)
    out = kubectl(cluster, "describe", "pod", pod, "-n", "shop")
    assert f"Name:             {pod}" in out and "Status:           Running" in out
    assert "Scheduled" in out and "Started" in out  # the pod's events are listed
    out = kubectl(cluster, "describe", "deploy", "web-api", "-n", "shop")
    assert (
        "Replicas:" in out
        and "available" in out
        and "RollingUpdateStrategy:  25% max unavailable, 25% max surge" in out
    )


def test_logs_with_tail_and_previous(cluster: Sandbox) -> None:
    pod = web_pod(cluster)
    out = kubectl(cluster, "logs", pod, "-n", "shop", "--tail", "3")
    assert len(out.strip().splitlines()) == 3
    failed = kubectl(cluster, "logs", pod, "-n", "shop", "--previous", check=False)
    assert "previous terminated container" in failed and "not found" in failed


def test_previous_logs_after_a_crash(cluster: Sandbox) -> None:
    cluster.inject("oom", "shop/deploy/joke-service")
    pods = lambda: kubectl(  # noqa: E731
        cluster, "get", "pods", "-n", "shop", "-l", "app.kubernetes.io/name=joke-service", "-o", "json"
    )

    def restarted() -> bool:
        items = json.loads(pods())["items"]
        return any(
            (cs.get("restartCount") or 0) >= 1
            for p in items
            for cs in p["status"].get("containerStatuses") or []
        )

    assert eventually(restarted, 60, interval=0.3)
    items = json.loads(pods())["items"]
    crashed = next(p for p in items if (p["status"].get("containerStatuses") or [{}])[0].get("restartCount"))
    out = kubectl(cluster, "logs", crashed["metadata"]["name"], "-n", "shop", "--previous")
    assert out.strip()
    listing = kubectl(cluster, "get", "pods", "-n", "shop")
    assert "OOMKilled" in listing or "CrashLoopBackOff" in listing or "Running" in listing


def test_get_events(cluster: Sandbox) -> None:
    out = kubectl(cluster, "get", "events", "-n", "shop")
    assert out.splitlines()[0].split()[:4] == ["LAST", "SEEN", "TYPE", "REASON"]
    assert "Scheduled" in out and "Successfully assigned shop/" in out


def test_scale_and_rollout_status(cluster: Sandbox) -> None:
    assert "scaled" in kubectl(cluster, "scale", "deploy/worker", "-n", "shop", "--replicas=2")
    out = kubectl(cluster, "rollout", "status", "deploy/worker", "-n", "shop", "--timeout=60s")
    assert "successfully rolled out" in out
    assert (
        kubectl(cluster, "get", "deploy", "worker", "-n", "shop", "-o", "jsonpath={.status.readyReplicas}")
        == "2"
    )


def test_rollout_restart_history_and_undo(cluster: Sandbox) -> None:
    assert "restarted" in kubectl(cluster, "rollout", "restart", "deploy/redis", "-n", "shop")
    kubectl(cluster, "rollout", "status", "deploy/redis", "-n", "shop", "--timeout=60s")
    history = kubectl(cluster, "rollout", "history", "deploy/redis", "-n", "shop")
    revisions = [line.split()[0] for line in history.splitlines() if line[:1].isdigit()]
    assert len(revisions) >= 2
    assert "rolled back" in kubectl(cluster, "rollout", "undo", "deploy/redis", "-n", "shop")
    kubectl(cluster, "rollout", "status", "deploy/redis", "-n", "shop", "--timeout=60s")
    after = kubectl(cluster, "rollout", "history", "deploy/redis", "-n", "shop")
    assert int([line.split()[0] for line in after.splitlines() if line[:1].isdigit()][-1]) > int(
        revisions[-1]
    )


@pytest.mark.parametrize(
    ("kind", "patch", "path", "value"),
    [
        ("merge", '{"metadata":{"labels":{"team":"payments"}}}', "{.metadata.labels.team}", "payments"),
        (
            "json",
            '[{"op":"add","path":"/metadata/labels/tier","value":"gold"}]',
            "{.metadata.labels.tier}",
            "gold",
        ),
        (
            "strategic",
            '{"spec":{"template":{"spec":{"containers":[{"name":"app","env":[{"name":"FEATURE_BANNER","value":"on"}]}]}}}}',
            "{.spec.template.spec.containers[0].env[?(@.name=='FEATURE_BANNER')].value}",
            "on",
        ),
    ],
)
def test_patch_types(cluster: Sandbox, kind: str, patch: str, path: str, value: str) -> None:
    before = json.loads(kubectl(cluster, "get", "deploy", "web-api", "-n", "shop", "-o", "json"))
    out = kubectl(cluster, "patch", "deploy", "web-api", "-n", "shop", "--type", kind, "-p", patch)
    assert "patched" in out
    assert kubectl(cluster, "get", "deploy", "web-api", "-n", "shop", "-o", f"jsonpath={path}") == value
    if kind == "strategic":  # merged into the named container, the others kept
        after = json.loads(kubectl(cluster, "get", "deploy", "web-api", "-n", "shop", "-o", "json"))
        names = [c["name"] for c in after["spec"]["template"]["spec"]["containers"]]
        assert names == [c["name"] for c in before["spec"]["template"]["spec"]["containers"]]
        env = after["spec"]["template"]["spec"]["containers"][0]["env"]
        assert len(env) == len(before["spec"]["template"]["spec"]["containers"][0].get("env", [])) + 1


def _sleeper(tmp_path: Path, name: str, *, container: str) -> tuple[dict, Path]:
    """A one-replica Deployment `name` in shop whose busybox container sleeps, and its YAML file."""
    manifest = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": selecting_spec(
            name, [{"name": container, "image": "busybox:1.36", "command": ["sleep", "3600"]}], 1
        ),
    }
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(manifest))
    return manifest, path


def test_apply_create_then_configure_then_delete(cluster: Sandbox, tmp_path: Path) -> None:
    manifest, path = _sleeper(tmp_path, "hello", container="hello")
    assert "deployment.apps/hello created" in kubectl(cluster, "apply", "-f", str(path))
    manifest["spec"]["replicas"] = 2
    path.write_text(yaml.safe_dump(manifest))
    assert "deployment.apps/hello configured" in kubectl(cluster, "apply", "-f", str(path))
    applied = json.loads(kubectl(cluster, "get", "deploy", "hello", "-n", "shop", "-o", "json"))
    assert applied["spec"]["replicas"] == 2
    assert "kubectl.kubernetes.io/last-applied-configuration" in applied["metadata"]["annotations"]
    assert "unchanged" in kubectl(cluster, "apply", "-f", str(path))
    assert 'deployment.apps "hello" deleted' in kubectl(cluster, "delete", "-f", str(path))
    assert "NotFound" in kubectl(cluster, "get", "deploy", "hello", "-n", "shop", check=False)

    def pods_gone() -> bool:
        out = kubectl(cluster, "get", "pods", "-n", "shop", "-l", "app=hello", "-o", "name")
        return out.strip() == ""

    assert eventually(pods_gone, timeout=30.0, interval=0.3), (
        "garbage collection left the pods of a deleted Deployment behind"
    )


def test_get_watch_prints_rows_as_they_change(cluster: Sandbox) -> None:
    proc = subprocess.Popen(
        [kubectl_binary(), "--kubeconfig", str(cluster.kubeconfig_path), "get", "pods", "-n", "shop", "-w",
         "-l", "app.kubernetes.io/name=postgres"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        time.sleep(1.5)
        kubectl(
            cluster, "label", "pods", "-n", "shop", "-l", "app.kubernetes.io/name=postgres", "touched=yes"
        )
        time.sleep(1.5)
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=10)
    header, *rows = out.strip().splitlines()
    assert header.split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"], err
    assert len(rows) >= 2  # the listed pod, then its change from the watch (no second header)
    assert all(r.startswith("postgres-") and r.split()[1:3] == ["1/1", "Running"] for r in rows), out


def test_custom_resources_print_their_crd_columns(cluster: Sandbox) -> None:
    out = kubectl(cluster, "get", "applications", "-n", "argocd")
    header, row = out.strip().splitlines()
    assert header.split() == ["NAME", "SYNC", "STATUS", "HEALTH", "STATUS"]
    app = json.loads(kubectl(cluster, "get", "application", "sandbox-apps", "-n", "argocd", "-o", "json"))
    status = app["status"]
    assert row.split() == ["sandbox-apps", status["sync"]["status"], status["health"]["status"]]
    assert status["sync"]["status"] in ("Synced", "OutOfSync")
    wide = kubectl(cluster, "get", "app", "sandbox-apps", "-n", "argocd", "-o", "wide")
    assert wide.splitlines()[0].split()[-1] == "REVISION" and len(wide.splitlines()[1].split()[-1]) == 40
    cms = kubectl(cluster, "get", "configmaps", "-n", "shop")
    assert cms.splitlines()[0].split() == ["NAME", "DATA", "AGE"]
    services = kubectl(cluster, "get", "svc", "web-api", "-n", "shop")
    assert services.splitlines()[1].split()[2].startswith("10.")  # an allocated CLUSTER-IP


def test_invalid_patch_is_refused_with_the_servers_reasons(cluster: Sandbox) -> None:
    patch = '{"spec":{"template":{"spec":{"containers":[{"name":"app","resources":' \
        '{"requests":{"memory":"2Gi"},"limits":{"memory":"1Gi"}}}]}}}}'  # fmt: skip
    out = kubectl(cluster, "patch", "deploy", "web-api", "-n", "shop", "-p", patch, check=False)
    assert 'The Deployment "web-api" is invalid' in out
    assert 'spec.template.spec.containers[0].resources.requests: Invalid value: "2Gi"' in out
    limits = kubectl(
        cluster, "get", "deploy", "web-api", "-n", "shop",
        "-o", "jsonpath={.spec.template.spec.containers[0].resources.limits.memory}",
    )  # fmt: skip
    assert limits != "1Gi"


def test_delete_with_orphan_cascade_keeps_the_replicaset(cluster: Sandbox, tmp_path: Path) -> None:
    _, path = _sleeper(tmp_path, "orphaned", container="c")
    kubectl(cluster, "apply", "-f", str(path))
    rs_names = lambda: kubectl(cluster, "get", "rs", "-n", "shop", "-l", "app=orphaned", "-o", "name").split()  # noqa: E731
    assert eventually(lambda: len(rs_names()) == 1, timeout=30.0, interval=0.3)
    assert "deleted" in kubectl(cluster, "delete", "deploy", "orphaned", "-n", "shop", "--cascade=orphan")
    time.sleep(1.0)  # the garbage collector would have acted by now
    rs = json.loads(kubectl(cluster, "get", "rs", "-n", "shop", "-l", "app=orphaned", "-o", "json"))["items"]
    assert len(rs) == 1 and not rs[0]["metadata"].get("ownerReferences")
    kubectl(cluster, "delete", "rs", "-n", "shop", "-l", "app=orphaned", "--cascade=foreground")
    assert kubectl(cluster, "get", "pods", "-n", "shop", "-l", "app=orphaned", "-o", "name").strip() == ""


def test_discovery_is_aggregated_two_requests_with_a_cold_cache(cluster: Sandbox, tmp_path: Path) -> None:
    # A cold cache (a fresh sandbox's port is new to kubectl): /api and /apis answer for every
    # group-version, as a 1.30 API server does, instead of one request per group-version.
    out = kubectl(
        cluster, "get", "pods", "-n", "shop", "-v=6", "--cache-dir", str(tmp_path / "cache"), check=False
    )
    requests = [line.split(" GET ")[1].split()[0] for line in out.splitlines() if " GET http" in line]
    paths = [url.split("/", 3)[3].split("?")[0] for url in requests]
    assert paths == ["api", "apis", "api/v1/namespaces/shop/pods"], out
    # what kubectl learnt from them: a group's resources with their short names, verbs and categories
    rows = kubectl(
        cluster, "api-resources", "-o", "wide", "--cache-dir", str(tmp_path / "cache")
    ).splitlines()
    deployments = next(r.split() for r in rows if r.startswith("deployments "))
    assert deployments[:5] == ["deployments", "deploy", "apps/v1", "true", "Deployment"]
    assert deployments[5:] == ["create,delete,deletecollection,get,list,patch,update,watch", "all"]
    assert any(r.split()[:3] == ["applications", "app,apps", "argoproj.io/v1alpha1"] for r in rows), rows
