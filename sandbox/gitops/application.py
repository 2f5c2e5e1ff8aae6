"""Argo CD's `Application` custom resource: its CRD, its type, and the object the sync loop reports on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.resources import CRDS, NAMESPACES, Registry
from sandbox.store import ResourceType, Store

Obj = dict[str, Any]

APPLICATIONS = ResourceType(
    "argoproj.io",
    "v1alpha1",
    "Application",
    "applications",
    short_names=("app", "apps"),
    singular="application",
    categories=("argoproj",),
)

IN_CLUSTER = "https://kubernetes.default.svc"


def application_crd() -> Obj:
    """The CustomResourceDefinition Argo CD installs for Applications (schema kept open)."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": "applications.argoproj.io",
            "labels": {
                "app.kubernetes.io/name": "applications.argoproj.io",
                "app.kubernetes.io/part-of": "argocd",
            },
        },
        "spec": {
            "group": "argoproj.io",
            "names": {
                "kind": "Application",
                "listKind": "ApplicationList",
                "plural": "applications",
                "singular": "application",
                "shortNames": ["app", "apps"],
                "categories": ["argoproj"],
            },
            "scope": "Namespaced",
            "versions": [
                {
                    "name": "v1alpha1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                    },
                    "additionalPrinterColumns": [
                        {"name": "Sync Status", "type": "string", "jsonPath": ".status.sync.status"},
                        {"name": "Health Status", "type": "string", "jsonPath": ".status.health.status"},
                        {
                            "name": "Revision",
                            "type": "string",
                            "jsonPath": ".status.sync.revision",
                            "priority": 10,
                        },
                    ],
                }
            ],
        },
    }


@dataclass(frozen=True)
class AppSpec:
    """Where an Application takes its manifests from and where it puts them."""

    name: str = "sandbox-apps"
    namespace: str = "argocd"
    repo_url: str = ""
    path: str = "apps"
    target_revision: str = "main"
    destination_namespace: str = "default"
    prune: bool = True
    self_heal: bool = True


def application_object(spec: AppSpec) -> Obj:
    """The Application as first created: automated sync with prune and self-heal."""
    return {
        "apiVersion": APPLICATIONS.api_version,
        "kind": "Application",
        "metadata": {"name": spec.name, "namespace": spec.namespace},
        "spec": {
            "project": "default",
            "source": {
                "repoURL": spec.repo_url,
                "targetRevision": spec.target_revision,
                "path": spec.path,
                "directory": {"recurse": True},
            },
            "destination": {"server": IN_CLUSTER, "namespace": spec.destination_namespace},
            "syncPolicy": {"automated": {"prune": spec.prune, "selfHeal": spec.self_heal}},
        },
    }


def install(store: Store, registry: Registry, spec: AppSpec) -> None:
    """Create the CRD, serve its type, and create the Application's namespace and object if missing."""
    if store.find(CRDS, "", "applications.argoproj.io") is None:
        store.create(CRDS, application_crd())
    registry.add(APPLICATIONS)
    if store.find(NAMESPACES, "", spec.namespace) is None:
        store.create(
            NAMESPACES,
            {
                "metadata": {
                    "name": spec.namespace,
                    "labels": {"kubernetes.io/metadata.name": spec.namespace},
                },
                "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": "Active"},
            },
        )
    if store.find(APPLICATIONS, spec.namespace, spec.name) is None:
        store.create(APPLICATIONS, application_object(spec))


@dataclass(frozen=True)
class SyncPolicy:
    """What the live Application asks for (users may change it with kubectl)."""

    automated: bool
    prune: bool
    self_heal: bool
    path: str
    target_revision: str
    destination_namespace: str


def policy_of(app: Obj, fallback: AppSpec) -> SyncPolicy:
    """Read the sync policy and source from the live Application object."""
    spec = app.get("spec") or {}
    automated = (spec.get("syncPolicy") or {}).get("automated")
    source = spec.get("source") or {}
    destination = spec.get("destination") or {}
    return SyncPolicy(
        automated=automated is not None,
        prune=bool((automated or {}).get("prune", False)),
        self_heal=bool((automated or {}).get("selfHeal", False)),
        path=str(source.get("path") or fallback.path).strip("/"),
        target_revision=str(source.get("targetRevision") or fallback.target_revision),
        destination_namespace=str(destination.get("namespace") or fallback.destination_namespace),
    )
