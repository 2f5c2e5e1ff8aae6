"""Manifest patching: strategic-merge semantics and round-trip fidelity on real-world files."""

from __future__ import annotations

import difflib

import pytest
import yaml

from tests.tools.gitops.conftest import DATA
from tools.gitops.manifests import ManifestError, documents, patch_text, strategic_merge, unified_diff

CHECKOUT = (DATA / "checkout-deployment.yaml").read_text()
WORKER = (DATA / "worker-compact.yaml").read_text()


def container_patch(name: str, **fields: object) -> dict[str, object]:
    return {"spec": {"template": {"spec": {"containers": [{"name": name, **fields}]}}}}


def changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    """(removed, added) lines between two texts."""
    removed, added = [], []
    for line in difflib.ndiff(before.splitlines(), after.splitlines()):
        if line.startswith("- "):
            removed.append(line[2:])
        elif line.startswith("+ "):
            added.append(line[2:])
    return removed, added


def test_documents_skip_comment_only_and_keep_order() -> None:
    docs = documents(
        "# header only\n---\na: 1\n---\n# nothing here\n---\nkind: Service\nmetadata: {name: x}\n"
    )
    assert [d.index for d in docs] == [0, 1]
    assert docs[1].kind == "Service" and docs[1].name == "x"


def test_invalid_yaml_is_a_clear_error() -> None:
    with pytest.raises(ManifestError, match="not valid YAML"):
        documents("a: [1, 2\n", "broken.yaml")


