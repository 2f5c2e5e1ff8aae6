"""The composed sandbox: sample apps come up healthy; every catalogue fault shows the symptoms its ground
truth promises, a wrong fix leaves it broken and the right fix (a commit to `main`) heals it.

Reads go over real HTTP through the official `kubernetes` client; time is stepped (not waited
for), so a crash loop's minutes of simulated time take well under a second.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config

from sandbox.cluster import SYSTEM_NAMESPACES, Sandbox
from sandbox.faults import FaultCategory, InjectedFault, Symptoms
from sandbox.gitops import APPLICATIONS
from sandbox.resources import CONFIGMAPS, DEPLOYMENTS, NAMESPACES, NODES, PODS

Obj = dict[str, Any]
SYMPTOM_DEADLINE = 600.0  # simulated seconds for a fault to show
HEAL_DEADLINE = 900.0


class View:
    """What a client of the cluster sees, as plain API JSON, over HTTP."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sb = sandbox
        self.api = config.new_client_from_config(str(sandbox.kubeconfig_path))
        self.core = client.CoreV1Api(self.api)
        self.apps = client.AppsV1Api(self.api)

    @staticmethod
    def _json(resp: Any) -> Obj:
        return json.loads(resp.data)

    def deployment(self, ns: str, name: str) -> Obj:
        return self._json(self.apps.read_namespaced_deployment(name, ns, _preload_content=False))

    def pods(self, ns: str, selector: dict[str, str]) -> list[Obj]:
        label_selector = ",".join(f"{k}={v}" for k, v in selector.items())
        resp = self.core.list_namespaced_pod(ns, label_selector=label_selector, _preload_content=False)
        return self._json(resp)["items"]

    def events(self, ns: str) -> list[Obj]:
        return self._json(self.core.list_namespaced_event(ns, _preload_content=False))["items"]

    def logs(self, ns: str, pod: str, container: str, previous: bool) -> str:
        try:
            return self.core.read_namespaced_pod_log(pod, ns, container=container, previous=previous)
        except client.ApiException:
            return ""

    def metrics(self) -> str:
        # Through the client's connection pool: `httpx.get` builds a TLS context per call (~40 ms of
        # CPU), and `observed` asks for the metrics every simulated second while it waits.
        url = f"{self.sb.url}/metrics"
        response = self.api.rest_client.pool_manager.request("GET", url, timeout=10)
        assert response.status == 200, response.status
        return str(response.data.decode())


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=7, background=False) as sb:
        sb.wait_healthy(timeout=20)
        yield sb


def workload_of(sb: Sandbox, resource: str) -> tuple[str, str]:
    _, _, rest = resource.partition(" ")
    ns, _, name = rest.partition("/")
    return ns, name


def observed(view: View, symptoms: Symptoms) -> list[str]:
    """Which promised symptoms are missing right now (empty: all present)."""
    ns, name = workload_of(view.sb, symptoms.workload)
    dep = view.deployment(ns, name)
    pods = view.pods(ns, dep["spec"]["selector"]["matchLabels"])
    statuses = [cs for p in pods for cs in p.get("status", {}).get("containerStatuses") or []]
    missing = []
    if symptoms.waiting_reasons:
        waiting = {(cs.get("state") or {}).get("waiting", {}).get("reason") for cs in statuses}
        if not waiting & set(symptoms.waiting_reasons):
            missing.append(f"waiting {symptoms.waiting_reasons} (saw {waiting})")
    if symptoms.last_terminated_reason:
        terminated = [(cs.get("lastState") or {}).get("terminated") or {} for cs in statuses]
        if not any(
            t.get("reason") == symptoms.last_terminated_reason
            and (symptoms.exit_code is None or t.get("exitCode") == symptoms.exit_code)
            for t in terminated
        ):
            missing.append(f"lastState.terminated {symptoms.last_terminated_reason}/{symptoms.exit_code}")
    if symptoms.pod_phase and not any(p["status"].get("phase") == symptoms.pod_phase for p in pods):
        missing.append(f"phase {symptoms.pod_phase}")
    if symptoms.pod_reason and not any(p["status"].get("reason") == symptoms.pod_reason for p in pods):
        missing.append(f"pod reason {symptoms.pod_reason}")
    if symptoms.not_ready and not any(
        p["status"].get("phase") == "Running" and not cs.get("ready")
        for p in pods
        for cs in p["status"].get("containerStatuses") or []
    ):
        missing.append("a Running pod that is not Ready")
    if symptoms.restarts and not any(cs.get("restartCount", 0) > 0 for cs in statuses):
        missing.append("restarts")
    if symptoms.event_reasons:
        names = {p["metadata"]["name"] for p in pods}
        reasons = {e.get("reason") for e in view.events(ns) if e["involvedObject"].get("name") in names}
        absent = set(symptoms.event_reasons) - reasons
        if absent:
            missing.append(f"events {absent} (saw {reasons})")
    if symptoms.log_pattern:
        texts = [
            view.logs(ns, p["metadata"]["name"], c["name"], prev)
            for p in pods
            for c in p["spec"]["containers"]
            for prev in (False, True)
        ]
        if not any(re.search(symptoms.log_pattern, t) for t in texts):
            missing.append(f"log /{symptoms.log_pattern}/")
    if symptoms.metric and not metric_shows(view.metrics(), symptoms.metric, name):
        missing.append(f"metric {symptoms.metric}")
    return missing


