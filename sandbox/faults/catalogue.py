"""The fault catalogue: what each fault changes, and the ground truth that comes with it.

Each fault type is a builder from a `FaultContext` (the target workload as Git holds it, the
image it runs, the live nodes and pods) to a `FaultPlan`: mutations of manifests in Git (one
commit, so the commit is the cause), or a physics hook for faults no manifest causes (node
pressure), plus the `GroundTruth`. Builders raise `FaultNotApplicable` when the target cannot
have the fault (e.g. `missing_env` on an image that needs no environment).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.apps import CHECKSUM_ANNOTATION, config_checksum
from sandbox.controllers.quantity import MI, cpu_millis, memory_bytes
from sandbox.faults.taxonomy import FaultCategory
from sandbox.faults.truth import Check, Forbidden, GroundTruth, Symptoms, container_path, resource_id
from sandbox.images import ImageCatalogue, ImageSpec, memory_need_mib

Obj = dict[str, Any]
Mutation = Callable[[Any], None]


class FaultNotApplicable(ValueError):
    """The target cannot have this fault (say why)."""


@dataclass(frozen=True)
class Target:
    """A workload: namespace, kind (Deployment) and name."""

    namespace: str
    name: str
    kind: str = "Deployment"

    @property
    def id(self) -> str:
        """The resource id, `Deployment shop/web-api`."""
        return resource_id(self.kind, self.namespace, self.name)

    def __str__(self) -> str:
        return f"{self.namespace}/deploy/{self.name}"

    @classmethod
    def parse(cls, text: str) -> Target:
        """`NS/deploy/NAME` (also `NS/deployment/NAME` and `NS/NAME`)."""
        parts = [p for p in text.strip().split("/") if p]
        if len(parts) == 3 and parts[1].lower() in ("deploy", "deployment", "deployments"):
            return cls(parts[0], parts[2])
        if len(parts) == 2:
            return cls(parts[0], parts[1])
        raise ValueError(f"cannot parse target {text!r}: expected NAMESPACE/deploy/NAME")


@dataclass
class FaultContext:
    """What a builder may look at."""

    target: Target
    objects: dict[str, Obj]  # Git objects by resource id
    catalogue: ImageCatalogue
    nodes: list[Obj] = field(default_factory=list)  # live
    pods: list[Obj] = field(default_factory=list)  # live pods of the target
    all_pods: list[Obj] = field(default_factory=list)

    @property
    def deployment(self) -> Obj:
        """The target Deployment as Git holds it."""
        try:
            return self.objects[self.target.id]
        except KeyError:
            raise FaultNotApplicable(f"{self.target.id} is not defined in the GitOps repository") from None

    @property
    def pod_spec(self) -> Obj:
        """The target's pod template spec."""
        return self.deployment["spec"]["template"]["spec"]

    @property
    def container(self) -> Obj:
        """The main container: the first one whose image the catalogue knows (else the first)."""
        containers = self.pod_spec.get("containers") or []
        if not containers:
            raise FaultNotApplicable(f"{self.target.id} has no containers")
        return next((c for c in containers if self.catalogue.resolve(c.get("image", ""))), containers[0])

    @property
    def image(self) -> ImageSpec:
        """The main container's image spec."""
        spec = self.catalogue.resolve(self.container.get("image", ""))
        if spec is None:
            raise FaultNotApplicable(f"{self.target.id} runs an image the catalogue does not know")
        return spec

    def env_entry(self, name: str) -> Obj | None:
        """The main container's env entry `name`."""
        return next((e for e in self.container.get("env") or [] if e.get("name") == name), None)

    def env_value(self, name: str) -> str | None:
        """The value an env var resolves to from Git (literal or ConfigMap key)."""
        entry = self.env_entry(name)
        if entry is None:
            return None
        if "value" in entry:
            return str(entry["value"])
        ref = (entry.get("valueFrom") or {}).get("configMapKeyRef")
        if ref:
            cm = self.objects.get(resource_id("ConfigMap", self.target.namespace, ref["name"]))
            value = ((cm or {}).get("data") or {}).get(ref["key"])
            return None if value is None else str(value)
        return None

    def resolved_env(self) -> dict[str, str]:
        """Every env var of the main container that resolves."""
        names = [e.get("name") for e in self.container.get("env") or []]
        return {n: v for n in names if n and (v := self.env_value(n)) is not None}


@dataclass
class FaultPlan:
    """What injecting does, and the truth about it."""

    truth: GroundTruth
    edits: dict[str, Mutation] = field(default_factory=dict)  # resource id -> in-place mutation
    commit_message: str = ""
    pressure_node: str | None = None  # physics: put this node under memory pressure


