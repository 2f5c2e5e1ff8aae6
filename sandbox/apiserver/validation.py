"""The validation rules of kube-apiserver that a repair is likely to trip over, in its own words.

Not the whole of Kubernetes' validation: object names, the pod spec's containers (names,
images, env names, ports, requests within limits, restart policy), workload selectors and
replicas, an immutable Deployment selector and the pod fields an update may not change. Each
failure is a 422 `Status` with `details.causes`, as the real server sends.
"""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from sandbox.controllers.quantity import parse_quantity
from sandbox.store import ApiError, ResourceType

Obj = dict[str, Any]

_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
    "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
_DNS1035_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
    "regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)
# Kinds whose names are DNS labels rather than subdomains.
_LABEL_NAMED = {"Namespace"}
_DNS1035_NAMED = {"Service"}
_WORKLOADS = {"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"}
# Pod spec fields an update may change (everything else is fixed once the pod exists).
# (nodeName is compared on its own: binding sets it once.)
_POD_MUTABLE = ("activeDeadlineSeconds", "terminationGracePeriodSeconds", "tolerations", "nodeName")


class _Errors:
    """Field errors collected for one object, rendered like apimachinery's ErrorList."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str, str]] = []  # (reason, field, message)

    def required(self, field: str) -> None:
        self.items.append(("FieldValueRequired", field, "Required value"))

    def invalid(self, field: str, value: Any, detail: str) -> None:
        self.items.append(("FieldValueInvalid", field, f"Invalid value: {_go(value)}: {detail}"))

    def duplicate(self, field: str, value: Any) -> None:
        self.items.append(("FieldValueDuplicate", field, f"Duplicate value: {_go(value)}"))

    def unsupported(self, field: str, value: Any, supported: tuple[str, ...]) -> None:
        options = ", ".join(f'"{s}"' for s in supported)
        self.items.append(
            ("FieldValueNotSupported", field, f"Unsupported value: {_go(value)}: supported values: {options}")
        )

    def forbidden(self, field: str, detail: str) -> None:
        self.items.append(("FieldValueForbidden", field, f"Forbidden: {detail}"))

    def raise_if_any(self, rt: ResourceType, name: str) -> None:
        if not self.items:
            return
        qualified = f"{rt.kind}.{rt.group}" if rt.group else rt.kind
        parts = [f"{field}: {message}" for _, field, message in self.items]
        summary = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
        causes = [{"reason": r, "message": m, "field": f} for r, f, m in self.items]
        raise ApiError(
            422,
            "Invalid",
            f'{qualified} "{name}" is invalid: {summary}',
            {"name": name, "group": rt.group, "kind": rt.kind, "causes": causes},
        )


def _go(value: Any) -> str:
    """How Go's %#v-ish formatting in apimachinery shows simple values."""
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dict):
        inner = ", ".join(f'"{k}":"{v}"' for k, v in value.items())
        return f"map[string]string{{{inner}}}"
    return str(value)


def validate(rt: ResourceType, obj: Obj, old: Obj | None = None) -> None:
    """Raise ApiError 422 when `obj` (after defaulting) is not a valid `rt`; `old` on updates."""
    errors = _Errors()
    name = (obj.get("metadata") or {}).get("name") or ""
    _validate_name(rt.kind, name, errors)
    spec = obj.get("spec")
    if rt.kind == "Pod" and rt.group == "" and isinstance(spec, dict):
        _validate_pod_spec(spec, "spec", errors, workload=False)
        if old is not None:
            _validate_pod_update(spec, old.get("spec") or {}, errors)
    elif rt.kind in _WORKLOADS and rt.group == "apps" and isinstance(spec, dict):
        _validate_workload(spec, errors)
        if old is not None and rt.kind == "Deployment":
            previous = (old.get("spec") or {}).get("selector")
            if spec.get("selector") != previous:
                errors.invalid("spec.selector", _selector_text(spec.get("selector")), "field is immutable")
    elif rt.kind == "Job" and rt.group == "batch" and isinstance(spec, dict):
        _validate_job(spec, "spec", errors)
        old_spec = (old or {}).get("spec") or {}
        if old is not None and spec.get("template") != old_spec.get("template"):
            errors.invalid("spec.template", "core.PodTemplateSpec{...}", "field is immutable")
    elif rt.kind == "CronJob" and rt.group == "batch" and isinstance(spec, dict):
        _validate_schedule(spec, errors)
        _validate_job((spec.get("jobTemplate") or {}).get("spec") or {}, "spec.jobTemplate.spec", errors)
    errors.raise_if_any(rt, name)


