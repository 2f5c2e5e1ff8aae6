"""Finding the manifest that defines a workload among a repository's files."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from tests.tools.gitops.conftest import manifest_files
from tools.gitops.finder import ManifestNotFound, locate, path_tier
from tools.gitops.records import Workload


class Reader:
    """Serves files from a dict and remembers which were read."""

    def __init__(self, files: dict[str, str]) -> None:
        self.files = files
        self.read: list[str] = []

    def __call__(self, paths: Sequence[str]) -> dict[str, str]:
        self.read.extend(paths)
        return {p: self.files[p] for p in paths}


def test_conventional_deploy_dir_is_found_without_reading_elsewhere() -> None:
    reader = Reader(manifest_files())
    location = locate(Workload("Deployment", "checkout", "shop"), reader.files, reader)
    assert (location.path, location.document_index, location.namespace) == (
        "deploy/checkout/deployment.yaml",
        0,
        "shop",
    )
    assert "charts/shop/templates/deployment.yaml" not in reader.read


def test_other_documents_in_a_multi_doc_file_by_kind() -> None:
    reader = Reader(manifest_files())
    location = locate(Workload("HorizontalPodAutoscaler", "checkout"), reader.files, reader)
    assert (location.path, location.document_index) == ("deploy/checkout/deployment.yaml", 2)


def test_manifests_name_yaml() -> None:
    reader = Reader(manifest_files())
    assert (
        locate(Workload("Deployment", "worker", "shop"), reader.files, reader).path == "manifests/worker.yaml"
    )


def test_kustomize_base_gets_the_overlay_namespace_and_patches_are_not_definitions() -> None:
    reader = Reader(manifest_files())
    location = locate(Workload("Deployment", "api", "prod"), reader.files, reader)
    assert location.path == "apps/api/base/deployment.yaml"
    assert location.namespace == "prod"


def test_kustomize_namespace_excludes_other_namespaces() -> None:
    reader = Reader(manifest_files())
    with pytest.raises(ManifestNotFound, match="Deployment/api in namespace staging"):
        locate(Workload("Deployment", "api", "staging"), reader.files, reader)


def test_declared_namespace_must_match() -> None:
    reader = Reader(manifest_files())
    with pytest.raises(ManifestNotFound):
        locate(Workload("Deployment", "checkout", "other"), reader.files, reader)


def test_unconventional_place_is_found_by_scanning_everything() -> None:
    files = {**manifest_files(), "clusters/eu/stuff.yaml": "kind: StatefulSet\nmetadata:\n  name: pg\n"}
    reader = Reader(files)
    assert locate(Workload("StatefulSet", "pg"), files, reader).path == "clusters/eu/stuff.yaml"


def test_two_equal_definitions_are_ambiguous() -> None:
    doc = "kind: Deployment\nmetadata:\n  name: dup\n"
    files = {"deploy/dup/a.yaml": doc, "deploy/dup/b.yaml": doc}
    with pytest.raises(ManifestNotFound, match="more than once"):
        locate(Workload("Deployment", "dup"), files, Reader(files))


def test_path_tiers() -> None:
    assert path_tier("deploy/checkout/deployment.yaml", "checkout") == 0
    assert path_tier("manifests/checkout.yaml", "checkout") == 0
    assert path_tier("checkout/deployment.yaml", "checkout") == 1
    assert path_tier("misc/other.yaml", "checkout") == 2
