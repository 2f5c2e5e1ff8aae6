"""Benchmark: what redaction costs, per evidence bundle and as a share of a diagnosis.

1. A realistic bundle, redacted the way the boundary will redact it: a Deployment (with its
   `last-applied-configuration`), its ReplicaSet and 5 pods through `redact_data`; 500 log lines,
   30 events and a 150-line commit diff through `redact`. Reported: time per bundle (p50, p95)
   and throughput.
2. With `--diagnosis`: the analyst's work on the sandbox for a few faults (evidence gathered from
   the cluster and Git, then the rules reasoner's diagnosis), timed end to end, with the time
   spent inside the redactor during it measured separately; plus the bundle time from (1) as the
   cost of redacting everything the boundary will see once more, set against the diagnosis time.

Run: `.venv/bin/python bench/bench_redaction.py [--rounds 30] [--diagnosis]`. Results:
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tools.redaction import DEFAULT_REDACTOR, redact, redact_data

DIGEST = "9784f7985f6fba493ba30fb68419f50484fee8faaf677216cb95826f8491d2e9"
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SECRET_ENV = {"DB_PASSWORD": "Pl4ntedDbPw", "API_TOKEN": "tok_2b7e151628aed2a6abf71588",
              "CLOUD_CREDS": "AKIAJHYYXWU9NWHP5WD5"}  # fmt: skip


FAULTS = (("bad_image", "web-api"), ("missing_env", "worker"), ("bad_command", "joke-service"))


def _container(name: str, image: str) -> dict[str, Any]:
    env = [{"name": f"SETTING_{i}", "value": f"value-{i}"} for i in range(12)]
    env += [{"name": k, "value": v} for k, v in SECRET_ENV.items()]
    env.append({"name": "DATABASE_URL", "value": "postgres://app:Pl4ntedDbPw@postgres.shop:5432/shop"})
    env.append({"name": "PARTNER_KEY", "valueFrom": {"secretKeyRef": {"name": "partner", "key": "api-key"}}})
    return {
        "name": name,
        "image": image,
        "command": ["/app/server"],
        "args": ["--port=8080", "--log-level=info", "--db-password", "Pl4ntedDbPw"],
        "env": env,
        "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}},
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 10},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}, "periodSeconds": 5},
    }


def _pod_template() -> dict[str, Any]:
    return {
        "metadata": {"labels": {"app": "checkout", "pod-template-hash": "7d9f8b6c5d"},
                     "annotations": {"example.com/api-token": "4nn0tat10nT0ken"}},
        "spec": {"containers": [_container("checkout", "ghcr.io/acme/checkout:2.3.1"),
                                _container("sidecar", "ghcr.io/acme/proxy:1.9.0")],
                 "serviceAccountName": "checkout", "imagePullSecrets": [{"name": "ghcr"}]},
    }  # fmt: skip


def bundle() -> tuple[list[dict[str, Any]], list[str]]:
    """(objects for redact_data, texts for redact) of one incident's evidence."""
    rng = random.Random(7)
    deployment: dict[str, Any] = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "checkout", "namespace": "shop", "labels": {"app": "checkout"},
                     "annotations": {"deployment.kubernetes.io/revision": "7"}},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "checkout"}},
                 "template": _pod_template()},
        "status": {"replicas": 3, "readyReplicas": 1, "conditions": [
            {"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable"}]},
    }  # fmt: skip
    deployment["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = json.dumps(
        {k: deployment[k] for k in ("apiVersion", "kind", "metadata", "spec")}
    )
    replicaset = {"kind": "ReplicaSet", "metadata": {"name": "checkout-7d9f8b6c5d", "namespace": "shop"},
                  "spec": {"replicas": 3, "template": _pod_template()}}  # fmt: skip
    pods = []
    for i in range(5):
        pod = {"kind": "Pod", "metadata": {"name": f"checkout-7d9f8b6c5d-{i:05x}", "namespace": "shop",
                                           "uid": f"3f2a9c1e-0b7d-4a5f-9e8c-9d0b1a2f3e{i:02x}"},
               **_pod_template()}  # fmt: skip
        terminated = {"reason": "Error", "exitCode": 1,
                      "message": "panic: dial postgres://app:Pl4ntedDbPw@postgres.shop:5432"}
        pod["status"] = {"phase": "Running", "containerStatuses": [{
            "name": "checkout", "image": "ghcr.io/acme/checkout:2.3.1", "restartCount": 12 + i,
            "imageID": f"ghcr.io/acme/checkout@sha256:{DIGEST}",
            "lastState": {"terminated": terminated}}]}  # fmt: skip
        pods.append(pod)
    templates = [
        "{ts} INFO  [http-nio-8080-exec-{n}] c.a.checkout.OrderController : POST /api/v1/orders 201 {ms}ms",
        "{ts} WARN  [HikariPool-1 housekeeper] c.z.h.p.HikariPool : Thread starvation (delta={ms}ms)",
        '10.0.{n}.5 - - [01/May/2024:10:00:00 +0000] "GET /api/v1/orders?page={n} HTTP/1.1" 200 1532',
        '{{"level":"error","ts":"{ts}","msg":"payment failed","order":"{n}","trace_id":"' + TRACE + '"}}',
        "{ts} ERROR c.a.checkout.PaymentClient : upstream 503 from payments.shop.svc:8443 after {ms}ms",
        "\tat com.acme.checkout.PaymentClient.charge(PaymentClient.java:{n})",
        "{ts} DEBUG connecting to postgres://app:Pl4ntedDbPw@postgres.shop:5432/shop (attempt {n})",
        "{ts} INFO  request user=u{n} Authorization: Bearer abcdef0123456789abcdef{n}",
    ]
    logs = "\n".join(
        templates[rng.randrange(len(templates))].format(
            ts=f"2024-05-01T10:{i // 60:02d}:{i % 60:02d}.123Z", n=rng.randrange(1000), ms=rng.randrange(900)
        )
        for i in range(500)
    )
    events = "\n".join(
        f"Warning BackOff x{i} pod/checkout-7d9f8b6c5d-{i:05x}: Back-off restarting failed container checkout"
        for i in range(30)
    )
    diff_lines = ["diff --git a/apps/shop/checkout.yaml b/apps/shop/checkout.yaml", "@@ -1,150 +1,150 @@"]
    for i in range(150):
        if i == 40:
            diff_lines += ["           - name: DB_PASSWORD", "-            value: 0ldDiffPw",
                           "+            value: n3wDiffPw"]  # fmt: skip
        diff_lines.append(f" {'  ' * (i % 5)}key{i}: value-{i}")
    return [deployment, replicaset, *pods], [logs, events, "\n".join(diff_lines)]


