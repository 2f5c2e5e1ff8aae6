"""Run one fidelity case (format: FIDELITY_FORMAT.md) against a fresh sandbox with the real kubectl.

`run_case` starts a bare stepped sandbox (no sample apps), creates the namespace and applies the
manifests with the real `kubectl` (its kubeconfig), lets `settle_seconds` of simulated time pass,
and gathers what kubectl shows, read over HTTP from what kubectl prints it from (a kubectl process
costs ~0.1 s of CPU; test_fidelity's `kubectl_prints_what_the_harness_read` checks that kubectl
prints the same): pods, events, jobs and the objects the case names as `kubectl get -o json` prints
them, the pods' table (the server-side Table's cells) and their logs (the log endpoint's body).
`check_case` compares that with the case's `expect` and returns every mismatch (empty = pass).
"""

from __future__ import annotations

import http.client
import json
import shutil
import subprocess
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sandbox.cluster import Sandbox
from tests.sandbox.fidelity.diagnosis import diagnose
from tests.sandbox.kubectl import run_kubectl

KUBECTL = shutil.which("kubectl")
CASES_DIR = Path(__file__).parent / "cases"
REQUIRED = ("description", "source", "namespace", "settle_seconds", "manifests", "expect")
Obj = dict[str, Any]
# libyaml's safe loader when PyYAML has it: the same documents, a tenth of the CPU (each case is loaded
# twice a run, by the format test and by its own)
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# What `kubectl get pods` asks for: the server prints the table, kubectl shows its cells.
TABLE_ACCEPT = (
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,"
    "application/json"
)


def load_case(path: Path) -> Obj:
    """A case file, checked against the shared format."""
    case = yaml.load(path.read_text(), Loader=_LOADER)
    if not isinstance(case, dict):
        raise ValueError(f"{path.name}: not a mapping")
    missing = [k for k in REQUIRED if k not in case]
    if missing:
        raise ValueError(f"{path.name}: missing {', '.join(missing)}")
    if not str(case["namespace"]).startswith("fid-"):
        raise ValueError(f"{path.name}: namespace must start with fid-")
    if "healthy" not in (case["expect"] or {}):
        raise ValueError(f"{path.name}: expect.healthy is required")
    list(yaml.load_all(case["manifests"], Loader=_LOADER))  # the manifests parse
    return case


@dataclass
class Observed:
    """What kubectl showed after the case settled."""

    apply_rc: int
    apply_output: str
    pods: list[Obj] = field(default_factory=list)  # `kubectl get pods -o json` items
    table: dict[str, dict[str, str]] = field(default_factory=dict)  # pod -> READY/STATUS/RESTARTS cells
    events: list[Obj] = field(default_factory=list)
    logs: dict[str, str] = field(default_factory=dict)  # pod -> its containers' current and previous logs
    # (only of the pods the case checks logs of)
    objects: dict[tuple[str, str], Obj | None] = field(default_factory=dict)
    jobs: list[Obj] = field(default_factory=list)
    diagnosis: str | None = None  # the rules reasoner's category for the case's diagnosis target


