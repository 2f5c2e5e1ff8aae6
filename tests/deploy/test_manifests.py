"""deploy/: rendered with the real `kubectl kustomize`, checked for least privilege and hardening,
the CRD checked against the models it is generated from, and everything applied to the sandbox
with `kubectl apply --dry-run=server`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from types import ModuleType
from typing import Any, get_args

import pytest
import yaml

from agent.config import Mode, load_settings
from sandbox.cluster import Sandbox
from server.crd import GROUP, PLURAL, VERSION, WatchCondition, WatchPhase, WatchStatus, status_patch
from server.watcher.scope import WatchLLM, WatchSpec, parse_watch
from tests.deploy.conftest import DEPLOY, ROOT, Manifest, kustomize, parse, run_kubectl

Find = Callable[[list[Manifest], str, str], Manifest]

READ_VERBS = {"get", "list", "watch"}
# The only writes the cluster-wide role may make: Paramedic's own reporting.
CLUSTER_WRITES = {("", "events", "create"), (GROUP, "paramedicwatches/status", "patch")}
# The only writes to workloads, and only through the per-namespace Role.
REMEDIATION_WRITES = {
    ("apps", "deployments", "patch"),
    ("apps", "deployments/scale", "patch"),
    ("apps", "deployments/scale", "update"),
}
FORBIDDEN_RESOURCES = {"secrets", "pods/exec", "pods/attach", "pods/portforward", "serviceaccounts/token"}
REQUIRED_READS = {
    ("", "pods"),
    ("", "pods/log"),
    ("", "events"),
    ("", "namespaces"),
    ("", "nodes"),  # the labels a nodeSelector is matched against, when pods cannot be placed
    ("apps", "deployments"),
    ("apps", "replicasets"),
    ("apps", "statefulsets"),
    ("apps", "daemonsets"),
    ("", "services"),  # Services with no endpoints, ports no container exposes
    ("", "configmaps"),  # the Services a workload's env reaches; config keys for the analyst
    ("", "persistentvolumeclaims"),  # claims left Pending
    ("batch", "jobs"),  # failed Jobs
    ("batch", "cronjobs"),  # a CronJob whose Jobs fail
    ("autoscaling", "horizontalpodautoscalers"),  # HPAs pinned at their maximum
    ("networking.k8s.io", "ingresses"),  # Ingress backends on a Service port that does not exist
    ("policy", "poddisruptionbudgets"),  # the scan: a single replica without a PDB
    ("argoproj.io", "applications"),
    ("kustomize.toolkit.fluxcd.io", "kustomizations"),
    (GROUP, "paramedicwatches"),
}


def grants(role: Manifest) -> set[tuple[str, str, str]]:
    """(apiGroup, resource, verb) for every rule of a Role or ClusterRole."""
    out = set()
    for rule in role.get("rules", []):
        assert not rule.get("nonResourceURLs"), f"{role['metadata']['name']}: nonResourceURLs"
        # resourceNames only narrow a rule: counting it as the whole resource over-approximates.
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                for verb in rule["verbs"]:
                    out.add((group, resource, verb))
    return out


def roles(manifests: list[Manifest]) -> list[Manifest]:
    return [m for m in manifests if m["kind"] in ("Role", "ClusterRole")]


# -- rendering ---------------------------------------------------------------------------------


def test_base_renders_every_part_into_the_paramedic_namespace(base: list[Manifest]) -> None:
    kinds = sorted((m["kind"], m["metadata"]["name"]) for m in base)
    assert kinds == [
        ("ClusterRole", "paramedic-read"),
        ("ClusterRoleBinding", "paramedic-read"),
        ("ConfigMap", "paramedic-settings"),
        ("CustomResourceDefinition", f"{PLURAL}.{GROUP}"),
        ("Deployment", "paramedic"),
        ("Namespace", "paramedic"),
        ("PodDisruptionBudget", "paramedic"),
        ("Role", LEASE_ROLE),
        ("RoleBinding", LEASE_ROLE),
        ("Secret", "paramedic-postgres"),
        ("Secret", "paramedic-tokens"),
        ("Service", "paramedic"),
        ("ServiceAccount", "paramedic"),
        ("ServiceMonitor", "paramedic"),
    ]
    cluster_scoped = {"Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding"}
    for m in base:
        if m["kind"] not in cluster_scoped:
            assert m["metadata"]["namespace"] == "paramedic", m["kind"]
        assert m["metadata"]["labels"]["app.kubernetes.io/name"] == "paramedic", m["kind"]


def test_the_image_is_the_one_built_from_deploy_dockerfile(base: list[Manifest], find: Find) -> None:
    (container,) = find(base, "Deployment", "paramedic")["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "paramedic:0.1.0"
    assert container["args"] == ["serve"]


# -- RBAC ----------------------------------------------------------------------------------------


def test_no_role_grants_wildcards_secrets_or_exec(base: list[Manifest], remediate: list[Manifest]) -> None:
    everything = roles(base) + roles(remediate)
    assert len(everything) == 3
    for role in everything:
        for group, resource, verb in grants(role):
            assert "*" not in (group, resource, verb), f"{role['metadata']['name']}: wildcard"
            assert resource not in FORBIDDEN_RESOURCES, f"{role['metadata']['name']}: {resource}"
            assert verb not in {"escalate", "bind", "impersonate"}, f"{role['metadata']['name']}: {verb}"


def test_cluster_role_reads_what_the_watcher_needs_and_writes_only_its_reports(
    base: list[Manifest], find: Find
) -> None:
    granted = grants(find(base, "ClusterRole", "paramedic-read"))
    writes = {g for g in granted if g[2] not in READ_VERBS}
    assert writes == CLUSTER_WRITES
    reads = {(group, resource) for group, resource, verb in granted if verb in READ_VERBS}
    assert reads == REQUIRED_READS
    for group, resource in REQUIRED_READS:
        assert {(group, resource, verb) for verb in READ_VERBS} <= granted, resource


def test_writes_to_workloads_only_in_the_namespaced_role_of_an_opted_in_namespace(
    base: list[Manifest], remediate: list[Manifest], find: Find
) -> None:
    namespaced = {(m["kind"], m["metadata"]["name"]) for m in base if m["kind"] in ("Role", "RoleBinding")}
    assert namespaced == {("Role", LEASE_ROLE), ("RoleBinding", LEASE_ROLE)}, "the base opts no namespace in"
    role = find(remediate, "Role", "paramedic-remediate")
    assert role["metadata"]["namespace"] == "shop"
    assert grants(role) == REMEDIATION_WRITES
    binding = find(remediate, "RoleBinding", "paramedic-remediate")
    assert binding["metadata"]["namespace"] == "shop"
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": role["metadata"]["name"],
    }
    # The overlay's namespace moves the Role, not the subject: it is still Paramedic's own account.
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "paramedic", "namespace": "paramedic"}]


def test_the_cluster_binding_names_paramedics_account(base: list[Manifest], find: Find) -> None:
    binding = find(base, "ClusterRoleBinding", "paramedic-read")
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": "paramedic-read",
    }
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "paramedic", "namespace": "paramedic"}]
    find(base, "ServiceAccount", "paramedic")


# -- the Deployment ------------------------------------------------------------------------------


def test_deployment_is_hardened(base: list[Manifest], find: Find) -> None:
    pod = find(base, "Deployment", "paramedic")["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "paramedic"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert not pod.get("hostNetwork") and not pod.get("hostPID") and not pod.get("hostIPC")
    (container,) = pod["containers"]
    sc = container["securityContext"]
    assert sc["runAsNonRoot"] is True
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["privileged"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["resources"]["requests"].keys() == {"cpu", "memory"}
    assert "memory" in container["resources"]["limits"]


def test_probes_ports_and_service(base: list[Manifest], find: Find) -> None:
    deployment = find(base, "Deployment", "paramedic")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    service = find(base, "Service", "paramedic")
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["ports"] == [
        {"name": "http", "port": 8080, "targetPort": "http", "protocol": "TCP"}
    ]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()


def _mounts(base: list[Manifest], find: Find) -> tuple[dict[str, Manifest], dict[str, Manifest]]:
    pod = find(base, "Deployment", "paramedic")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    return mounts, volumes


def test_data_dir_and_tmp_are_writable_volumes_and_tokens_a_read_only_secret(
    base: list[Manifest], find: Find
) -> None:
    mounts, volumes = _mounts(base, find)
    settings = find(base, "ConfigMap", "paramedic-settings")["data"]
    data = mounts[settings["PARAMEDIC_DATA_DIR"]]
    assert "emptyDir" in volumes[data["name"]] and not data.get("readOnly")
    assert "emptyDir" in volumes[mounts["/tmp"]["name"]]
    tokens = mounts["/run/secrets/paramedic"]
    assert tokens["readOnly"] is True
    assert volumes[tokens["name"]]["secret"]["secretName"] == "paramedic-tokens"
    assert not any("hostPath" in v for v in volumes.values())


# -- settings and the token Secret --------------------------------------------------------------


def test_configmap_is_valid_settings_in_report_mode(
    base: list[Manifest], find: Find, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = find(base, "ConfigMap", "paramedic-settings")["data"]
    assert all(key.startswith("PARAMEDIC_") for key in data)
    for key in [k for k in os.environ if k.startswith("PARAMEDIC_")]:
        monkeypatch.delenv(key)
    for key, value in data.items():
        monkeypatch.setenv(key, value)
    settings = load_settings()
    assert settings.mode is Mode.REPORT
    assert settings.cluster.in_cluster is True
    assert settings.server.host == "0.0.0.0" and settings.server.port == 8080
    assert settings.llm.provider == "rules"
    assert "paramedic" in settings.scope.exclude_namespaces
    assert settings.git.auto_merge is False

    mounts, _ = _mounts(base, find)
    secret_keys = set(find(base, "Secret", "paramedic-tokens")["stringData"])
    token_files = [settings.server.token_file, settings.git.token_file, settings.llm.api_key_file]
    for path in token_files:
        assert path is not None and str(path.parent) in mounts, path
        assert path.name in secret_keys, path


def test_secret_template_holds_no_values(base: list[Manifest], find: Find) -> None:
    secret = find(base, "Secret", "paramedic-tokens")
    assert secret["stringData"] == {"api-token": "", "github-token": "", "llm-api-key": ""}
    assert "data" not in secret
    text = (DEPLOY / "base" / "secret-tokens.yaml").read_text(encoding="utf-8")
    assert text.count("REPLACE") == 3


def test_no_manifest_carries_a_credential(base_yaml: str, remediate_yaml: str) -> None:
    argo = (DEPLOY / "argocd" / "application.yaml").read_text(encoding="utf-8")
    for text in (base_yaml, remediate_yaml, argo):
        assert not re.search(r"(gh[pousr]_[A-Za-z0-9]{20,}|sk-[A-Za-z0-9]{20,}|-----BEGIN)", text)


# -- the CRD -------------------------------------------------------------------------------------


@pytest.mark.process  # a Python process
def test_committed_crd_is_what_the_generator_renders(generator: ModuleType) -> None:
    committed = (DEPLOY / "base" / "crd-paramedicwatch.yaml").read_text(encoding="utf-8")
    assert committed == generator.render_yaml(), "stale: run python deploy/generate_crd.py"
    done = subprocess.run(
        [sys.executable, str(DEPLOY / "generate_crd.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_rendered_crd_matches_server_crd(base: list[Manifest], find: Find, generator: ModuleType) -> None:
    crd = find(base, "CustomResourceDefinition", f"{PLURAL}.{GROUP}")
    expected = generator.render_crd()
    assert crd["spec"] == expected["spec"]
    assert crd["spec"]["group"] == GROUP and crd["spec"]["names"]["plural"] == PLURAL
    (version,) = crd["spec"]["versions"]
    assert version["name"] == VERSION and version["storage"] and version["served"]
    assert "status" in version["subresources"], "write_watch_status patches the status subresource"


def _schema(crd: Manifest) -> dict[str, Any]:
    return crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]


def _assert_structural(node: dict[str, Any], where: str) -> None:
    assert "type" in node, f"{where}: no type"
    for forbidden in ("$ref", "anyOf", "oneOf", "allOf", "title", "additionalProperties"):
        assert forbidden not in node, f"{where}: {forbidden}"
    for name, prop in node.get("properties", {}).items():
        _assert_structural(prop, f"{where}.{name}")
    if "items" in node:
        _assert_structural(node["items"], f"{where}[]")


def test_crd_schema_is_structural_and_follows_the_models(generator: ModuleType) -> None:
    schema = _schema(generator.render_crd())
    spec, status = schema["spec"], schema["status"]
    _assert_structural(spec, "spec")
    _assert_structural(status, "status")
    assert set(spec["properties"]) == {f.alias or n for n, f in WatchSpec.model_fields.items()}
    assert spec["required"] == ["targetRef"]
    assert spec["properties"]["mode"]["enum"] == [m.value for m in Mode]
    llm_providers = get_args(get_args(WatchLLM.model_fields["provider"].annotation)[0])
    assert spec["properties"]["llm"]["properties"]["provider"]["enum"] == list(llm_providers)
    assert status["properties"]["phase"]["enum"] == [p.value for p in WatchPhase]


def test_what_paramedic_writes_to_status_is_in_the_schema(generator: ModuleType) -> None:
    status = _schema(generator.render_crd())["status"]
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    full = WatchStatus(
        phase=WatchPhase.HEALING,
        last_diagnosis="OOMKilled: memory limit too low",
        last_pull_request="https://github.com/acme/gitops/pull/7",
        healing_score=0.75,
        last_anomaly_time=now,
        conditions=[WatchCondition(type="Remediated", status="True", reason="PatchApplied")],
    )
    body = status_patch(full, None, now)["status"]
    assert set(body) == set(status["properties"]), "every status field written is declared, and vice versa"
    (condition,) = body["conditions"]
    declared = status["properties"]["conditions"]["items"]
    assert set(condition) == set(declared["properties"])
    assert set(declared["required"]) <= set(condition)
    assert re.fullmatch(declared["properties"]["reason"]["pattern"], condition["reason"])


def test_a_sample_watch_uses_only_declared_fields_and_parses(generator: ModuleType) -> None:
    spec_schema = _schema(generator.render_crd())["spec"]
    watch = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "ParamedicWatch",
        "metadata": {"namespace": "shop", "name": "web-api"},
        "spec": {
            "targetRef": {"kind": "Deployment", "name": "web-api"},
            "mode": "approve",
            "llm": {"provider": "rules"},
            "gitRepo": "acme/gitops",
            "restartThreshold": 5,
            "thresholds": {"act": 0.9, "ask": 0.6},
        },
    }
    for key, value in watch["spec"].items():
        declared = spec_schema["properties"][key]
        if isinstance(value, dict):
            assert set(value) <= set(declared["properties"]), key
    target = parse_watch(watch)
    assert (target.target.kind, target.target.name, target.spec.mode) == ("Deployment", "web-api", "approve")


# -- the image -----------------------------------------------------------------------------------


def test_dockerfile_installs_the_project_with_its_pins_and_runs_unprivileged() -> None:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim\b", text, re.M)
    assert "pip install --constraint constraints.txt ." in text
    assert re.search(r"^USER 10001:10001$", text, re.M)
    assert 'ENTRYPOINT ["paramedic"]' in text and 'CMD ["serve"]' in text
    assert re.search(r"HEALTHCHECK .*\n.*127\.0\.0\.1:8080/healthz", text)
    # Every package pyproject.toml ships is copied in, or `pip install .` would build a partial wheel.
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    include = re.search(r"\[tool\.setuptools\.packages\.find\]\s*include\s*=\s*\[([^\]]*)\]", pyproject)
    assert include is not None
    packages = {p.strip().strip('"').rstrip("*") for p in include.group(1).split(",") if p.strip()}
    copied = set(re.findall(r"^COPY (\w+) \./\1$", text, re.M))
    assert packages <= copied, packages - copied
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").split()
    for needed in ("pyproject.toml", "constraints.txt", "README.md", *(f"{p}/" for p in packages)):
        assert f"!{needed}" in ignore, needed


def test_the_runtime_uid_matches_the_image_user(base: list[Manifest], find: Find) -> None:
    pod = find(base, "Deployment", "paramedic")["spec"]["template"]["spec"]
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert f"--uid {pod['securityContext']['runAsUser']}" in text
    assert f"--gid {pod['securityContext']['runAsGroup']}" in text


# -- Argo CD -------------------------------------------------------------------------------------


def test_argo_application_syncs_the_base_and_leaves_the_tokens_alone() -> None:
    (app,) = parse((DEPLOY / "argocd" / "application.yaml").read_text(encoding="utf-8"))
    assert (app["apiVersion"], app["kind"]) == ("argoproj.io/v1alpha1", "Application")
    assert app["metadata"]["namespace"] == "argocd"
    assert app["spec"]["source"]["path"] == "deploy/base"
    assert "REPLACE" in app["spec"]["source"]["repoURL"], "the repository URL is the user's to fill in"
    assert app["spec"]["destination"] == {
        "server": "https://kubernetes.default.svc",
        "namespace": "paramedic",
    }
    assert app["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    assert "RespectIgnoreDifferences=true" in app["spec"]["syncPolicy"]["syncOptions"]
    (ignored,) = app["spec"]["ignoreDifferences"]
    assert (ignored["kind"], ignored["name"]) == ("Secret", "paramedic-tokens")


# -- applied to the sandbox ---------------------------------------------------------------------


def _objects_reported(output: str) -> set[str]:
    """`kind.group/name` of every line kubectl apply printed for a server dry run."""
    lines = [line for line in output.splitlines() if line.strip()]
    assert all(line.endswith("(server dry run)") for line in lines), output
    return {line.split()[0] for line in lines}


def _apply(sandbox: Sandbox, text: str, *extra: str) -> subprocess.CompletedProcess:
    return run_kubectl("apply", *extra, "-f", "-", stdin=text, kubeconfig=sandbox.kubeconfig_path)


def _served(rendered: str) -> str:
    """The manifests but those the sandbox does not serve: PodDisruptionBudgets and the Prometheus
    Operator's ServiceMonitor (checked as rendered, test_ha_base_*)."""
    kept = [m for m in parse(rendered) if m["kind"] not in ("PodDisruptionBudget", "ServiceMonitor")]
    return yaml.safe_dump_all(kept)