def test_memory_limit_patch_keeps_everything_before_it_and_the_other_documents() -> None:
    after = patch_text(CHECKOUT, 0, container_patch("checkout", resources={"limits": {"memory": "512Mi"}}))
    before_lines, after_lines = CHECKOUT.splitlines(), after.splitlines()
    untouched = before_lines.index("          resources: &checkout-resources")
    assert after_lines[:untouched] == before_lines[:untouched]
    assert '              memory: "512Mi"   # OOMs above ~240Mi under load' in after_lines
    # The envoy sidecar aliases the same resources block: it must keep 256Mi, so the alias is expanded.
    parsed = list(yaml.safe_load_all(after))
    containers = parsed[0]["spec"]["template"]["spec"]["containers"]
    assert containers[0]["resources"]["limits"]["memory"] == "512Mi"
    assert containers[1]["resources"]["limits"]["memory"] == "256Mi"
    assert containers[0]["resources"]["requests"] == {"cpu": "100m", "memory": "128Mi"}
    assert containers[0]["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert parsed[1:] == list(yaml.safe_load_all(CHECKOUT))[1:]
    # Every other document is byte-for-byte unchanged.
    assert after.split("\n---\n")[1:] == CHECKOUT.split("\n---\n")[1:]


def test_memory_limit_patch_without_aliases_changes_one_line() -> None:
    text = CHECKOUT.replace("resources: *checkout-resources", "resources: {}")
    after = patch_text(text, 0, container_patch("checkout", resources={"limits": {"memory": "512Mi"}}))
    removed, added = changed_lines(text, after)
    assert removed == ['              memory: "256Mi"   # OOMs above ~240Mi under load']
    assert added == ['              memory: "512Mi"   # OOMs above ~240Mi under load']


def test_replicas_patch_keeps_comment_column_and_header_comments() -> None:
    after = patch_text(CHECKOUT, 0, {"spec": {"replicas": 4}})
    removed, added = changed_lines(CHECKOUT, after)
    assert removed == ["  replicas: 2   # scaled by the HPA in prod"]
    assert added == ["  replicas: 4   # scaled by the HPA in prod"]
    assert after.startswith("# Checkout service — owned by team-payments.\n")


def test_env_merge_by_name_updates_in_place_and_appends_new_keeping_quotes() -> None:
    patch = container_patch(
        "checkout", env=[{"name": "CACHE_TTL", "value": "60"}, {"name": "GOMAXPROCS", "value": "2"}]
    )
    after = patch_text(CHECKOUT, 0, patch)
    removed, added = changed_lines(CHECKOUT, after)
    assert removed == ['              value: "30"   # seconds']
    assert added == [
        '              value: "60"   # seconds',
        "            - name: GOMAXPROCS",
        "              value: '2'",
    ]
    env = yaml.safe_load_all(after).__next__()["spec"]["template"]["spec"]["containers"][0]["env"]
    assert [e["name"] for e in env] == ["DB_HOST", "CACHE_TTL", "FEATURE_FLAGS", "GOMAXPROCS"]
    assert env[2]["valueFrom"]["configMapKeyRef"]["name"] == "checkout-flags"  # untouched sibling


def test_compact_sequence_style_is_kept() -> None:
    patch = container_patch("worker", resources={"limits": {"memory": "128Mi"}, "requests": {"cpu": "50m"}})
    after = patch_text(WORKER, 0, patch)
    removed, added = changed_lines(WORKER, after)
    assert removed == ["            memory: 64Mi"]
    assert added == ["            memory: 128Mi", "          requests:", "            cpu: 50m"]


def test_image_patch_on_a_sidecar_leaves_the_alias_alone() -> None:
    after = patch_text(CHECKOUT, 0, container_patch("envoy", image="envoyproxy/envoy:v1.29.0"))
    removed, added = changed_lines(CHECKOUT, after)
    assert removed == ["          image: envoyproxy/envoy:v1.29.1"]
    assert added == ["          image: envoyproxy/envoy:v1.29.0"]


def test_patch_on_second_document_touches_only_it() -> None:
    after = patch_text(CHECKOUT, 1, {"spec": {"ports": [{"name": "http", "port": 8080}]}})
    removed, added = changed_lines(CHECKOUT, after)
    assert (removed, added) == (["    port: 80"], ["    port: 8080"])


def test_probe_is_added_to_a_container_without_one() -> None:
    probe = {"httpGet": {"path": "/ready", "port": 8080}, "initialDelaySeconds": 5}
    after = patch_text(WORKER, 0, container_patch("worker", readinessProbe=probe))
    container = yaml.safe_load(after)["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"] == probe
    assert container["command"] == ["/bin/worker", "--queue=orders"]


def test_delete_directive_and_null_remove() -> None:
    patch = container_patch("checkout", env=[{"name": "DB_HOST", "$patch": "delete"}], readinessProbe=None)
    after = patch_text(CHECKOUT, 0, patch)
    container = next(yaml.safe_load_all(after))["spec"]["template"]["spec"]["containers"][0]
    assert [e["name"] for e in container["env"]] == ["CACHE_TTL", "FEATURE_FLAGS"]
    assert "readinessProbe" not in container


def test_unknown_container_is_appended() -> None:
    after = patch_text(WORKER, 0, container_patch("sidecar", image="busybox:1.36"))
    names = [c["name"] for c in yaml.safe_load(after)["spec"]["template"]["spec"]["containers"]]
    assert names == ["worker", "sidecar"]


def test_patch_errors_name_the_problem() -> None:
    with pytest.raises(ManifestError, match="no document 5"):
        patch_text(CHECKOUT, 5, {"spec": {"replicas": 1}})
    with pytest.raises(ManifestError, match="no merge key"):
        patch_text(WORKER, 0, container_patch("worker", env=[{"value": "x"}]))
    with pytest.raises(ManifestError, match="has a list here, the patch a mapping"):
        patch_text(WORKER, 0, {"spec": {"template": {"spec": {"containers": {"name": "x"}}}}})
    with pytest.raises(ManifestError, match=r"spec\.ports: the manifest has a mapping here, not a list"):
        patch_text("kind: Service\nspec:\n  ports:\n    http: 80\n", 0, {"spec": {"ports": [{"port": 81}]}})


def test_strategic_merge_on_plain_dicts() -> None:
    doc = {"spec": {"ports": [{"containerPort": 80, "protocol": "TCP"}]}}
    strategic_merge(
        doc, {"spec": {"ports": [{"containerPort": 80, "protocol": "UDP"}, {"containerPort": 81}]}}
    )
    assert doc == {"spec": {"ports": [{"containerPort": 80, "protocol": "UDP"}, {"containerPort": 81}]}}


def test_merge_key_inheritance_is_not_mutated_through_the_base() -> None:
    text = (
        "defaults: &defaults\n  resources:\n    limits: {memory: 64Mi}\n"
        "kind: Deployment\nmetadata: {name: a}\nspec:\n  <<: *defaults\n  replicas: 1\n"
    )
    after = patch_text(text, 0, {"spec": {"resources": {"limits": {"memory": "1Gi"}}}})
    data = yaml.safe_load(after)
    assert data["spec"]["resources"]["limits"]["memory"] == "1Gi"
    assert data["defaults"]["resources"]["limits"]["memory"] == "64Mi"


def test_unified_diff_is_git_style() -> None:
    after = patch_text(WORKER, 0, {"spec": {"replicas": 2}})
    diff = unified_diff(WORKER, after, "manifests/worker.yaml")
    assert diff.startswith("--- a/manifests/worker.yaml\n+++ b/manifests/worker.yaml\n@@")
    assert "-  replicas: 1\n+  replicas: 2\n" in diff


def test_file_without_trailing_newline_stays_so() -> None:
    text = "kind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: '1'"
    after = patch_text(text, 0, {"data": {"a": "2"}})
    assert after == "kind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: '2'"