def kubectl(sb: Sandbox, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """The real kubectl against the sandbox."""
    return run_kubectl(sb, *args, stdin=stdin)


class _Api:
    """Plain HTTP to the sandbox's API server on one keep-alive connection, for what kubectl only
    passes on: the objects (`get -o json`), the pods' table (`get` prints the server's cells) and the
    logs (`logs` prints the log endpoint's body as it is)."""

    def __init__(self, sb: Sandbox) -> None:
        assert sb.url is not None
        url = urllib.parse.urlsplit(sb.url)
        self._conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)

    def request(self, method: str, path: str, body: Obj | None = None) -> tuple[int, bytes]:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        self._conn.request(method, path, json.dumps(body) if body is not None else None, headers)
        response = self._conn.getresponse()
        return response.status, response.read()

    def create_namespace(self, namespace: str) -> None:
        """The case's namespace, created as `kubectl create namespace` does (one kubectl process
        fewer: the case is about what its manifests reach, not about the namespace)."""
        body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
        status, text = self.request("POST", "/api/v1/namespaces", body)
        if status != 201:
            raise AssertionError(f"create namespace {namespace}: HTTP {status} {text!r}")

    def listed(self, path: str) -> list[Obj]:
        """The items of a list, each with its kind and apiVersion, as `kubectl get -o json` prints them."""
        status, text = self.request("GET", path)
        if status != 200:
            raise AssertionError(f"GET {path}: HTTP {status} {text!r}")
        doc = json.loads(text)
        kind = {"kind": doc["kind"].removesuffix("List"), "apiVersion": doc["apiVersion"]}
        return [{**kind, **item} for item in doc["items"]]

    def named(self, sb: Sandbox, namespace: str, kind: str, name: str) -> Obj | None:
        """The object `kubectl get <kind> <name> -o json` prints, or None (no such object or kind)."""
        rt = next((rt for rt in sb.registry.all() if rt.kind == kind), None)
        if rt is None:
            return None
        prefix = f"/apis/{rt.group}/{rt.version}" if rt.group else f"/api/{rt.version}"
        scope = f"/namespaces/{namespace}" if rt.namespaced else ""
        status, text = self.request("GET", f"{prefix}{scope}/{rt.plural}/{name}")
        return json.loads(text) if status == 200 else None

    def pod_table(self, namespace: str) -> dict[str, dict[str, str]]:
        """Pod -> READY/STATUS/RESTARTS as `kubectl get pods` prints them: the cells of the server-side
        Table it asks for (with the same Accept) and prints as they are."""
        self._conn.request("GET", f"/api/v1/namespaces/{namespace}/pods", headers={"Accept": TABLE_ACCEPT})
        response = self._conn.getresponse()
        text = response.read()
        if response.status != 200:
            raise AssertionError(f"pods table of {namespace}: HTTP {response.status} {text!r}")
        table = json.loads(text)
        names = [c["name"] for c in table["columnDefinitions"]]
        rows = {}
        for row in table["rows"]:
            cells = dict(zip(names, row["cells"], strict=True))
            shown = {"ready": cells["Ready"], "status": cells["Status"], "restarts": cells["Restarts"]}
            rows[str(cells["Name"])] = {key: str(value) for key, value in shown.items()}
        return rows

    def log(self, namespace: str, pod: str, container: str, previous: bool) -> str:
        """What `kubectl logs <pod> -c <container> --previous=<previous>` prints on stdout: the log,
        or nothing when the server refuses (no previous instance, a container not started yet)."""
        query = urllib.parse.urlencode({"container": container, "previous": str(previous).lower()})
        status, text = self.request("GET", f"/api/v1/namespaces/{namespace}/pods/{pod}/log?{query}")
        return text.decode() if status == 200 else ""

    def close(self) -> None:
        self._conn.close()


def _log_pods(case: Obj, pods: list[Obj]) -> list[Obj]:
    """The pods whose logs the case checks (`logs_contain`): only their logs are read."""
    prefixes = [w["name"] for w in (case["expect"] or {}).get("pods") or [] if w.get("logs_contain")]
    return [p for p in pods if any(p["metadata"]["name"].startswith(prefix) for prefix in prefixes)]


def log_requests(pod: Obj) -> list[tuple[str, bool]]:
    """(container, previous) for every log the pod has: each container's current one, and the
    previous one of a container that restarted. One container per request, as `kubectl logs -c`
    (with `--all-containers`, kubectl at times drops what it printed for one container when the next
    one's request fails)."""
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    restarted = {
        cs.get("name")
        for cs in [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]
        if cs.get("restartCount") or (cs.get("lastState") or {})
    }
    names = [c["name"] for c in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]]
    return [
        (name, previous) for name in names for previous in (False, True) if not previous or name in restarted
    ]