@pytest.mark.process  # kubectl against a sandbox
def test_base_applies_to_the_sandbox_with_server_dry_run(sandbox: Sandbox, base_yaml: str) -> None:
    # A dry run creates nothing, so (as on a real cluster) the namespace must exist first.
    namespace = (DEPLOY / "base" / "namespace.yaml").read_text(encoding="utf-8")
    created = _apply(sandbox, namespace)
    assert created.returncode == 0, created.stderr
    done = _apply(sandbox, _served(base_yaml), "--dry-run=server")
    assert done.returncode == 0, done.stderr
    assert _objects_reported(done.stdout) == {
        "secret/paramedic-postgres",
        f"role.rbac.authorization.k8s.io/{LEASE_ROLE}",
        f"rolebinding.rbac.authorization.k8s.io/{LEASE_ROLE}",
        "namespace/paramedic",
        f"customresourcedefinition.apiextensions.k8s.io/{PLURAL}.{GROUP}",
        "serviceaccount/paramedic",
        "clusterrole.rbac.authorization.k8s.io/paramedic-read",
        "clusterrolebinding.rbac.authorization.k8s.io/paramedic-read",
        "configmap/paramedic-settings",
        "secret/paramedic-tokens",
        "service/paramedic",
        "deployment.apps/paramedic",
    }
    # ... and persisted nothing.
    left = run_kubectl(
        "get", "deployment,service,configmap,secret,serviceaccount", "-n", "paramedic", "-o", "name",
        kubeconfig=sandbox.kubeconfig_path,
    )  # fmt: skip
    assert left.returncode == 0, left.stderr
    assert left.stdout.strip() == ""
    crds = run_kubectl("get", "crd", "-o", "name", kubeconfig=sandbox.kubeconfig_path)
    assert f"{PLURAL}.{GROUP}" not in crds.stdout