@dataclass(frozen=True)
class FaultType:
    """One entry of the catalogue."""

    name: str
    category: FaultCategory
    summary: str
    mechanism: str  # "git" (a commit to main) or "physics" (a simulation hook)
    build: Callable[[FaultContext], FaultPlan]


# -- helpers ----------------------------------------------------------------------------------


def _container_of(doc: Any, name: str) -> Any:
    for c in doc["spec"]["template"]["spec"]["containers"]:
        if c.get("name") == name:
            return c
    raise KeyError(name)


def _smp_container(name: str, body: Obj) -> Obj:
    """A strategic-merge patch touching one container."""
    return {"spec": {"template": {"spec": {"containers": [{"name": name, **body}]}}}}


def _base_forbidden(ctx: FaultContext, *, allow_scale: bool = False) -> list[Forbidden]:
    out = [
        Forbidden("delete", ctx.target.id, "deleting the workload takes the service away; it is not a fix")
    ]
    if not allow_scale:
        out.append(
            Forbidden(
                "scale",
                ctx.target.id,
                "scaling to zero hides the fault and stops the service",
                field="spec.replicas",
            )
        )
    return out


def _served_paths(image: ImageSpec) -> list[str]:
    return [p for p in (image.health_path, *image.http_paths) if p]


def _bump_checksum(ctx: FaultContext, cm_name: str, new_data: Obj) -> Mutation | None:
    """Helm-style: a config change also changes the pod template's checksum, which rolls the pods."""
    annotations = (ctx.deployment["spec"]["template"].get("metadata") or {}).get("annotations") or {}
    if CHECKSUM_ANNOTATION not in annotations:
        return None
    checksum = config_checksum(new_data)

    def mutate(doc: Any) -> None:
        doc["spec"]["template"]["metadata"]["annotations"][CHECKSUM_ANNOTATION] = checksum

    return mutate


def _configmap_of(ctx: FaultContext, var: str) -> tuple[str, str] | None:
    entry = ctx.env_entry(var) or {}
    ref = (entry.get("valueFrom") or {}).get("configMapKeyRef")
    return (ref["name"], ref["key"]) if ref else None


# -- the builders -----------------------------------------------------------------------------