def run_case(
    case: Obj, workdir: Path, seed: int = 7, inspect: Callable[[Sandbox, Observed], None] | None = None
) -> Observed:
    """Apply the case to a fresh sandbox and observe it; `inspect` sees both before the sandbox stops.

    Every kubectl process costs about 0.1 s of CPU: kubectl applies the manifests (client-side
    apply, its validation and errors are part of what a case checks); the state is read over HTTP."""
    ns = case["namespace"]
    # A bare cluster, as the kind cluster the cases were written against: no sample apps beside them.
    with Sandbox(workdir=workdir, seed=seed, background=False, sample_apps=False) as sb:
        api = _Api(sb)
        try:
            api.create_namespace(ns)
            applied = kubectl(sb, "apply", "-n", ns, "-f", "-", stdin=case["manifests"])
            sb.advance(float(case["settle_seconds"]))
            seen = Observed(applied.returncode, applied.stdout + applied.stderr)
            seen.pods = api.listed(f"/api/v1/namespaces/{ns}/pods")
            seen.events = api.listed(f"/api/v1/namespaces/{ns}/events")
            seen.jobs = api.listed(f"/apis/batch/v1/namespaces/{ns}/jobs")
            seen.table = api.pod_table(ns)
            for pod in _log_pods(case, seen.pods):
                name = pod["metadata"]["name"]
                seen.logs[name] = "".join(
                    api.log(ns, name, container, previous) for container, previous in log_requests(pod)
                )
            for want in (case["expect"] or {}).get("objects") or []:
                seen.objects[(want["kind"], want["name"])] = api.named(sb, ns, want["kind"], want["name"])
        finally:
            api.close()
        target = (case.get("diagnosis") or {}).get("target")
        if target and not case.get("apply_error"):
            assert sb.kubeconfig_path is not None  # a serving sandbox writes one
            seen.diagnosis = diagnose(sb.kubeconfig_path, ns, target["kind"], target["name"])
        if inspect is not None:
            inspect(sb, seen)
    return seen


def check_diagnosis(case: Obj, seen: Observed) -> str | None:
    """Why the diagnosis differs from the case's expectation (None: it matches, or none expected)."""
    want = (case.get("diagnosis") or {}).get("category")
    if not want or seen.diagnosis is None:
        return None
    return None if seen.diagnosis == want else f"diagnosis {seen.diagnosis}, expected {want}"