@pytest.mark.process  # kubectl against a sandbox
def test_remediation_overlay_and_argo_application_apply_with_server_dry_run(
    sandbox: Sandbox, remediate_yaml: str
) -> None:
    done = _apply(sandbox, remediate_yaml, "--dry-run=server")
    assert done.returncode == 0, done.stderr
    assert _objects_reported(done.stdout) == {
        "role.rbac.authorization.k8s.io/paramedic-remediate",
        "rolebinding.rbac.authorization.k8s.io/paramedic-remediate",
    }
    argo = (DEPLOY / "argocd" / "application.yaml").read_text(encoding="utf-8")
    done = _apply(sandbox, argo, "--dry-run=server")
    assert done.returncode == 0, done.stderr
    assert _objects_reported(done.stdout) == {"application.argoproj.io/paramedic"}


@pytest.mark.process  # kubectl against a sandbox
def test_installed_crd_serves_paramedic_watches(sandbox: Sandbox, base_yaml: str) -> None:
    done = _apply(sandbox, _served(base_yaml))
    assert done.returncode == 0, done.stderr
    watch = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "ParamedicWatch",
        "metadata": {"namespace": "shop", "name": "web-api"},
        "spec": {"targetRef": {"kind": "Deployment", "name": "web-api"}, "mode": "approve"},
    }
    done = _apply(sandbox, yaml.safe_dump(watch))
    assert done.returncode == 0, done.stderr
    table = run_kubectl("get", "pmw", "-n", "shop", kubeconfig=sandbox.kubeconfig_path)
    assert table.returncode == 0, table.stderr
    header, row = table.stdout.splitlines()
    assert header.split() == ["NAME", "KIND", "TARGET", "MODE", "PHASE", "SCORE", "AGE"]
    assert row.split()[:4] == ["web-api", "Deployment", "web-api", "approve"]
    got = run_kubectl("get", "pmw", "-n", "shop", "web-api", "-o", "yaml", kubeconfig=sandbox.kubeconfig_path)
    assert parse_watch(yaml.safe_load(got.stdout)).target.name == "web-api"


