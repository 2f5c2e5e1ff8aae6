"""Image references parse and normalise the way container runtimes do."""

import pytest

from sandbox.registry import InvalidReference, parse_reference
from sandbox.registry.reference import kubelet_reference_error

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("image", "repository", "tag", "canonical"),
    [
        ("nginx", "docker.io/library/nginx", "latest", "docker.io/library/nginx:latest"),
        (
            "nginx:1.25-alpine",
            "docker.io/library/nginx",
            "1.25-alpine",
            "docker.io/library/nginx:1.25-alpine",
        ),
        ("bitnami/redis:7.2", "docker.io/bitnami/redis", "7.2", "docker.io/bitnami/redis:7.2"),
        ("docker.io/library/redis:7", "docker.io/library/redis", "7", "docker.io/library/redis:7"),
        ("index.docker.io/library/redis:7", "docker.io/library/redis", "7", "docker.io/library/redis:7"),
        ("ghcr.io/org/app:1.0", "ghcr.io/org/app", "1.0", "ghcr.io/org/app:1.0"),
        ("localhost:5000/app", "localhost:5000/app", "latest", "localhost:5000/app:latest"),
        ("registry.k8s.io/pause:3.9", "registry.k8s.io/pause", "3.9", "registry.k8s.io/pause:3.9"),
        (f"nginx@{DIGEST}", "docker.io/library/nginx", "latest", f"docker.io/library/nginx@{DIGEST}"),
        (f"nginx:1.25@{DIGEST}", "docker.io/library/nginx", "1.25", f"docker.io/library/nginx:1.25@{DIGEST}"),
    ],
)
def test_references_normalise_like_containerd(image, repository, tag, canonical):
    ref = parse_reference(image)
    assert (ref.repository, ref.tag, ref.canonical) == (repository, tag, canonical)


def test_short_repository_is_how_people_write_it():
    assert parse_reference("docker.io/library/nginx:1").short_repository == "nginx"
    assert parse_reference("bitnami/redis").short_repository == "bitnami/redis"
    assert parse_reference("quay.io/a/b").short_repository == "quay.io/a/b"


@pytest.mark.parametrize("image", ["", "nginx:", "nginx:-bad", "nginx@sha256:xyz", "a//b", "ngin x"])
def test_malformed_references_are_invalid(image):
    with pytest.raises(InvalidReference, match="invalid reference format"):
        parse_reference(image)


def test_uppercase_repository_is_invalid_with_the_kubelet_message():
    with pytest.raises(InvalidReference) as err:
        parse_reference("Nginx:1.25")
    assert kubelet_reference_error("Nginx:1.25", err.value) == (
        'Failed to apply default image tag "Nginx:1.25": couldn\'t parse image name "Nginx:1.25": '
        "invalid reference format: repository name (library/Nginx) must be lowercase"
    )
