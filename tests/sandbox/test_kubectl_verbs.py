"""The real kubectl's everyday verbs against the sandbox: `create` generators (sent as protobuf), expose,
scale, rollout, delete, logs (--previous), get -o wide and describe of the workload kinds."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from sandbox.cluster import Sandbox
from tests.polling import eventually
from tests.sandbox.kubectl import run_kubectl

KUBECTL = shutil.which("kubectl")
pytestmark = [pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed"), pytest.mark.process]
NS = "verbs"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with Sandbox(workdir=tmp_path_factory.mktemp("verbs"), seed=5, time_factor=60.0) as sb:
        run(sb, "create", "namespace", NS)
        yield sb


def run(sb: Sandbox, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return run_kubectl(sb, *args, timeout=90, check=check)


def as_json(sb: Sandbox, *args: str) -> dict:
    return json.loads(run(sb, *args, "-o", "json").stdout)


def test_create_generators_store_what_kubectl_meant(cluster: Sandbox) -> None:
    generators = [
        ("configmap", "app-config", ["--from-literal=MODE=prod", "--from-literal=LEVEL=debug"]),
        ("secret", "db", ["generic", "--from-literal=password=s3cret"]),
        ("serviceaccount", "builder", []),
        ("deployment", "web", ["--image=nginx:1.27", "--replicas=2", "--port=80"]),
        ("job", "hello", ["--image=busybox:1.36", "--", "sh", "-c", "echo hello from a job"]),
        ("role", "reader", ["--verb=get,list", "--resource=pods"]),
        ("quota", "small", ["--hard=pods=50,configmaps=20"]),
        ("pdb", "web", ["--selector=app=web", "--min-available=1"]),
        ("ingress", "web", ["--class=nginx", "--rule=web.example.local/*=web:80"]),
    ]
    intents: dict[tuple[str, str], dict] = {}
    for kind, name, extra in generators:
        args = [
            "create",
            kind,
            *([extra[0]] if kind == "secret" else []),
            name,
            *([] if kind == "secret" else extra),
        ]
        if kind == "secret":
            args += extra[1:]
        command: list[str] = []
        if "--" in args:  # the command goes last
            at = args.index("--")
            args, command = args[:at], args[at:]
        args += ["-n", NS]
        intents[(kind, name)] = json.loads(
            run(cluster, *args, "--dry-run=client", "-o", "json", *command).stdout
        )
        args += command
        out = run(cluster, *args)
        assert "created" in out.stdout, out.stdout
    # What the server stored, read back in one `get` (a kubectl process costs ~0.1 s of CPU)
    listed = as_json(cluster, "get", *(f"{kind}/{name}" for kind, name, _ in generators), "-n", NS)["items"]
    assert len(listed) == len(generators)
    for (kind, name, _), stored in zip(generators, listed, strict=True):
        assert stored["metadata"]["name"] == name, (kind, stored["kind"])
        intended = intents[(kind, name)]
        assert stored["kind"] == intended["kind"], kind
        for key in ("data", "rules", "type"):
            if key in intended:
                assert stored[key] == intended[key], (kind, key)
        if kind in ("deployment", "job"):
            want = intended["spec"]["template"]["spec"]["containers"][0]
            have = stored["spec"]["template"]["spec"]["containers"][0]
            for key in ("name", "image", "command"):
                assert have.get(key) == want.get(key), (kind, key)
    job = listed[[kind for kind, _, _ in generators].index("job")]
    uid = job["metadata"]["uid"]
    assert job["spec"]["selector"]["matchLabels"] == {"batch.kubernetes.io/controller-uid": uid}
    labels = job["spec"]["template"]["metadata"]["labels"]
    assert labels["controller-uid"] == uid and labels["batch.kubernetes.io/job-name"] == "hello"


def test_a_job_completes_and_its_logs_and_columns_show_it(cluster: Sandbox) -> None:
    run(
        cluster,
        "create",
        "job",
        "once",
        "--image=busybox:1.36",
        "-n",
        NS,
        "--",
        "sh",
        "-c",
        "echo done and dusted",
    )
    assert eventually(
        lambda: "Complete" in run(cluster, "get", "job", "once", "-n", NS).stdout, timeout=40.0, interval=0.3
    )
    wide = run(cluster, "get", "job", "once", "-n", NS, "-o", "wide").stdout.splitlines()
    assert wide[0].split()[:5] == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]
    assert wide[1].split()[1:3] == ["Complete", "1/1"]
    assert "done and dusted" in run(cluster, "logs", "job/once", "-n", NS).stdout
    described = run(cluster, "describe", "job", "once", "-n", NS).stdout
    assert "Pods Statuses:    0 Active (0 Ready) / 1 Succeeded / 0 Failed" in described
    assert "SuccessfulCreate" in described and "Completed" in described


def test_expose_scale_rollout_undo_and_delete(cluster: Sandbox) -> None:
    run(cluster, "create", "deployment", "api", "--image=nginx:1.27", "-n", NS)
    assert "exposed" in run(cluster, "expose", "deployment", "api", "--port=80", "-n", NS).stdout
    assert run(cluster, "get", "svc", "api", "-n", NS, "-o", "jsonpath={.spec.selector.app}").stdout == "api"
    run(cluster, "scale", "deployment", "api", "--replicas=3", "-n", NS)
    assert (
        "successfully rolled out"
        in run(cluster, "rollout", "status", "deployment/api", "-n", NS, "--timeout=60s").stdout
    )
    pods = as_json(cluster, "get", "pods", "-n", NS, "-l", "app=api")["items"]
    assert len({p["spec"]["nodeName"] for p in pods}) > 1, "the scheduler spreads a Deployment's pods"
    run(cluster, "rollout", "restart", "deployment/api", "-n", NS)
    assert (
        "successfully rolled out"
        in run(cluster, "rollout", "status", "deployment/api", "-n", NS, "--timeout=60s").stdout
    )
    history = run(cluster, "rollout", "history", "deployment/api", "-n", NS).stdout
    assert "1 " in history and "2 " in history
    assert "rolled back" in run(cluster, "rollout", "undo", "deployment/api", "-n", NS).stdout
    assert "deleted" in run(cluster, "delete", "deployment", "api", "-n", NS).stdout
    assert eventually(
        lambda: not as_json(cluster, "get", "pods", "-n", NS, "-l", "app=api")["items"],
        timeout=40.0,
        interval=0.3,
    )


def test_logs_previous_of_a_crash_looping_pod(cluster: Sandbox) -> None:
    run(
        cluster,
        "run",
        "crasher",
        "--image=busybox:1.36",
        "-n",
        NS,
        "--command",
        "--",
        "sh",
        "-c",
        "echo about to fail; exit 3",
    )

    def restarted() -> bool:
        pod = as_json(cluster, "get", "pod", "crasher", "-n", NS)
        return any(cs.get("restartCount", 0) >= 1 for cs in pod["status"].get("containerStatuses") or [])

    assert eventually(restarted, timeout=40.0, interval=0.3)
    previous = run(cluster, "logs", "crasher", "-n", NS, "--previous").stdout
    assert "about to fail" in previous
    status = run(cluster, "get", "pod", "crasher", "-n", NS, "--no-headers").stdout.split()[2]
    assert status in ("CrashLoopBackOff", "Error", "Completed", "Running")


def test_statefulset_daemonset_and_claims_show_in_wide_and_describe(cluster: Sandbox) -> None:
    manifest = """
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: kv, namespace: verbs}
spec:
  serviceName: kv
  replicas: 2
  selector: {matchLabels: {app: kv}}
  template:
    metadata: {labels: {app: kv}}
    spec:
      containers: [{name: redis, image: "redis:7", volumeMounts: [{name: data, mountPath: /data}]}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: verbs}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: agent, image: "busybox:1.36", command: [sh, -c, "while true; do sleep 60; done"]}]
"""
    run_kubectl(cluster, "apply", "-f", "-", stdin=manifest, timeout=60, check=True)
    assert eventually(
        lambda: run(cluster, "get", "sts", "kv", "-n", NS, "--no-headers").stdout.split()[1] == "2/2",
        timeout=40.0,
        interval=0.3,
    )
    assert eventually(
        lambda: run(cluster, "get", "ds", "agent", "-n", NS, "--no-headers").stdout.split()[3] == "3",
        timeout=40.0,
        interval=0.3,
    )
    claims = run(cluster, "get", "pvc", "-n", NS, "--no-headers").stdout
    assert "data-kv-0" in claims and "Bound" in claims and "standard" in claims
    described = run(cluster, "describe", "sts", "kv", "-n", NS).stdout
    assert "create Pod kv-1 in StatefulSet kv successful" in described
    assert "Pods Status:" in described