def redact_bundle(objects: list[dict[str, Any]], texts: list[str]) -> None:
    """Everything in one bundle through the redactor (what the boundary will do)."""
    for obj in objects:
        redact_data(obj)
    for text in texts:
        redact(text)


def _check(objects: list[dict[str, Any]], texts: list[str]) -> None:
    dumped = json.dumps([redact_data(o) for o in objects]) + "".join(redact(t) for t in texts)
    leaked = [s for s in (*SECRET_ENV.values(), "4nn0tat10nT0ken", "0ldDiffPw", "n3wDiffPw") if s in dumped]
    if leaked:
        raise SystemExit(f"the bench bundle leaked {leaked}: redaction is broken")


def bench_bundle(rounds: int) -> float:
    """CPU time per bundle (s, median); prints the figures.

    CPU time of this process is reported beside wall time: on a shared machine the wall time
    mostly measures the other processes.
    """
    objects, texts = bundle()
    _check(objects, texts)
    size = sum(len(json.dumps(o)) for o in objects) + sum(len(t) for t in texts)
    walls, cpus = [], []
    for _ in range(rounds):
        wall, cpu = time.perf_counter(), time.process_time()
        redact_bundle(objects, texts)
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    cpus.sort()
    walls.sort()
    cpu50, cpu95 = statistics.median(cpus), cpus[max(int(len(cpus) * 0.95) - 1, 0)]
    print(f"bundle: 7 objects + 500 log lines + 30 events + 150-line diff = {size / 1024:.0f} KiB")
    print(f"  redaction per bundle: CPU p50 {cpu50 * 1000:.1f} ms, p95 {cpu95 * 1000:.1f} ms "
          f"({size / cpu50 / 1e6:.1f} MB/s); wall p50 {statistics.median(walls) * 1000:.1f} ms; "
          f"{rounds} rounds")  # fmt: skip
    return cpu50


