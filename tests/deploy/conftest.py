"""Fixtures for the deploy/ tests: the real kubectl, the rendered Kustomize output, a sandbox cluster."""

from __future__ import annotations

import importlib.util
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from sandbox.cluster import Sandbox
from tests import system_packages

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"

Manifest = dict[str, Any]


def kubectl_binary() -> str:
    """The real kubectl; its absence is a failure naming the package, not a skip (`make test` installs it)."""
    return system_packages.require("kubectl")


def run_kubectl(
    *args: str, stdin: str | None = None, kubeconfig: Path | None = None
) -> subprocess.CompletedProcess:
    cmd = [kubectl_binary()]
    if kubeconfig is not None:
        cmd += ["--kubeconfig", str(kubeconfig)]
    return subprocess.run(
        [*cmd, *args], input=stdin, capture_output=True, text=True, timeout=120, check=False
    )


def kustomize(path: Path) -> str:
    """`kubectl kustomize <path>` output; a rendering error fails the test with kubectl's message."""
    done = run_kubectl("kustomize", str(path))
    if done.returncode != 0:
        pytest.fail(f"kubectl kustomize {path.relative_to(ROOT)} failed: {done.stderr.strip()}")
    return done.stdout


def parse(text: str) -> list[Manifest]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


@pytest.fixture(scope="session")
def base_yaml() -> str:
    return kustomize(DEPLOY / "base")


@pytest.fixture(scope="session")
def base(base_yaml: str) -> list[Manifest]:
    return parse(base_yaml)


@pytest.fixture(scope="session")
def remediate_yaml() -> str:
    return kustomize(DEPLOY / "overlays" / "remediate-shop")


@pytest.fixture(scope="session")
def remediate(remediate_yaml: str) -> list[Manifest]:
    return parse(remediate_yaml)


@pytest.fixture(scope="session")
def find() -> Callable[[list[Manifest], str, str], Manifest]:
    def find_one(manifests: list[Manifest], kind: str, name: str) -> Manifest:
        matches = [m for m in manifests if m["kind"] == kind and m["metadata"]["name"] == name]
        assert len(matches) == 1, f"expected one {kind} {name}, found {len(matches)}"
        return matches[0]

    return find_one


@pytest.fixture(scope="session")
def generator() -> ModuleType:
    """deploy/generate_crd.py, imported from its file (deploy/ is not a package)."""
    spec = importlib.util.spec_from_file_location("paramedic_generate_crd", DEPLOY / "generate_crd.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A fresh embedded cluster per test (it starts in well under a second), served on loopback."""
    cluster = Sandbox(background=False).start()
    try:
        yield cluster
    finally:
        cluster.stop()