def _any(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _owner_job(pod: Obj) -> str | None:
    return next(
        (r.get("name") for r in pod["metadata"].get("ownerReferences") or [] if r.get("kind") == "Job"), None
    )


def _condition(obj: Obj, type_: str) -> bool:
    conditions = (obj.get("status") or {}).get("conditions") or []
    return any(c.get("type") == type_ and c.get("status") == "True" for c in conditions)


def healthy(seen: Observed) -> bool:
    """Something runs, every pod is Running and Ready (a Job's pod may also have Completed, and the pods
    of a Job that completed do not count), and no Job failed."""
    if not seen.pods and not seen.jobs:
        return False
    complete = {j["metadata"]["name"] for j in seen.jobs if _condition(j, "Complete")}
    if any(_condition(j, "Failed") for j in seen.jobs):
        return False
    for pod in seen.pods:
        job = _owner_job(pod)
        if job in complete:
            continue
        row = seen.table.get(pod["metadata"]["name"], {})
        ready, _, total = row.get("ready", "0/1").partition("/")
        running = row.get("status") == "Running" and ready == total
        if not running and not (job and row.get("status") == "Completed"):
            return False
    return True


def _reasons(pod: Obj) -> set[str]:
    out = set()
    status = pod.get("status") or {}
    for cs in [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]:
        for state in (cs.get("state") or {}, cs.get("lastState") or {}):
            for part in state.values():
                if isinstance(part, dict) and part.get("reason"):
                    out.add(part["reason"])
    if status.get("reason"):
        out.add(status["reason"])
    return out


def _events_of(seen: Observed, kind: str, name: str) -> list[Obj]:
    return [
        e
        for e in seen.events
        if e.get("involvedObject", {}).get("kind") == kind and e.get("involvedObject", {}).get("name") == name
    ]


def check_case(case: Obj, seen: Observed) -> list[str]:
    """Every way the observation differs from the case's expectation."""
    problems: list[str] = []
    expect = case["expect"] or {}
    apply_error = case.get("apply_error")
    if apply_error:
        if seen.apply_rc == 0 or apply_error not in seen.apply_output:
            problems.append(
                f"apply: expected an error containing {apply_error!r}, got: {seen.apply_output.strip()}"
            )
    elif seen.apply_rc != 0:
        problems.append(f"apply failed: {seen.apply_output.strip()}")
    summary = {name: f"{row['ready']} {row['status']} {row['restarts']}" for name, row in seen.table.items()}
    if healthy(seen) != bool(expect.get("healthy")):
        problems.append(f"healthy: expected {expect.get('healthy')}, pods {summary}")
    for want in expect.get("pods") or []:
        mine = [p for p in seen.pods if p["metadata"]["name"].startswith(want["name"])]
        label = f"pods {want['name']}*"
        if "count" in want and len(mine) != int(want["count"]):
            problems.append(f"{label}: expected {want['count']}, found {len(mine)} ({summary})")
        if not mine:
            if want.get("count", 1) != 0:
                problems.append(f"{label}: none ({summary})")
            continue
        for pod in mine:
            name = pod["metadata"]["name"]
            row = seen.table.get(name, {})
            if "status" in want and row.get("status") not in _any(want["status"]):
                problems.append(f"{name}: STATUS {row.get('status')}, expected {want['status']}")
            if "ready" in want and row.get("ready") != str(want["ready"]):
                problems.append(f"{name}: READY {row.get('ready')}, expected {want['ready']}")
            restarts = int((row.get("restarts") or "0").split()[0])
            if "restarts_at_least" in want and restarts < int(want["restarts_at_least"]):
                problems.append(f"{name}: RESTARTS {restarts}, expected at least {want['restarts_at_least']}")
            if "reason" in want and not _reasons(pod) & set(_any(want["reason"])):
                problems.append(f"{name}: reasons {sorted(_reasons(pod))}, expected one of {want['reason']}")
            problems.extend(_event_problems(name, _events_of(seen, "Pod", name), want))
            for text in want.get("logs_contain") or []:
                if text not in seen.logs.get(name, ""):
                    problems.append(f"{name}: logs lack {text!r}: {seen.logs.get(name, '')[-300:]!r}")
    for want in expect.get("objects") or []:
        obj = seen.objects.get((want["kind"], want["name"]))
        label = f"{want['kind']} {want['name']}"
        if obj is None:
            if want.get("absent"):
                continue
            problems.append(f"{label}: not found")
            continue
        if want.get("absent"):
            problems.append(f"{label}: expected to be gone")
        if "phase" in want and (obj.get("status") or {}).get("phase") != want["phase"]:
            problems.append(
                f"{label}: phase {(obj.get('status') or {}).get('phase')}, expected {want['phase']}"
            )
        if "condition" in want and not _condition(obj, want["condition"]):
            conditions = [
                c.get("type")
                for c in (obj.get("status") or {}).get("conditions") or []
                if c.get("status") == "True"
            ]
            problems.append(f"{label}: condition {want['condition']} not True (has {conditions})")
        problems.extend(_event_problems(label, _events_of(seen, want["kind"], want["name"]), want))
    return problems


def _event_problems(label: str, events: list[Obj], want: Obj) -> list[str]:
    """What `events` (of the pod or object called `label`) lack of the reasons and messages `want` lists."""
    problems = []
    for reason in want.get("events") or []:
        if not any(e.get("reason") == reason for e in events):
            seen = sorted({str(e.get("reason")) for e in events})
            problems.append(f"{label}: no {reason} event (has {seen})")
    for text in want.get("event_messages") or []:
        if not any(text in (e.get("message") or "") for e in events):
            problems.append(f"{label}: no event message containing {text!r}")
    return problems
