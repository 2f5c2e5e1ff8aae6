"""The image catalogue: the sandbox's own images first, then public images with their profiles."""

from sandbox.images import ImageCatalogue

CATALOGUE = ImageCatalogue()


def test_sandbox_images_resolve_to_their_static_specs():
    spec = CATALOGUE.resolve("ghcr.io/paramedic-demo/web-api:1.5.0")
    assert spec is not None and spec.profile is None and spec.port == 8080


def test_a_missing_tag_of_a_sandbox_image_is_not_found():
    pulled = CATALOGUE.pull("ghcr.io/paramedic-demo/web-api:9.9.9")
    assert pulled.spec is None and pulled.reason == "ErrImagePull"
    assert pulled.message.endswith("ghcr.io/paramedic-demo/web-api:9.9.9: not found")


def test_the_sandbox_namespace_holds_nothing_but_its_images():
    pulled = CATALOGUE.pull("ghcr.io/paramedic-demo/payments:1.0")
    assert pulled.spec is None and "401 Unauthorized" in pulled.message


def test_invalid_names_are_invalid_image_name():
    pulled = CATALOGUE.pull("Web-Api:1")
    assert pulled.reason == "InvalidImageName" and "must be lowercase" in pulled.message


def test_public_images_get_their_profile_and_base_tools():
    nginx = CATALOGUE.resolve("nginx:1.27")
    assert nginx is not None and nginx.profile == "nginx" and nginx.port == 80 and nginx.version == "1.27.5"
    assert {"nginx", "sh", "bash", "curl"} <= nginx.binaries and "wget" not in nginx.binaries
    alpine = CATALOGUE.resolve("alpine:3.19")
    assert {"sh", "wget", "nc"} <= alpine.binaries and not {"bash", "curl"} & alpine.binaries
    assert CATALOGUE.resolve("postgres:16").env[0].name == "POSTGRES_PASSWORD"


def test_tags_list_existing_releases_for_fault_builders():
    assert {"16", "16.10", "latest"} <= set(CATALOGUE.tags("postgres"))
    assert CATALOGUE.tags("ghcr.io/paramedic-demo/web-api")[:2] == ["1.4.0", "1.4.1"]


def test_slim_and_alpine_variants_lack_the_full_images_tools():
    assert {"curl", "wget"} <= CATALOGUE.resolve("python:3.12").binaries
    assert not {"curl", "wget"} & CATALOGUE.resolve("python:3.12-slim").binaries
    alpine = CATALOGUE.resolve("node:20-alpine").binaries
    assert "wget" in alpine and "curl" not in alpine