def test_the_generator_writes_where_kustomize_reads(generator: ModuleType) -> None:
    assert generator.OUTPUT == DEPLOY / "base" / "crd-paramedicwatch.yaml"
    kustomization = yaml.safe_load((DEPLOY / "base" / "kustomization.yaml").read_text(encoding="utf-8"))
    assert generator.OUTPUT.name in kustomization["resources"]


def test_namespace_enforces_the_restricted_pod_security_standard(base: list[Manifest], find: Find) -> None:
    # The Deployment above satisfies "restricted"; the label makes the API server hold it to that.
    labels = find(base, "Namespace", "paramedic")["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


# -- HA: two leader-elected replicas (base) and one on SQLite (overlay) ---------------------------

LEASE_ROLE = "paramedic-leader-election"


@pytest.fixture(scope="module")
def single() -> list[Manifest]:
    return parse(kustomize(DEPLOY / "overlays" / "single-replica"))


def _env(deployment: Manifest) -> dict[str, Any]:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e.get("valueFrom", e.get("value")) for e in container.get("env", [])}


def test_ha_base_runs_two_leader_elected_replicas_on_postgres_from_a_secret(
    base: list[Manifest], find: Find, monkeypatch: pytest.MonkeyPatch
) -> None:
    deployment = find(base, "Deployment", "paramedic")
    assert deployment["spec"]["replicas"] == 2
    env = _env(deployment)
    assert env["PARAMEDIC_STORAGE_URL"] == {"secretKeyRef": {"name": "paramedic-postgres", "key": "url"}}
    assert env["PARAMEDIC_HA__IDENTITY"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    assert find(base, "Secret", "paramedic-postgres")["stringData"] == {"url": ""}, "a template, no value"
    data = find(base, "ConfigMap", "paramedic-settings")["data"]
    for key in [k for k in os.environ if k.startswith("PARAMEDIC_")]:
        monkeypatch.delenv(key)
    for key, value in data.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("PARAMEDIC_HA__LEASE_NAMESPACE", "paramedic")
    ha = load_settings().ha
    assert ha.enabled and ha.lease_name == "paramedic-leader"
    # Replaced within 15 s after a kill -9: the lease expires, then the next retry takes it.
    assert ha.lease_duration_seconds + ha.retry_period_seconds <= 15


def test_ha_base_grants_only_its_own_lease(base: list[Manifest], find: Find) -> None:
    role = find(base, "Role", LEASE_ROLE)
    assert role["metadata"]["namespace"] == "paramedic"
    assert grants(role) == {
        ("coordination.k8s.io", "leases", "create"),
        ("coordination.k8s.io", "leases", "get"),
        ("coordination.k8s.io", "leases", "update"),
    }
    named = [r for r in role["rules"] if "get" in r["verbs"]]
    assert named and all(r.get("resourceNames") == ["paramedic-leader"] for r in named)
    binding = find(base, "RoleBinding", LEASE_ROLE)
    assert binding["roleRef"]["name"] == LEASE_ROLE
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "paramedic", "namespace": "paramedic"}]