def _validate_job(spec: Obj, path: str, errors: _Errors) -> None:
    template = spec.get("template") if isinstance(spec.get("template"), dict) else {}
    pod_spec = template.get("spec")
    if not isinstance(pod_spec, dict):
        errors.required(f"{path}.template.spec.containers")
        return
    _validate_pod_spec(pod_spec, f"{path}.template.spec", errors, workload=False)
    policy = pod_spec.get("restartPolicy")
    if policy not in ("OnFailure", "Never"):
        errors.unsupported(f"{path}.template.spec.restartPolicy", policy, ("OnFailure", "Never"))
    for field in ("parallelism", "completions", "backoffLimit", "activeDeadlineSeconds"):
        value = spec.get(field)
        if isinstance(value, int) and value < (1 if field == "activeDeadlineSeconds" else 0):
            bound = "greater than 0" if field == "activeDeadlineSeconds" else "greater than or equal to 0"
            errors.invalid(f"{path}.{field}", value, f"must be {bound}")


def _validate_schedule(spec: Obj, errors: _Errors) -> None:
    """robfig/cron's parse errors, as the CronJob validation reports them."""
    schedule = str(spec.get("schedule") or "")
    if not schedule:
        errors.required("spec.schedule")
        return
    expr = schedule.split(" ", 1)[1] if schedule.startswith(("TZ=", "CRON_TZ=")) else schedule
    fields = expr.split()
    if not expr.startswith("@") and len(fields) != 5:
        errors.invalid("spec.schedule", schedule, f"expected exactly 5 fields, found {len(fields)}: [{expr}]")
    elif not croniter.is_valid(expr):
        errors.invalid("spec.schedule", schedule, f"unparseable schedule: {expr}")
    zone = spec.get("timeZone")
    if zone:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            errors.invalid("spec.timeZone", zone, f"unknown time zone {zone}")


def _validate_name(kind: str, name: str, errors: _Errors) -> None:
    if not name:
        return  # the store answers a missing name (it may still come from generateName)
    if kind in _LABEL_NAMED:
        if len(name) > 63 or not _LABEL.match(name):
            errors.invalid("metadata.name", name, _LABEL_MSG)
    elif kind in _DNS1035_NAMED:
        if len(name) > 63 or not _DNS1035.match(name):
            errors.invalid("metadata.name", name, _DNS1035_MSG)
    elif len(name) > 253 or not _SUBDOMAIN.match(name):
        errors.invalid("metadata.name", name, _SUBDOMAIN_MSG)


def _validate_workload(spec: Obj, errors: _Errors) -> None:
    replicas = spec.get("replicas")
    if isinstance(replicas, int) and replicas < 0:
        errors.invalid("spec.replicas", replicas, "must be greater than or equal to 0")
    selector = spec.get("selector")
    selector = selector if isinstance(selector, dict) else {}
    template = spec.get("template")
    template = template if isinstance(template, dict) else {}
    labels = ((template.get("metadata") or {}).get("labels")) or {}
    if not (selector.get("matchLabels") or selector.get("matchExpressions")):
        errors.required("spec.selector")
    elif not _selector_matches(selector, labels):
        errors.invalid("spec.template.metadata.labels", labels, "`selector` does not match template `labels`")
    pod_spec = template.get("spec")
    if not isinstance(pod_spec, dict):
        errors.required("spec.template.spec.containers")
        return
    _validate_pod_spec(pod_spec, "spec.template.spec", errors, workload=True)


def _selector_matches(selector: Obj, labels: dict[str, str]) -> bool:
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def _selector_text(selector: Any) -> str:
    labels = (selector or {}).get("matchLabels") if isinstance(selector, dict) else None
    inner = ", ".join(f'"{k}":"{v}"' for k, v in (labels or {}).items())
    return f"v1.LabelSelector{{MatchLabels:map[string]string{{{inner}}}}}"


