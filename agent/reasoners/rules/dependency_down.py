"""dependency_down: the workload's logs show it cannot reach a named dependency; the dependency's
status, when shown, confirms it. The fault is in the dependency, so humans are told which one.

Signature: the workload failing (or failing requests) AND its logs naming the dependency it cannot
reach AND that dependency not shown healthy. Connection errors naming nothing, or naming a
dependency whose replicas are all ready, are partial. A workload that still looks healthy while its
logs name a dependency whose status shows no ready replica is failing too (its work, not its pods).

Two more whole signatures come from facts the watcher read itself from the cluster (the incident's
labels, `agent.incident_labels`; never an alert's):
- the workload reaches a Service whose selector matches no pod: the Service is at fault, in
  `spec.selector`, whatever the Deployment behind it shows (`service_selects_nothing`);
- the workload wants zero replicas and running workloads reach its Service: its outage is theirs,
  fixed by bringing the replicas back (`dependency_at_zero`; alone, that is `scaled_to_zero`).

A Service investigated on its own (a run followed its consumers to it) is judged by
`service_selector.selector_drift`: its selector against the pods' labels and its Git history."""

from __future__ import annotations

import re

from agent import incident_labels
from agent.domain import RootCause
from agent.incident_labels import watcher_facts
from agent.reasoners.rules import fields, remedies
from agent.reasoners.rules.context import Finding, RuleContext, cite
from agent.reasoners.rules.logs import serving_errors
from agent.reasoners.rules.scaled_to_zero import dependants, zero_replicas
from agent.reasoners.rules.service_selector import SERVICE, selector_drift

_HOST = r"(?P<host>[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9-]+)*)"
_CONNECT_ERRORS = (
    re.compile(rf"lookup {_HOST} on [\d.:]+: no such host"),
    re.compile(rf"getaddrinfo (?:ENOTFOUND|EAI_AGAIN) {_HOST}"),
    re.compile(rf"connection to server at \"{_HOST}\".*?(?:refused|failed|timed out)", re.I),
    re.compile(rf"could not translate host name \"{_HOST}\"", re.I),
    re.compile(
        rf"(?:connect(?:ing)? to|connection to|reach) {_HOST}:(?P<port>\d+)\S*[^\n]*?"
        rf"(?:refused|timed out|unavailable|failed|reset)",
        re.I,
    ),
    re.compile(rf"https?://{_HOST}(?::\d+)?[^\s]*[^\n]*?(?:refused|timed out|503|502|unavailable)", re.I),
    re.compile(rf"Error \d+ connecting to {_HOST}:\d+", re.I),
    # Shell clients: busybox wget/nc/ping `bad address 'x'`, GNU wget, curl, nslookup, nc, ping.
    re.compile(rf"bad address '{_HOST}'"),
    re.compile(rf"unable to resolve host address '{_HOST}'"),
    re.compile(rf"Could not resolve host: {_HOST}"),
    re.compile(rf"server can't find {_HOST}: NXDOMAIN"),
    re.compile(
        rf"(?:Failed to connect to|connect to) {_HOST} port \d+[^\n]*?(?:refused|timed out|failed)", re.I
    ),
    re.compile(rf"^\w+: {_HOST}: (?:Name or service not known|Temporary failure in name resolution)", re.M),
)
_GENERIC_CONNECT = re.compile(r"connection refused|ECONNREFUSED|no such host|Name or service not known", re.I)
_IP = re.compile(r"^\d+\.\d+\.\d+\.\d+$")


def _named_host(ctx: RuleContext) -> tuple[str, str] | None:
    """The first dependency a log names as unreachable (not by IP): (host, log item id)."""
    for log in ctx.view.logs:
        for pattern in _CONNECT_ERRORS:
            match = pattern.search(log.text)
            if match and not _IP.match(match.group("host")):
                return match.group("host"), log.item_id
    return None


def dependency_down(ctx: RuleContext) -> Finding | None:
    """The dependency at fault: from the watcher's facts when it has them, else from the logs."""
    if ctx.view.target.kind == SERVICE:
        return selector_drift(ctx)  # the Service itself, followed from the workloads that reach it
    return dependency_at_zero(ctx) or service_selects_nothing(ctx) or logged_dependency(ctx)