class _Meter:
    """Wall and thread-CPU time spent in the default redactor (nested calls counted once)."""

    def __init__(self) -> None:
        self.wall = self.cpu = 0.0
        self._depth = 0

    def wrap(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            self._depth += 1
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self.wall += time.perf_counter() - wall
                    self.cpu += time.thread_time() - cpu

        return timed


def bench_diagnosis(bundle_seconds: float) -> None:
    """The analyst's work on the sandbox for a few faults, and redaction's share of it."""
    from agent.config import Mode, Settings
    from agent.domain import Incident, Trigger, WorkloadRef
    from graph.breaker import InMemoryBreakerStore
    from graph.context_factory import build_context
    from paramedic.sandbox_wiring import sandbox_settings
    from sandbox.cluster import Sandbox
    from tools.kubernetes import KubeClient
    from tools.result import discard

    meter = _Meter()
    DEFAULT_REDACTOR._spans = meter.wrap(DEFAULT_REDACTOR._spans)  # type: ignore[method-assign]
    work = Path(tempfile.mkdtemp(prefix="bench-redaction-"))
    with Sandbox(workdir=work / "sb", seed=3) as sb:
        sb.wait_healthy(timeout=60)
        settings = sandbox_settings(Settings(), sb, work / "data", mode=Mode.REPORT)
        kube = KubeClient.from_config(str(sb.kubeconfig_path))
        deps = build_context(settings, kube=kube, breaker_store=InMemoryBreakerStore())
        for fault, name in FAULTS:
            record = sb.inject(fault, f"shop/deploy/{name}")
            sb.advance(120)
            target = WorkloadRef(namespace="shop", name=name)
            incident = Incident(id=f"bench-{name}", fingerprint=name, target=target, trigger=Trigger.MANUAL,
                                reason="bench")  # fmt: skip
            for attempt in ("cold", "warm"):  # the first read of a workload warms caches and Git
                meter.wall = meter.cpu = 0.0
                start = time.perf_counter()
                evidence = deps.gather(target, discard)
                result = deps.reasoner.diagnose(incident, evidence)
                wall = time.perf_counter() - start
                category = result.diagnosis.category.value
                print(f"{fault:<12} {name:<13} {attempt}: diagnosis {wall * 1000:5.0f} ms wall ({category}); "
                      f"redaction inside it {meter.cpu * 1000:4.1f} ms CPU ({meter.cpu / wall:.1%}), "
                      f"{meter.wall * 1000:4.0f} ms wall ({meter.wall / wall:.1%}); a second full pass over "
                      f"a bundle like the one above adds {bundle_seconds * 1000:.0f} ms CPU "
                      f"({bundle_seconds / wall:.1%})")  # fmt: skip
            sb.clear(record)
            sb.wait_healthy(timeout=60)
        kube.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--diagnosis", action="store_true", help="also time diagnoses on the sandbox")
    args = parser.parse_args()
    seconds = bench_bundle(args.rounds)
    if args.diagnosis:
        bench_diagnosis(seconds)


if __name__ == "__main__":
    main()