def _validate_pod_spec(spec: Obj, path: str, errors: _Errors, *, workload: bool) -> None:
    containers = spec.get("containers")
    if not isinstance(containers, list) or not containers:
        errors.required(f"{path}.containers")
    else:
        seen: set[str] = set()
        for i, container in enumerate(containers):
            _validate_container(container, f"{path}.containers[{i}]", seen, errors)
    for i, container in enumerate(spec.get("initContainers") or []):
        _validate_container(container, f"{path}.initContainers[{i}]", set(), errors)
    policy = spec.get("restartPolicy")
    allowed = ("Always",) if workload else ("Always", "OnFailure", "Never")
    if policy is not None and policy not in allowed:
        errors.unsupported(f"{path}.restartPolicy", policy, allowed)


def _validate_container(container: Any, path: str, seen: set[str], errors: _Errors) -> None:
    if not isinstance(container, dict):
        errors.invalid(path, container, "must be an object")
        return
    name = container.get("name")
    if not name:
        errors.required(f"{path}.name")
    elif not _LABEL.match(str(name)) or len(str(name)) > 63:
        errors.invalid(f"{path}.name", name, _LABEL_MSG)
    elif name in seen:
        errors.duplicate(f"{path}.name", name)
    else:
        seen.add(name)
    if not container.get("image"):
        errors.required(f"{path}.image")
    for j, env in enumerate(container.get("env") or []):
        if not isinstance(env, dict) or not env.get("name"):
            errors.required(f"{path}.env[{j}].name")
    for j, port in enumerate(container.get("ports") or []):
        number = port.get("containerPort") if isinstance(port, dict) else None
        if number is None:
            errors.required(f"{path}.ports[{j}].containerPort")
        elif not isinstance(number, int) or not 1 <= number <= 65535:
            detail = "must be between 1 and 65535, inclusive"
            errors.invalid(f"{path}.ports[{j}].containerPort", number, detail)
    _validate_resources(container.get("resources") or {}, f"{path}.resources", errors)


def _validate_resources(resources: Obj, path: str, errors: _Errors) -> None:
    requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
    parsed: dict[tuple[str, str], float] = {}
    for section, values in (("requests", requests), ("limits", limits)):
        for resource, value in values.items():
            try:
                parsed[(section, resource)] = parse_quantity(value)
            except ValueError:
                # The real server fails to decode the body before validating it.
                raise ApiError(
                    400,
                    "BadRequest",
                    "quantities must match the regular expression "
                    "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
                ) from None
            if parsed[(section, resource)] < 0:
                errors.invalid(f"{path}.{section}[{resource}]", value, "must be greater than or equal to 0")
    for resource, request in requests.items():
        if ("limits", resource) in parsed and parsed[("requests", resource)] > parsed[("limits", resource)]:
            errors.invalid(
                f"{path}.requests",
                request,
                f"must be less than or equal to {_resource_word(resource)} limit of {limits[resource]}",
            )


def _resource_word(resource: str) -> str:
    return {"cpu": "cpu", "memory": "memory"}.get(resource, resource)


def _validate_pod_update(spec: Obj, old: Obj, errors: _Errors) -> None:
    def fixed(pod_spec: Obj) -> Obj:
        out = {k: v for k, v in pod_spec.items() if k not in _POD_MUTABLE}
        for group in ("containers", "initContainers"):
            out[group] = [
                {k: v for k, v in c.items() if k != "image"} if isinstance(c, dict) else c
                for c in pod_spec.get(group) or []
            ]
        return out

    rebound = bool(old.get("nodeName")) and spec.get("nodeName") != old.get("nodeName")
    if rebound or fixed(spec) != fixed(old):
        errors.forbidden(
            "spec",
            "pod updates may not change fields other than `spec.containers[*].image`,"
            "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` "
            "(only additions to existing tolerations),`spec.terminationGracePeriodSeconds` "
            "(allow it to be set to 1 if it was previously negative)",
        )