def test_ha_base_keeps_one_replica_through_disruptions_and_is_scraped(
    base: list[Manifest], find: Find
) -> None:
    pod_labels = find(base, "Deployment", "paramedic")["spec"]["template"]["metadata"]["labels"]
    pdb = find(base, "PodDisruptionBudget", "paramedic")
    assert pdb["spec"]["minAvailable"] == 1
    assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    monitor = find(base, "ServiceMonitor", "paramedic")
    service = find(base, "Service", "paramedic")
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    (endpoint,) = monitor["spec"]["endpoints"]
    assert (endpoint["port"], endpoint["path"]) == ("http", "/metrics")
    assert endpoint["authorization"]["credentials"] == {"name": "paramedic-tokens", "key": "api-token"}


def test_single_replica_overlay_keeps_sqlite_without_election(single: list[Manifest], find: Find) -> None:
    deployment = find(single, "Deployment", "paramedic")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}, "never two SQLite writers"
    assert "PARAMEDIC_STORAGE_URL" not in _env(deployment)
    assert find(single, "ConfigMap", "paramedic-settings")["data"]["PARAMEDIC_HA__ENABLED"] == "false"
    kinds = {(m["kind"], m["metadata"]["name"]) for m in single}
    assert ("PodDisruptionBudget", "paramedic") not in kinds, "a PDB would block every drain"
    assert ("Secret", "paramedic-postgres") not in kinds and ("Role", LEASE_ROLE) not in kinds
