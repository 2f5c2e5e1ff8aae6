"""The shipped registry model: real tags of well-known images exist, the rest fail like a registry."""

import pytest

from sandbox.profiles import PROFILES
from sandbox.registry import Found, ImageRegistry, Refused, RegistryCatalog, RegistrySettings, parse_reference

REGISTRY = ImageRegistry()

EXISTING = [
    "busybox",
    "busybox:1.35",
    "busybox:1.28",
    "busybox:1.36.1-glibc",
    "nginx:alpine",
    "nginx:1.14.2",
    "nginx:stable-alpine",
    "nginx:1.27-alpine-slim",
    "redis:6.2.6",
    "redis:7-alpine",
    "redis:7.2.4-bookworm",
    "python:3.9-slim",
    "python:3.12-slim-bookworm",
    "python:2.7",
    "node:20-alpine",
    "node:lts-alpine",
    "node:18.19.0-bookworm-slim",
    "postgres:16.2-alpine",
    "postgres:9.6",
    "mysql:8.0",
    "mysql:5.7.44",
    "mariadb:10.11",
    "mongo:7.0",
    "golang:1.22-alpine",
    "eclipse-temurin:17-jre-alpine",
    "openjdk:17-jdk-slim",
    "httpd:2.4",
    "caddy:2",
    "traefik:v2.10",
    "traefik:3.1",
    "haproxy:2.8",
    "memcached:1.6-alpine",
    "rabbitmq:3-management",
    "rabbitmq:3.13-management-alpine",
    "elasticsearch:8.13.4",
    "curlimages/curl:8.5.0",
    "prom/prometheus:v2.51.0",
    "grafana/grafana:10.4.2",
    "registry.k8s.io/pause:3.9",
    "nginxinc/nginx-unprivileged:1.25-alpine",
    "bitnami/redis:7.2.4-debian-12-r5",
    "ubuntu:22.04",
    "ubuntu:jammy",
    "debian:bookworm-slim",
    "debian:12",
    "alpine:3.19",
    "alpine:3.19.1",
    "amazonlinux:2023",
    "php:8.2-apache",
    "perl:5.34.0",
    "hello-world",
    "k8s.gcr.io/echoserver:1.4",
    "gcr.io/google-samples/hello-app:1.0",
    "registry.k8s.io/e2e-test-images/agnhost:2.39",
    "polinux/stress",
    "couchdb:3.3",
    "zookeeper:3.9",
]


@pytest.mark.parametrize("image", EXISTING)
def test_real_tags_of_well_known_images_exist(image):
    assert isinstance(REGISTRY.resolve(parse_reference(image)), Found)


@pytest.mark.parametrize(
    ("image", "canonical"),
    [
        ("nginx:1.99", "docker.io/library/nginx:1.99"),
        ("redis:9.9.9", "docker.io/library/redis:9.9.9"),
        ("python:3.13-buster", "docker.io/library/python:3.13-buster"),
        ("node:99", "docker.io/library/node:99"),
        ("elasticsearch", "docker.io/library/elasticsearch:latest"),
        ("postgres:16.99", "docker.io/library/postgres:16.99"),
        ("registry.k8s.io/pause:9.9", "registry.k8s.io/pause:9.9"),
    ],
)
def test_tags_that_were_never_published_are_not_found(image, canonical):
    found = REGISTRY.resolve(parse_reference(image))
    assert isinstance(found, Refused) and found.code == "NotFound"
    assert found.message(image) == (
        f'Failed to pull image "{image}": rpc error: code = NotFound desc = failed to pull and unpack image '
        f'"{canonical}": failed to resolve reference "{canonical}": {canonical}: not found'
    )


@pytest.mark.parametrize(
    "image", ["ngnix", "postgress:15", "busybx", "reddis:7", "mongodb:7", "bitnami/postgressql:16"]
)
def test_typos_and_unknown_official_images_are_denied(image):
    found = REGISTRY.resolve(parse_reference(image))
    assert isinstance(found, Refused) and found.code == "Unknown"
    assert "pull access denied, repository does not exist or may require authorization" in found.detail


def test_the_typo_message_is_containerds_word_for_word():
    found = REGISTRY.resolve(parse_reference("ngnix:latest"))
    ref = "docker.io/library/ngnix:latest"
    assert found.message("ngnix:latest") == (
        'Failed to pull image "ngnix:latest": rpc error: code = Unknown desc = failed to pull and unpack '
        f'image "{ref}": failed to resolve reference "{ref}": pull access denied, repository does not exist '
        "or may require authorization: server message: insufficient_scope: authorization failed"
    )


def test_ghcr_and_quay_answer_a_missing_repository_their_own_way():
    ghcr = REGISTRY.resolve(parse_reference("ghcr.io/stefanprodan/podinf:6.5.0"))
    assert isinstance(ghcr, Refused) and "failed to fetch anonymous token" in ghcr.detail
    assert "scope=repository%3Astefanprodan%2Fpodinf%3Apull" in ghcr.detail
    quay = REGISTRY.resolve(parse_reference("quay.io/prometheus/prometeus:v2.51.0"))
    assert isinstance(quay, Refused) and quay.detail.endswith("401 UNAUTHORIZED")


def test_found_images_carry_profile_base_variant_and_version():
    found = REGISTRY.resolve(parse_reference("nginx:1.25-alpine"))
    assert (found.profile, found.base, found.variant, found.version) == (
        "nginx",
        "alpine",
        "alpine",
        "1.25.5",
    )
    php = REGISTRY.resolve(parse_reference("php:8.2-fpm-alpine"))
    assert (php.profile, php.base) == ("php-fpm", "alpine")


def test_unknown_repositories_on_public_registries_are_assumed_to_exist():
    found = REGISTRY.resolve(parse_reference("acme/orders-api:2.3.1"))
    assert isinstance(found, Found) and not found.known


def test_unknown_registries_follow_the_settings():
    ref = parse_reference("registry.corp.example:5000/team/api:1.4")
    assert isinstance(ImageRegistry().resolve(ref), Found)
    down = ImageRegistry(settings=RegistrySettings(unknown="unreachable")).resolve(ref)
    assert isinstance(down, Refused) and down.detail == (
        'failed to do request: Head "https://registry.corp.example:5000/v2/team/api/manifests/1.4": '
        "dial tcp: lookup registry.corp.example on 127.0.0.53:53: no such host"
    )
    private = ImageRegistry(settings=RegistrySettings(hosts={"registry.corp.example:5000": "auth-required"}))
    denied = private.resolve(ref)
    assert isinstance(denied, Refused) and denied.detail.endswith(
        "/v2/team/api/manifests/1.4: 401 Unauthorized"
    )
    assert isinstance(private.resolve(ref, frozenset({"registry.corp.example:5000"})), Found)


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("PARAMEDIC_SANDBOX_REGISTRY_UNKNOWN", "auth-required")
    monkeypatch.setenv("PARAMEDIC_SANDBOX_REGISTRY_HOSTS", '{"r.example": "unreachable"}')
    settings = RegistrySettings()
    assert settings.mode("x.example") == "auth-required" and settings.mode("r.example") == "unreachable"


def test_every_profile_the_data_names_exists():
    catalog = RegistryCatalog.shipped()
    for repo in catalog._repos.values():
        assert repo.entry.profile in PROFILES, repo.repository
        for variant in repo.entry.variants.values():
            assert variant is None or variant.profile is None or variant.profile in PROFILES
