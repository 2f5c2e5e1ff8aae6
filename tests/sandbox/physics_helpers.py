"""Builders shared by the physics tests: a stepped simulation and manifests for the demo images."""

from __future__ import annotations

from typing import Any

from sandbox.clock import SimClock
from sandbox.resources import DEPLOYMENTS, EVENTS, PODS, SERVICES, Registry
from sandbox.simulation import Simulation
from sandbox.store import Store
from tests.manifests import selecting_spec

NS = "shop"
WEB_API = "ghcr.io/paramedic-demo/web-api"
# The web-api's connection to the `postgres` helper's database: what it needs to start and serve.
DATABASE_ENV = {"name": "DATABASE_URL", "value": "postgres://app:pw@postgres:5432/shop"}


def make_sim(seed: int = 0, nodes: int = 3) -> Simulation:
    """A fresh store + simulation, stepped by the test (no threads)."""
    clock = SimClock()
    store = Store(clock=clock.now)
    return Simulation(store, Registry.with_builtins(), clock, seed=seed, nodes=nodes)


def container(name: str, image: str, **extra: Any) -> dict:
    return {"name": name, "image": image, **extra}


def deployment(name: str, containers: list[dict], replicas: int = 2, ns: str = NS, **spec: Any) -> dict:
    return {
        "metadata": {"name": name, "namespace": ns},
        "spec": selecting_spec(name, containers, replicas, **spec),
    }


def service(name: str, port: int, selector: dict, ns: str = NS) -> dict:
    return {
        "metadata": {"name": name, "namespace": ns},
        "spec": {"selector": selector, "ports": [{"port": port, "targetPort": port}]},
    }


def postgres(sim: Simulation, ns: str = NS) -> None:
    """A ready postgres Deployment behind Service postgres:5432."""
    sim.store.create(
        DEPLOYMENTS,
        deployment(
            "postgres",
            [
                container(
                    "postgres",
                    "postgres:15",
                    env=[{"name": "POSTGRES_PASSWORD", "value": "s3cret"}],
                    readinessProbe={"tcpSocket": {"port": 5432}},
                )
            ],
            replicas=1,
            ns=ns,
        ),
    )
    sim.store.create(SERVICES, service("postgres", 5432, {"app": "postgres"}, ns))


def web_api(
    tag: str = "1.5.0",
    replicas: int = 2,
    memory: str = "256Mi",
    env: list | None = None,
    probe_path: str = "/healthz",
    **extra: Any,
) -> dict:
    env = env if env is not None else [DATABASE_ENV]
    c = container(
        "web",
        f"{WEB_API}:{tag}",
        env=env,
        ports=[{"containerPort": 8080, "name": "http"}],
        resources={"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": memory}},
        readinessProbe={"httpGet": {"path": probe_path, "port": "http"}, "periodSeconds": 5},
        **extra,
    )
    return deployment("web-api", [c], replicas=replicas)


def pods(sim: Simulation, app: str, ns: str = NS) -> list[dict]:
    items, _ = sim.store.list(PODS, ns, predicate=lambda p: p["metadata"].get("labels", {}).get("app") == app)
    return items


def events(sim: Simulation, ns: str = NS, reason: str | None = None, name_prefix: str = "") -> list[dict]:
    items, _ = sim.store.list(EVENTS, ns)
    return [
        e
        for e in items
        if (reason is None or e["reason"] == reason) and e["involvedObject"]["name"].startswith(name_prefix)
    ]


def status_of(pod: dict, name: str | None = None) -> dict:
    statuses = pod["status"].get("containerStatuses") or []
    return next(s for s in statuses if name is None or s["name"] == name)


def get_deploy(sim: Simulation, name: str, ns: str = NS) -> dict:
    return sim.store.get(DEPLOYMENTS, ns, name)


def available(sim: Simulation, name: str, replicas: int, ns: str = NS) -> bool:
    d = sim.store.find(DEPLOYMENTS, ns, name)
    if d is None:
        return False
    st = d.get("status") or {}
    conds = {c["type"]: c for c in st.get("conditions") or []}
    return (
        st.get("availableReplicas") == replicas
        and st.get("updatedReplicas") == replicas
        and st.get("replicas") == replicas
        and conds.get("Available", {}).get("status") == "True"
    )


def serving_web_api(replicas: int) -> Simulation:
    """A fresh simulation running postgres and web-api, once `replicas` web-api pods are available."""
    sim = make_sim()
    postgres(sim)
    sim.store.create(DEPLOYMENTS, web_api(replicas=replicas))
    assert sim.wait_until(lambda: available(sim, "web-api", replicas), 120)
    return sim