def metric_shows(text: str, selector: str, workload: str) -> bool:
    """A series of `selector` about the workload; counts must be > 0, replicas == 0."""
    m = re.match(r"^(\w+)(?:\{(.*)\})?$", selector)
    assert m, selector
    metric, matchers = m.group(1), m.group(2) or ""
    wanted = re.findall(r'(\w+)(=~|=)"([^"]*)"', matchers)
    for line in text.splitlines():
        if not line.startswith(metric + "{") and not line.startswith(metric + " "):
            continue
        labels = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
        value = float(line.rsplit(" ", 1)[1])
        if (
            not any(v == workload or v.startswith(workload + "-") for v in labels.values())
            and "node" not in selector
        ):
            continue
        matches = all(
            re.fullmatch(v, labels.get(k, "")) if op == "=~" else labels.get(k) == v for k, op, v in wanted
        )
        if matches and ((value == 0) if metric == "kube_deployment_spec_replicas" else (value > 0)):
            return True
    return False


def live_objects(sb: Sandbox, fault: InjectedFault) -> dict[str, Obj]:
    """The live objects the ground truth's checks name."""
    objects = {}
    for alternative in fault.truth.fixes:
        for check in alternative:
            kind, _, rest = check.resource.partition(" ")
            rt = {"Deployment": DEPLOYMENTS, "ConfigMap": CONFIGMAPS, "Node": NODES}[kind]
            ns, _, name = rest.rpartition("/")
            obj = sb.store.find(rt, ns, name)
            if obj is not None:
                objects[check.resource] = obj
    return objects


def restart_counts(view: View, ns: str, name: str) -> dict[str, int]:
    dep = view.deployment(ns, name)
    pods = view.pods(ns, dep["spec"]["selector"]["matchLabels"])
    return {
        p["metadata"]["name"]: sum(
            cs.get("restartCount", 0) for cs in p["status"].get("containerStatuses") or []
        )
        for p in pods
    }


WEB = "shop/deploy/web-api"
WEB_DEP = "Deployment shop/web-api"


def container_patch(name: str, **fields: object) -> Obj:
    """A strategic-merge patch of one container of a Deployment."""
    return {"spec": {"template": {"spec": {"containers": [{"name": name, **fields}]}}}}


# fault -> (target, a wrong fix: (resource, strategic-merge patch) that must leave it broken)
CASES: dict[str, tuple[str, tuple[str, Obj]]] = {
    "oom": (
        WEB,
        (
            WEB_DEP,
            container_patch("app", resources={"limits": {"memory": "128Mi"}, "requests": {"memory": "64Mi"}}),
        ),
    ),
    "bad_image": (WEB, (WEB_DEP, container_patch("app", image="ghcr.io/paramedic-demo/web-api:1.5.1"))),
    "missing_env": (
        WEB,
        (WEB_DEP, container_patch("app", env=[{"name": "DB_URL", "value": "postgres://db:5432/x"}])),
    ),
    "missing_config_key": (
        WEB,
        ("ConfigMap shop/web-api-config", {"data": {"DATABASE_UR": "postgres://x:5432/y"}}),
    ),
    "missing_secret": (WEB, (WEB_DEP, {"metadata": {"annotations": {"note": "secret requested"}}})),
    "bad_command": (
        "shop/deploy/worker",
        ("Deployment shop/worker", container_patch("worker", args=["--loglvel=debug", "--concurrency=4"])),
    ),
    "readiness_probe": (
        WEB,
        (WEB_DEP, container_patch("app", readinessProbe={"httpGet": {"path": "/health"}})),
    ),
    "liveness_probe": (
        WEB,
        (WEB_DEP, container_patch("app", livenessProbe={"httpGet": {"path": "/health"}})),
    ),
    "unschedulable": (WEB, (WEB_DEP, container_patch("app", resources={"requests": {"cpu": "12"}}))),
    "dependency_down": (WEB, (WEB_DEP, {"spec": {"replicas": 3}})),
    "bad_config_value": (WEB, ("ConfigMap shop/web-api-config", {"data": {"POOL_SIZE": "500"}})),
    "scaled_to_zero": (
        "shop/deploy/worker",
        ("Deployment shop/worker", {"metadata": {"labels": {"tier": "jobs"}}}),
    ),
    "node_pressure": (WEB, (WEB_DEP, container_patch("app", resources={"limits": {"memory": "512Mi"}}))),
}