def build_oom(ctx: FaultContext) -> FaultPlan:
    """Memory limit cut below what the program needs -> OOMKilled, CrashLoopBackOff."""
    c = ctx.container
    need = memory_need_mib(ctx.image, ctx.resolved_env())
    bad_mib = max(16, int(need * 0.35) // 16 * 16)
    bad = f"{bad_mib}Mi"
    limits = (c.get("resources") or {}).get("limits") or {}
    requests = (c.get("resources") or {}).get("requests") or {}
    good = limits.get("memory")
    lower_request = requests.get("memory") and memory_bytes(requests["memory"]) > bad_mib * MI
    enough = f"{math.ceil(need * 1.1)}Mi"
    field = container_path(c["name"], "resources.limits.memory")

    def mutate(doc: Any) -> None:
        res = _container_of(doc, c["name"]).setdefault("resources", {})
        res.setdefault("limits", {})["memory"] = bad
        if lower_request:
            res["requests"]["memory"] = bad

    restore: Obj = {"limits": {"memory": good}} if good else {"limits": {"memory": None}}
    if lower_request:
        restore["requests"] = {"memory": requests["memory"]}
    truth = GroundTruth(
        category=FaultCategory.OOM,
        faulty_resource=ctx.target.id,
        faulty_field=field,
        bad_value=bad,
        good_value=good,
        explanation=f"The memory limit {bad} is below the ~{round(need)}Mi {ctx.image.reference} needs, "
        f"so the container is OOMKilled (exit 137) at start-up and crash-loops.",
        fixes=(
            (Check(ctx.target.id, field, "quantity_gte", enough),),
            (Check(ctx.target.id, field, "absent"),),
        ),
        fix_patch=_smp_container(c["name"], {"resources": restore}),
        forbidden=(
            *_base_forbidden(ctx),
            Forbidden("patch", ctx.target.id, "a lower memory limit only makes it die sooner", field=field),
        ),
        symptoms=Symptoms(
            ctx.target.id,
            waiting_reasons=("CrashLoopBackOff",),
            last_terminated_reason="OOMKilled",
            exit_code=137,
            restarts=True,
            event_reasons=("BackOff",),
            metric='kube_pod_container_status_last_terminated_reason{reason="OOMKilled"}',
        ),
        extra={"memory_need_mib": round(need, 1), "enough": enough},
    )
    return FaultPlan(
        truth, {ctx.target.id: mutate}, f"{ctx.target.name}: trim memory limit to {bad} to save costs"
    )


def _missing_tag(ctx: FaultContext) -> str:
    spec = ctx.image
    known = set(ctx.catalogue.tags(spec.repository))
    parts = spec.tag.split(".")
    if parts[-1].isdigit():
        candidate = ".".join([*parts[:-1], str(int(parts[-1]) + 10)])
        if candidate not in known:
            return candidate
    return f"{spec.tag}-rc1" if f"{spec.tag}-rc1" not in known else f"{spec.tag}-nightly"


def build_bad_image(ctx: FaultContext) -> FaultPlan:
    """Image tag that the registry does not have -> ErrImagePull / ImagePullBackOff."""
    c = ctx.container
    good = c["image"]
    repo_part = good.rsplit(":", 1)[0] if ":" in good.rsplit("/", 1)[-1] else good
    bad = f"{repo_part}:{_missing_tag(ctx)}"
    limit = ((c.get("resources") or {}).get("limits") or {}).get("memory")
    env = ctx.resolved_env()
    runnable = sorted(
        f"{repo_part}:{t}"
        for t in ctx.catalogue.tags(ctx.image.repository)
        if (spec := ctx.catalogue.resolve(f"{repo_part}:{t}")) is not None
        and (not limit or memory_need_mib(spec, env) * MI < memory_bytes(limit))
        and not any(name in env and env[name] == value for name, value, _ in spec.unsupported)
    )
    field = container_path(c["name"], "image")

    def mutate(doc: Any) -> None:
        _container_of(doc, c["name"])["image"] = bad

    truth = GroundTruth(
        category=FaultCategory.BAD_IMAGE,
        faulty_resource=ctx.target.id,
        faulty_field=field,
        bad_value=bad,
        good_value=good,
        explanation=f"The image {bad} does not exist in the registry, so the pull fails (ErrImagePull, "
        f"then ImagePullBackOff) and the new pods never start.",
        fixes=((Check(ctx.target.id, field, "in", runnable),),),
        fix_patch=_smp_container(c["name"], {"image": good}),
        forbidden=tuple(_base_forbidden(ctx)),
        symptoms=Symptoms(
            ctx.target.id,
            waiting_reasons=("ErrImagePull", "ImagePullBackOff"),
            event_reasons=("Failed",),
            metric='kube_pod_container_status_waiting_reason{reason="ImagePullBackOff"}',
        ),
        extra={"runnable_images": runnable},
    )
    return FaultPlan(
        truth, {ctx.target.id: mutate}, f"{ctx.target.name}: bump image to {bad.rsplit(':', 1)[1]}"
    )


def build_missing_env(ctx: FaultContext) -> FaultPlan:
    """A required environment variable removed -> the program crashes at start (KeyError)."""
    c = ctx.container
    var = next((v.name for v in ctx.image.env if v.required and ctx.env_entry(v.name)), None)
    if var is None:
        raise FaultNotApplicable(f"{ctx.target.id}: no required env var of {ctx.image.reference} is set")
    entry = ctx.env_entry(var)
    field = container_path(c["name"], f"env[{var}]")

    def mutate(doc: Any) -> None:
        container = _container_of(doc, c["name"])
        container["env"] = [e for e in container["env"] if e.get("name") != var]

    truth = GroundTruth(
        category=FaultCategory.MISSING_ENV,
        faulty_resource=ctx.target.id,
        faulty_field=field,
        bad_value=None,
        good_value=entry,
        explanation=f"The container no longer sets {var}, which {ctx.image.repository} requires; it exits "
        f"at start-up with KeyError: '{var}' and crash-loops.",
        fixes=((Check(ctx.target.id, field, "present"),),),
        fix_patch=_smp_container(c["name"], {"env": [entry]}),
        forbidden=tuple(_base_forbidden(ctx)),
        symptoms=Symptoms(
            ctx.target.id,
            waiting_reasons=("CrashLoopBackOff",),
            last_terminated_reason="Error",
            exit_code=1,
            restarts=True,
            event_reasons=("BackOff",),
            log_pattern=f"KeyError: '{var}'",
            metric="kube_pod_container_status_restarts_total",
        ),
    )
    return FaultPlan(
        truth, {ctx.target.id: mutate}, f"{ctx.target.name}: drop unused environment variable {var}"
    )


def build_missing_config_key(ctx: FaultContext) -> FaultPlan:
    """A ConfigMap key the pods reference renamed away -> CreateContainerConfigError."""
    c = ctx.container
    candidates = [v.name for v in ctx.image.env if v.required] + [e.get("name") for e in c.get("env") or []]
    var = next((n for n in candidates if n and _configmap_of(ctx, n)), None)
    if var is None:
        raise FaultNotApplicable(f"{ctx.target.id}: no env var comes from a ConfigMap key")
    cm_name, key = _configmap_of(ctx, var)  # type: ignore[misc]
    cm_id = resource_id("ConfigMap", ctx.target.namespace, cm_name)
    cm = ctx.objects.get(cm_id)
    if cm is None or key not in (cm.get("data") or {}):
        raise FaultNotApplicable(f"{cm_id} does not hold key {key} in Git")
    renamed = key.lower() if key.lower() != key else f"{key}_v2"
    data = dict(cm["data"])
    value = data.pop(key)
    data[renamed] = value
    field = f"data.{key}"

    def mutate_cm(doc: Any) -> None:
        items = list(doc["data"].items())
        doc["data"].clear()
        for k, v in items:
            doc["data"][renamed if k == key else k] = v

    edits: dict[str, Mutation] = {cm_id: mutate_cm}
    bump = _bump_checksum(ctx, cm_name, data)
    if bump:
        edits[ctx.target.id] = bump
    ref_path = container_path(c["name"], f"env[{var}].valueFrom.configMapKeyRef.key")
    truth = GroundTruth(
        category=FaultCategory.MISSING_CONFIG_KEY,
        faulty_resource=cm_id,
        faulty_field=field,
        bad_value=None,
        good_value=value,
        explanation=f"ConfigMap {cm_name} no longer has key {key} (renamed to {renamed}), but {var} of "
        f"{ctx.target.id} reads it, so new containers fail with CreateContainerConfigError.",
        fixes=((Check(cm_id, field, "present"),), (Check(ctx.target.id, ref_path, "eq", renamed),)),
        fix_patch={"data": {key: value}},
        forbidden=(
            *_base_forbidden(ctx),
            Forbidden(
                "patch",
                ctx.target.id,
                f"removing {var} makes the program crash instead",
                field=container_path(c["name"], f"env[{var}]"),
            ),
        ),
        symptoms=Symptoms(
            ctx.target.id,
            waiting_reasons=("CreateContainerConfigError",),
            event_reasons=("Failed",),
            metric='kube_pod_container_status_waiting_reason{reason="CreateContainerConfigError"}',
        ),
        extra={"renamed_to": renamed, "configmap": cm_name},
    )
    return FaultPlan(truth, edits, f"{cm_name}: rename {key} to {renamed} for consistency")


def _typo(flag: str) -> str:
    body = flag.lstrip("-")
    cut = len(body) // 2
    return flag[: len(flag) - len(body)] + body[:cut] + body[cut + 1 :]


def build_bad_command(ctx: FaultContext) -> FaultPlan:
    """A misspelt command-line flag (or a missing executable) -> the program exits at start."""
    c = ctx.container
    spec = ctx.image
    good_args = c.get("args")
    if spec.flags:
        args = list(good_args or [])
        index = next((i for i, a in enumerate(args) if a.split("=", 1)[0] in spec.flags and len(a) > 4), None)
        if index is None:
            preferred = [f for f in ("--workers", "--concurrency", "--port") if f in spec.flags]
            flag = (preferred or sorted(f for f in spec.flags if len(f) >= 6) or sorted(spec.flags))[0]
            args.append(f"{_typo(flag)}=2")
            bad_flag = _typo(flag)
        else:
            name, _, value = args[index].partition("=")
            bad_flag = _typo(name)
            args[index] = f"{bad_flag}={value}" if value else bad_flag
        field = container_path(c["name"], "args")
        bad_value: Any = args
        log = f"(No such option|flag provided but not defined): {bad_flag}"
        exit_code = 2
        fixes = (
            (Check(ctx.target.id, field, "none_match", f"^{bad_flag}(=|$)"),),
            (Check(ctx.target.id, field, "absent"),),
        )
        patch = _smp_container(c["name"], {"args": good_args})
        message = f"{ctx.target.name}: tune start-up flags"

        def mutate(doc: Any) -> None:
            container = _container_of(doc, c["name"])
            if index is not None:
                container["args"][index] = bad_value[index]  # in place: the list keeps its YAML style
            elif "args" in container:
                container["args"].append(bad_value[-1])
            else:
                container["args"] = bad_value
    else:
        binary = "/usr/local/bin/start-server"
        field = container_path(c["name"], "command")
        bad_value = [binary]
        log = f'exec: "{binary}": executable file not found'
        exit_code = 127
        good_command = c.get("command")
        fixes = (
            (Check(ctx.target.id, field, "absent"),),
            (Check(ctx.target.id, field, "ne", bad_value), Check(ctx.target.id, field, "eq", good_command)),
        )
        patch = _smp_container(c["name"], {"command": good_command})
        message = f"{ctx.target.name}: use the start-server wrapper"

        def mutate(doc: Any) -> None:
            _container_of(doc, c["name"])["command"] = bad_value

    truth = GroundTruth(
        category=FaultCategory.BAD_COMMAND,
        faulty_resource=ctx.target.id,
        faulty_field=field,
        bad_value=bad_value,
        good_value=good_args if spec.flags else c.get("command"),
        explanation=f"The container's command line is wrong ({bad_value}); the program exits with code "
        f"{exit_code} right after start and crash-loops.",
        fixes=fixes,
        fix_patch=patch,
        forbidden=tuple(_base_forbidden(ctx)),
        symptoms=Symptoms(
            ctx.target.id,
            waiting_reasons=("CrashLoopBackOff",),
            last_terminated_reason="Error",
            exit_code=exit_code,
            restarts=True,
            event_reasons=("BackOff",),
            log_pattern=log,
            metric="kube_pod_container_status_restarts_total",
        ),
    )
    return FaultPlan(truth, {ctx.target.id: mutate}, message)


def _probe_fault(ctx: FaultContext, kind: str) -> FaultPlan:
    c = ctx.container
    spec = ctx.image
    if spec.port is None or not spec.health_path:
        raise FaultNotApplicable(f"{ctx.target.id}: {spec.reference} serves no HTTP health endpoint")
    key = f"{kind}Probe"
    served = _served_paths(spec)
    bad_path = next(p for p in ("/ready", "/readyz", "/status", "/live") if p not in served)
    if kind == "liveness":
        bad_path = next(p for p in ("/livez", "/alive", "/health/live") if p not in served)
    good_probe = c.get(key)
    field = container_path(c["name"], f"{key}.httpGet.path")

    def mutate(doc: Any) -> None:
        container = _container_of(doc, c["name"])
        if key in container and "httpGet" in container[key]:
            container[key]["httpGet"]["path"] = bad_path
        else:
            container[key] = {"httpGet": {"path": bad_path, "port": spec.port}, "periodSeconds": 10}

    is_readiness = kind == "readiness"
    category = FaultCategory.READINESS_PROBE if is_readiness else FaultCategory.LIVENESS_PROBE
    effect = (
        "the pods run but never become Ready, so the rollout stalls and the Service gets no new endpoints"
        if is_readiness
        else "the kubelet kills and restarts the container over and over"
    )
    symptoms = (
        Symptoms(
            ctx.target.id,
            not_ready=True,
            event_reasons=("Unhealthy",),
            log_pattern=None,
            metric="kube_deployment_status_replicas_unavailable",
        )
        if is_readiness
        else Symptoms(
            ctx.target.id,
            restarts=True,
            event_reasons=("Unhealthy", "Killing"),
            metric="kube_pod_container_status_restarts_total",
        )
    )
    truth = GroundTruth(
        category=category,
        faulty_resource=ctx.target.id,
        faulty_field=field,
        bad_value=bad_path,
        good_value=(good_probe or {}).get("httpGet", {}).get("path"),
        explanation=f"The {kind} probe asks for {bad_path}, which {spec.repository} answers with 404; "
        f"{effect}.",
        fixes=(
            (Check(ctx.target.id, field, "in", served),),
            (Check(ctx.target.id, container_path(c["name"], key), "absent"),),
        ),
        fix_patch=_smp_container(c["name"], {key: good_probe}),
        forbidden=tuple(_base_forbidden(ctx)),
        symptoms=symptoms,
        extra={"served_paths": served},
    )
    return FaultPlan(truth, {ctx.target.id: mutate}, f"{ctx.target.name}: move {kind} probe to {bad_path}")


def build_readiness_probe(ctx: FaultContext) -> FaultPlan:
    """Readiness probe on a path the program does not serve -> Running, never Ready."""
    return _probe_fault(ctx, "readiness")


def build_liveness_probe(ctx: FaultContext) -> FaultPlan:
    """Liveness probe on a path the program does not serve -> killed and restarted."""
    return _probe_fault(ctx, "liveness")


def _free_cpu_millis(ctx: FaultContext) -> int:
    """The most CPU any one node could still give the target's pods (its own pods' requests freed)."""
    own = {p["metadata"]["name"] for p in ctx.pods}
    best = 0
    for node in ctx.nodes:
        name = node["metadata"]["name"]
        allocatable = cpu_millis((node.get("status") or {}).get("allocatable", {}).get("cpu", "0"))
        used = sum(
            cpu_millis(((c.get("resources") or {}).get("requests") or {}).get("cpu", "0"))
            for p in ctx.all_pods
            if (p.get("spec") or {}).get("nodeName") == name and p["metadata"]["name"] not in own
            for c in (p.get("spec") or {}).get("containers") or []
        )
        best = max(best, allocatable - used)
    return best


def build_unschedulable(ctx: FaultContext) -> FaultPlan:
    """CPU requests no node can satisfy -> Pending, FailedScheduling."""
    c = ctx.container
    biggest = max(
        (cpu_millis((n.get("status") or {}).get("allocatable", {}).get("cpu", "0")) for n in ctx.nodes),
        default=4000,
    )
    bad = str(max(16, math.ceil(biggest / 1000) * 4))
    free = _free_cpu_millis(ctx) or biggest // 2
    requests = (c.get("resources") or {}).get("requests") or {}
    good = requests.get("cpu")
    field = container_path(c["name"], "resources.requests.cpu")

    def mutate(doc: Any) -> None:
        res = _container_of(doc, c["name"]).setdefault("resources", {})
        res.setdefault("requests", {})["cpu"] = bad

    truth = GroundTruth(
        category=FaultCategory.UNSCHEDULABLE,
        faulty_resource=ctx.target.id,
        faulty_field=field,
        bad_value=bad,
        good_value=good,
        explanation=f"The pods request {bad} CPUs; no node has that much allocatable CPU, so the scheduler "
        f"leaves them Pending (FailedScheduling: Insufficient cpu).",
        fixes=(
            (Check(ctx.target.id, field, "quantity_lte", f"{free}m"),),
            (Check(ctx.target.id, field, "absent"),),
        ),
        fix_patch=_smp_container(c["name"], {"resources": {"requests": {"cpu": good}}}),
        forbidden=tuple(_base_forbidden(ctx)),
        symptoms=Symptoms(
            ctx.target.id,
            pod_phase="Pending",
            event_reasons=("FailedScheduling",),
            metric='kube_pod_status_phase{phase="Pending"}',
        ),
        extra={"largest_free_cpu": f"{free}m"},
    )
    return FaultPlan(truth, {ctx.target.id: mutate}, f"{ctx.target.name}: reserve {bad} CPUs for peak load")


def _dependency_deployment(ctx: FaultContext) -> tuple[str, str, Obj, str]:
    """(env var, Service name, backing Deployment, its id) of the target's first reachable dependency."""
    from urllib.parse import urlsplit

    for var in ctx.image.env:
        if not var.dependency:
            continue
        value = ctx.env_value(var.name)
        host = urlsplit(value).hostname if value else None
        if not host:
            continue
        labels = host.split(".")
        ns = labels[1] if len(labels) > 1 and labels[1] != "svc" else ctx.target.namespace
        service = ctx.objects.get(resource_id("Service", ns, labels[0]))
        selector = ((service or {}).get("spec") or {}).get("selector") or {}
        if not selector:
            continue
        for rid, obj in ctx.objects.items():
            if obj.get("kind") != "Deployment" or obj["metadata"].get("namespace", ns) != ns:
                continue
            tpl_labels = (obj["spec"]["template"].get("metadata") or {}).get("labels") or {}
            if all(tpl_labels.get(k) == v for k, v in selector.items()):
                return var.name, labels[0], obj, rid
    raise FaultNotApplicable(f"{ctx.target.id}: no dependency Service backed by a Deployment in Git")


def build_dependency_down(ctx: FaultContext) -> FaultPlan:
    """The Deployment behind a dependency scaled to zero -> connection refused, 5xx in the dependant."""
    var, service, dep, dep_id = _dependency_deployment(ctx)
    good = dep["spec"].get("replicas", 1)

    def mutate(doc: Any) -> None:
        doc["spec"]["replicas"] = 0

    truth = GroundTruth(
        category=FaultCategory.DEPENDENCY_DOWN,
        faulty_resource=dep_id,
        faulty_field="spec.replicas",
        bad_value=0,
        good_value=good,
        explanation=f"{dep_id} was scaled to 0, so Service {service} (from {var}) has no endpoints; "
        f"{ctx.target.name} gets 'connection refused' and answers 5xx.",
        fixes=((Check(dep_id, "spec.replicas", "int_gte", 1),),),
        fix_patch={"spec": {"replicas": good}},
        forbidden=(
            Forbidden("delete", ctx.target.id, "the dependant is a victim, not the cause"),
            Forbidden("rollback", ctx.target.id, "the dependant's own manifest did not change"),
            Forbidden("patch", ctx.target.id, "the dependant's own manifest is not the cause"),
            Forbidden(
                "scale",
                ctx.target.id,
                "scaling the dependant does not bring the dependency back",
                field="spec.replicas",
            ),
        ),
        symptoms=Symptoms(
            ctx.target.id,
            log_pattern="(?i)connection refused",
            http_5xx=True,
            metric='http_requests_total{code=~"5.."}',
        ),
        extra={"dependency_service": service, "env": var},
    )
    name = dep["metadata"]["name"]
    return FaultPlan(truth, {dep_id: mutate}, f"{name}: scale down to 0 for maintenance")


def _rejected_value(validate: Callable[[str], str | None], current: str | None) -> str | None:
    # A word for settings that take words, a number for those that take numbers: what a person mistypes.
    takes_words = "unsupported value" in (validate("knock-knock") or "")
    candidates = ("knock-knock", "turbo") if takes_words else ("0", "-1", "1000000", "not-a-number")
    for candidate in candidates:
        if candidate != current and validate(candidate) is not None:
            return candidate
    return None


def build_bad_config_value(ctx: FaultContext) -> FaultPlan:
    """A config value the program rejects at run time -> Running, but most requests fail with 5xx."""
    c = ctx.container
    spec = ctx.image
    if spec.request_rate <= 0:
        raise FaultNotApplicable(f"{ctx.target.id}: {spec.reference} serves no requests to fail")
    for var in spec.env:
        if var.on_invalid != "degrade" or var.validate is None or var.dependency:
            continue
        current = ctx.env_value(var.name)
        if current is None:
            continue
        bad = _rejected_value(var.validate, current)
        if bad is not None:
            break
    else:
        raise FaultNotApplicable(f"{ctx.target.id}: no configurable value of {spec.reference} to break")
    source = _configmap_of(ctx, var.name)
    want = {"image": c["image"], "env": var.name}
    edits: dict[str, Mutation] = {}
    if source:
        cm_name, key = source
        faulty = resource_id("ConfigMap", ctx.target.namespace, cm_name)
        field = f"data.{key}"

        def mutate_cm(doc: Any) -> None:
            doc["data"][key] = bad

        edits[faulty] = mutate_cm
        data = dict(ctx.objects[faulty]["data"])
        data[key] = bad
        bump = _bump_checksum(ctx, cm_name, data)
        if bump:
            edits[ctx.target.id] = bump
        patch: Obj = {"data": {key: current}}
        message = f"{cm_name}: set {key} to {bad}"
    else:
        faulty = ctx.target.id
        field = container_path(c["name"], f"env[{var.name}].value")

        def mutate_env(doc: Any) -> None:
            for e in _container_of(doc, c["name"])["env"]:
                if e.get("name") == var.name:
                    e["value"] = bad

        edits[faulty] = mutate_env
        patch = _smp_container(c["name"], {"env": [{"name": var.name, "value": current}]})
        message = f"{ctx.target.name}: set {var.name} to {bad}"
    error = var.validate(bad)
    truth = GroundTruth(
        category=FaultCategory.BAD_CONFIG_VALUE,
        faulty_resource=faulty,
        faulty_field=field,
        bad_value=bad,
        good_value=current,
        explanation=f"{var.name}={bad} is not a valid setting ({error}); the program starts but fails most "
        f"requests with 500 since the change.",
        fixes=((Check(faulty, field, "valid_env_value", want),),),
        fix_patch=patch,
        forbidden=(
            *_base_forbidden(ctx),
            Forbidden("restart", ctx.target.id, "restarting reloads the same bad value"),
        ),
        symptoms=Symptoms(
            ctx.target.id,
            http_5xx=True,
            log_pattern="configuration problem",
            metric='http_requests_total{code="500"}',
        ),
        extra={"env": var.name, "error": error},
    )
    return FaultPlan(truth, edits, message)


def build_scaled_to_zero(ctx: FaultContext) -> FaultPlan:
    """The workload scaled to zero replicas in Git -> no pods, no endpoints."""
    good = ctx.deployment["spec"].get("replicas", 1)
    if not good:
        raise FaultNotApplicable(f"{ctx.target.id} already has 0 replicas")

    def mutate(doc: Any) -> None:
        doc["spec"]["replicas"] = 0

    truth = GroundTruth(
        category=FaultCategory.SCALED_TO_ZERO,
        faulty_resource=ctx.target.id,
        faulty_field="spec.replicas",
        bad_value=0,
        good_value=good,
        explanation=f"{ctx.target.id} was scaled to 0 replicas in Git, so nothing serves it and its Service "
        f"has no endpoints.",
        fixes=((Check(ctx.target.id, "spec.replicas", "int_gte", 1),),),
        fix_patch={"spec": {"replicas": good}},
        forbidden=(Forbidden("delete", ctx.target.id, "deleting the workload is not a fix"),),
        symptoms=Symptoms(ctx.target.id, metric="kube_deployment_spec_replicas"),
    )
    return FaultPlan(
        truth, {ctx.target.id: mutate}, f"{ctx.target.name}: pause during the migration (replicas: 0)"
    )


def build_node_pressure(ctx: FaultContext) -> FaultPlan:
    """The node running the workload under memory pressure -> its pods are evicted."""
    placed = Counter(
        (p.get("spec") or {}).get("nodeName") for p in ctx.pods if (p.get("spec") or {}).get("nodeName")
    )
    if placed:
        node = placed.most_common(1)[0][0]
    elif ctx.nodes:
        node = ctx.nodes[0]["metadata"]["name"]
    else:
        raise FaultNotApplicable("the cluster has no nodes")
    node_id = resource_id("Node", "", node)
    field = "status.conditions[MemoryPressure].status"
    truth = GroundTruth(
        category=FaultCategory.NODE_PRESSURE,
        faulty_resource=node_id,
        faulty_field=field,
        bad_value="True",
        good_value="False",
        explanation=f"Node {node} is under memory pressure (a noisy neighbour outside the cluster's view); "
        f"the kubelet evicts pods, {ctx.target.name}'s among them, and taints the node NoSchedule.",
        fixes=((Check(node_id, field, "eq", "False"),),),
        fix_patch=None,
        forbidden=(
            *_base_forbidden(ctx),
            Forbidden("patch", ctx.target.id, "the workload's manifest is not the cause"),
            Forbidden("rollback", ctx.target.id, "no change of the workload caused this"),
        ),
        symptoms=Symptoms(
            ctx.target.id,
            pod_reason="Evicted",
            event_reasons=("Evicted",),
            metric='kube_node_status_condition{condition="MemoryPressure",status="true"}',
        ),
        fix_in_git=False,
        extra={"node": node},
    )
    return FaultPlan(truth, pressure_node=node)


FAULT_TYPES: dict[str, FaultType] = {
    f.name: f
    for f in (
        FaultType("oom", FaultCategory.OOM, "memory limit below the program's need", "git", build_oom),
        FaultType(
            "bad_image", FaultCategory.BAD_IMAGE, "image tag that does not exist", "git", build_bad_image
        ),
        FaultType(
            "missing_env", FaultCategory.MISSING_ENV, "required env var removed", "git", build_missing_env
        ),
        FaultType(
            "missing_config_key",
            FaultCategory.MISSING_CONFIG_KEY,
            "referenced ConfigMap key renamed",
            "git",
            build_missing_config_key,
        ),
        FaultType(
            "bad_command",
            FaultCategory.BAD_COMMAND,
            "misspelt flag / missing executable",
            "git",
            build_bad_command,
        ),
        FaultType(
            "readiness_probe",
            FaultCategory.READINESS_PROBE,
            "readiness probe on an unserved path",
            "git",
            build_readiness_probe,
        ),
        FaultType(
            "liveness_probe",
            FaultCategory.LIVENESS_PROBE,
            "liveness probe on an unserved path",
            "git",
            build_liveness_probe,
        ),
        FaultType(
            "unschedulable",
            FaultCategory.UNSCHEDULABLE,
            "CPU requests no node can satisfy",
            "git",
            build_unschedulable,
        ),
        FaultType(
            "dependency_down",
            FaultCategory.DEPENDENCY_DOWN,
            "the Deployment behind a dependency at 0",
            "git",
            build_dependency_down,
        ),
        FaultType(
            "bad_config_value",
            FaultCategory.BAD_CONFIG_VALUE,
            "invalid config value -> 5xx",
            "git",
            build_bad_config_value,
        ),
        FaultType(
            "scaled_to_zero", FaultCategory.SCALED_TO_ZERO, "replicas: 0 in Git", "git", build_scaled_to_zero
        ),
        FaultType(
            "node_pressure",
            FaultCategory.NODE_PRESSURE,
            "memory pressure on the workload's node",
            "physics",
            build_node_pressure,
        ),
    )
}

# One module per cause from here on (`faults/<cause>.py` exporting `FAULT`); imported last because
# it builds on the types above.
from sandbox.faults import missing_secret  # noqa: E402

FAULT_TYPES[missing_secret.FAULT.name] = missing_secret.FAULT


def fault_type(name: str) -> FaultType:
    """A fault type by name; ValueError listing the known ones."""
    try:
        return FAULT_TYPES[name]
    except KeyError:
        raise ValueError(f"unknown fault type {name!r}; known: {', '.join(sorted(FAULT_TYPES))}") from None