def logged_dependency(ctx: RuleContext) -> Finding | None:
    """The workload's logs show it cannot reach a named dependency; its status, when shown, confirms."""
    view = ctx.view
    failing = view.unhealthy() or serving_errors(view)
    named = _named_host(ctx)
    if not failing and named is None:
        return None
    if named is None:
        generic = [log for log in view.logs if _GENERIC_CONNECT.search(log.text)]
        if not generic:
            return None
        return Finding(
            rule="dependency_down",
            category=RootCause.DEPENDENCY_DOWN,
            confidence=0.45,
            explanation="The application cannot connect to something it needs; the logs do not name it.",
            faulty_resource=ctx.workload,
            remediation=remedies.notify("a dependency is unreachable; find which one"),
            cited=cite(generic),
            missing=("the unreachable dependency named in the logs",),
        )
    host, log_id = named
    name = host.split(".")[0]
    if name == view.target.name:
        return None
    dep = view.workload(name)
    down = dep is not None and (dep.replicas == 0 or (dep.ready_replicas or 0) == 0)
    if not failing and not down:
        return None  # a healthy workload's log about a healthy dependency is noise
    up = dep is not None and not down and (dep.ready_replicas or 0) >= (dep.replicas or 0)
    confidence = 0.9 if down else 0.75 if dep is None else 0.55
    resource = f"{'Deployment' if dep else 'Service'} {view.target.namespace}/{name}"
    state = " and has no ready replicas" if down else ""
    return Finding(
        rule="dependency_down",
        category=RootCause.DEPENDENCY_DOWN,
        confidence=confidence,
        explanation=f"The application cannot reach its dependency {name}{state}; the fault is there.",
        faulty_resource=resource,
        remediation=remedies.notify(
            f"dependency {name} is down; fixing it is a separate target", dependency=name
        ),
        cited=cite([log_id], [dep] if dep else []),
        missing=(f"{name} down (its replicas are all ready)",) if up else (),
    )


def service_selects_nothing(ctx: RuleContext) -> Finding | None:
    """The watcher saw the workload reach a Service whose selector matches no pod: the Service's fault."""
    facts = watcher_facts(ctx.incident)
    service = facts.get(incident_labels.DEPENDENCY, "")
    if facts.get(incident_labels.DEPENDENCY_STATE) != incident_labels.SELECTOR_MATCHES_NOTHING:
        return None
    if ctx.incident.target != ctx.view.target or not service.startswith("Service "):
        return None
    named = _named_host(ctx)
    name = service.rsplit("/", 1)[-1]
    logged = named is not None and named[0].split(".")[0] == name
    return Finding(
        rule="dependency_down",
        category=RootCause.DEPENDENCY_DOWN,
        confidence=0.9 if logged else 0.8,
        explanation=f"The application reaches {service}, whose selector matches no pod, so it has no "
        "endpoints"
        + (" and the application's connections to it fail." if logged else ".")
        + " The Service's selector is at fault, not the application nor the pods behind it.",
        faulty_resource=service,
        faulty_field=fields.SELECTOR,
        remediation=remedies.notify(
            f"{service} selects no pod: restore its selector to the labels its pods carry",
            dependency=service,
        ),
        cited=cite([named[1]] if named and logged else []),
    )


def dependency_at_zero(ctx: RuleContext) -> Finding | None:
    """The workload wants zero replicas and the watcher saw running workloads reach its Service."""
    victims = dependants(ctx)
    zero = zero_replicas(ctx) if victims else None
    if zero is None:
        return None
    before = f" (it ran {zero.previous} before)" if zero.previous else ""
    return Finding(
        rule="dependency_down",
        category=RootCause.DEPENDENCY_DOWN,
        confidence=zero.confidence,
        explanation=f"The workload is scaled to 0 replicas{before}, so its Service has no endpoints and "
        f"the workloads that depend on it fail: {', '.join(victims)}. The fault is here, not there.",
        faulty_resource=ctx.workload,
        faulty_field=fields.REPLICAS,
        remediation=zero.remediation,
        cited=zero.cited,
    )