def test_sample_apps_come_up_healthy_and_synced(sandbox: Sandbox) -> None:
    view = View(sandbox)
    app = sandbox.store.get(APPLICATIONS, "argocd", "sandbox-apps")["status"]
    assert app["sync"]["status"] == "Synced" and app["health"]["status"] == "Healthy"
    for name, replicas in {"web-api": 2, "worker": 1, "joke-service": 1, "postgres": 1, "redis": 1}.items():
        dep = view.deployment("shop", name)
        assert dep["status"].get("availableReplicas") == replicas, name
    assert "container_memory_working_set_bytes" in view.metrics()
    # Synced means synced: the fields the API server defaults (a port's protocol, a container's
    # imagePullPolicy) are not drift, so later passes apply and record nothing (no sync every 5 s).
    history = len(app.get("history") or [])
    sandbox.advance(60)
    report = sandbox.gitops.sync_once()
    assert report.synced and report.operation_phase is None, report
    assert (
        len(sandbox.store.get(APPLICATIONS, "argocd", "sandbox-apps")["status"].get("history") or [])
        == history
    )


def test_a_bare_sandbox_runs_no_sample_apps_and_deploys_what_git_gets(tmp_path: Path) -> None:
    with Sandbox(workdir=tmp_path / "sb", seed=1, background=False, sample_apps=False) as sb:
        sb.wait_healthy(timeout=10)
        assert sb.store.find(NAMESPACES, "", "shop") is None and not sb.store.list(PODS)[0]
        assert {n["metadata"]["name"] for n in sb.store.list(NAMESPACES)[0]} == {*SYSTEM_NAMESPACES, "argocd"}
        sb.commit({"apps/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: team}\n"}, "team")
        assert sb.store.find(NAMESPACES, "", "team") is not None


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CASES))
def test_fault_shows_wrong_fix_fails_right_fix_heals(name: str, sandbox: Sandbox) -> None:
    target, (wrong_resource, wrong_patch) = CASES[name]
    view = View(sandbox)
    fault = sandbox.inject(name, target)
    truth = fault.truth
    assert truth.category == FaultCategory(name)
    if fault.commit:
        assert (
            sandbox.store.get(APPLICATIONS, "argocd", "sandbox-apps")["status"]["sync"]["revision"]
            == fault.commit
        )

    # 1. the symptoms the ground truth promises appear within the deadline
    assert sandbox.wait_for(lambda: not observed(view, truth.symptoms), SYMPTOM_DEADLINE), observed(
        view, truth.symptoms
    )

    # 2. a wrong fix, committed to main, leaves it broken
    sandbox.commit_patch(wrong_resource, wrong_patch, f"attempt to fix {name} (wrong)")
    sandbox.advance(120)
    assert not truth.is_fixed(live_objects(sandbox, fault))
    assert not observed(view, truth.symptoms) or not sandbox.healthy()

    # 3. the right fix heals it: the ground truth's patch committed to main (or, for node pressure, relief)
    if truth.fix_in_git:
        sandbox.commit_patch(truth.faulty_resource, truth.fix_patch, f"fix {name}")
    else:
        sandbox.clear(fault)
    assert truth.is_fixed(live_objects(sandbox, fault))
    assert sandbox.wait_for(sandbox.healthy, HEAL_DEADLINE), sandbox.gitops.last_report
    ns, workload = workload_of(sandbox, truth.symptoms.workload)
    before = restart_counts(view, ns, workload)
    sandbox.advance(120)
    assert restart_counts(view, ns, workload) == before, "restart counts must be stable once healed"
    assert sandbox.healthy()


@pytest.mark.slow
def test_background_sandbox_runs_in_real_time_and_stops_cleanly(tmp_path) -> None:
    import socket
    import threading
    from urllib.parse import urlsplit

    before = {t.ident for t in threading.enumerate()}
    sb = Sandbox(workdir=tmp_path / "work", seed=3, time_factor=120.0)
    with sb:
        sb.wait_healthy(timeout=30)
        assert sb.repo_path == tmp_path / "work" / "gitops" and sb.kubeconfig_path.is_file()
        view = View(sb)
        fault = sb.inject("missing_env", "shop/deploy/worker")
        assert sb.wait_for(lambda: not observed(view, fault.truth.symptoms), SYMPTOM_DEADLINE)
        sb.clear(fault)
        sb.wait_healthy(timeout=30)
        parts = urlsplit(sb.url)
    leftover = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()]
    assert leftover == [], leftover
    with socket.socket() as s:
        assert s.connect_ex((parts.hostname, parts.port)) != 0, "the API port must be freed"
    assert (tmp_path / "work" / "gitops").is_dir(), "a work dir the caller gave is kept"
