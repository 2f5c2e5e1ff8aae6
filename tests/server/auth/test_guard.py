"""The API fails closed: each hole of issue #15 (an emptied or deleted token file, no token and a
foreign Host, a cross-site Origin) and what must keep working beside them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.server.auth.conftest import AUTH, LOCAL, TOKEN, TRIGGER, MakeClient


def test_an_emptied_token_file_refuses_writes_instead_of_opening_them(
    make_client: MakeClient, token_file: Path
) -> None:
    client = make_client(token_file=str(token_file))
    assert client.post("/api/v1/runs", json=TRIGGER, headers=AUTH).status_code == 202
    token_file.write_text("")
    for headers in ({}, AUTH):
        refused = client.post("/api/v1/runs", json=TRIGGER, headers=headers)
        assert refused.status_code == 503, headers
        assert f"the API token file {token_file} is empty" in refused.json()["detail"]
    assert client.get("/api/v1/runs").status_code == 503, "reads that need the token are refused too"
    assert client.get("/healthz").status_code == 200, "the kubelet's probe stays open"


def test_a_deleted_token_file_refuses_writes_with_503_not_500(
    make_client: MakeClient, token_file: Path
) -> None:
    client = make_client(token_file=str(token_file))
    token_file.unlink()
    refused = client.post("/api/v1/runs", json=TRIGGER, headers=AUTH)
    assert refused.status_code == 503 and "is missing" in refused.json()["detail"]


@pytest.mark.parametrize("state", ["whitespace", "directory", "not-utf8"])
def test_an_unusable_token_file_never_opens_and_never_500s(
    make_client: MakeClient, tmp_path: Path, state: str
) -> None:
    path = tmp_path / "odd-token"
    if state == "whitespace":
        path.write_text("  \n\t\n")
    elif state == "directory":
        path.mkdir()
    else:
        path.write_bytes(b"\xff\xfe\xfa")
    client = make_client(token_file=str(path))
    assert client.post("/api/v1/runs", json=TRIGGER).status_code == 503
    assert client.post("/api/v1/runs", json=TRIGGER, headers={"Authorization": "Bearer "}).status_code == 503


def test_the_token_file_is_re_read_when_it_changes(make_client: MakeClient, token_file: Path) -> None:
    client = make_client(token_file=str(token_file))
    assert client.post("/api/v1/runs", json=TRIGGER, headers=AUTH).status_code == 202
    token_file.write_text("rotated-token-with-another-length\n")
    assert client.post("/api/v1/runs", json=TRIGGER, headers=AUTH).status_code == 401
    rotated = {"Authorization": "Bearer rotated-token-with-another-length"}
    assert client.post("/api/v1/runs", json=TRIGGER, headers=rotated).status_code == 202
    # Same length, new content, new inode (how editors and Secret volumes replace files).
    replacement = token_file.with_suffix(".new")
    replacement.write_text("ROTATED-TOKEN-WITH-ANOTHER-LENGTH\n")
    os.replace(replacement, token_file)
    upper = {"Authorization": "Bearer ROTATED-TOKEN-WITH-ANOTHER-LENGTH"}
    assert client.post("/api/v1/runs", json=TRIGGER, headers=upper).status_code == 202
    assert client.post("/api/v1/runs", json=TRIGGER, headers=rotated).status_code == 401


def test_a_wrong_or_missing_token_is_401(make_client: MakeClient) -> None:
    client = make_client(token=TOKEN)
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": f"Basic {TOKEN}"}):
        refused = client.post("/api/v1/runs", json=TRIGGER, headers=headers)
        assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer", headers


def test_without_a_token_a_foreign_host_is_refused(make_client: MakeClient) -> None:
    # A DNS-rebinding page: the browser thinks it talks to evil.example, the socket is 127.0.0.1.
    rebound = make_client(base_url="http://evil.example:8080")
    refused = rebound.post("/api/v1/runs", json=TRIGGER)
    assert refused.status_code == 403 and "loopback host" in refused.json()["detail"]
    assert rebound.get("/api/v1/runs").status_code == 403, "reads leak incident data too"
    for base in (LOCAL, "http://localhost:8080", "http://[::1]:8080"):
        assert make_client(base_url=base).post("/api/v1/runs", json=TRIGGER).status_code == 202, base
    named = make_client(base_url="http://paramedic.lab:8080", allowed_hosts=["paramedic.lab"])
    assert named.post("/api/v1/runs", json=TRIGGER).status_code == 202


@pytest.mark.parametrize(
    "browser",
    [{"Origin": "http://evil.example"}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"},
     {"Origin": "http://127.0.0.1:9999"}, {"Sec-Fetch-Site": "same-site"}],
)  # fmt: skip
def test_a_cross_site_write_is_refused_with_or_without_a_token(
    make_client: MakeClient, browser: dict[str, str]
) -> None:
    for client, auth in ((make_client(), {}), (make_client(token=TOKEN), AUTH)):
        refused = client.post("/api/v1/runs", json=TRIGGER, headers={**auth, **browser})
        assert refused.status_code == 403 and "may not write" in refused.json()["detail"]


def test_same_origin_and_non_browser_writes_pass(make_client: MakeClient) -> None:
    client = make_client(token=TOKEN)
    same = {"Origin": LOCAL, "Sec-Fetch-Site": "same-origin"}
    assert client.post("/api/v1/runs", json=TRIGGER, headers={**AUTH, **same}).status_code == 202
    assert client.post("/api/v1/runs", json=TRIGGER, headers=AUTH).status_code == 202  # curl, the CLI


def test_reads_need_the_token_when_one_is_configured(make_client: MakeClient) -> None:
    client = make_client(token=TOKEN)
    for path in ("/api/v1/runs", "/api/v1/incidents", "/api/v1/events", "/metrics"):
        assert client.get(path).status_code == 401, path
    assert client.get("/api/v1/runs", headers=AUTH).status_code == 200
    assert client.get("/healthz").status_code == 200 and client.get("/readyz").status_code == 200


def test_reads_opened_on_purpose_still_check_the_host_on_loopback(make_client: MakeClient) -> None:
    assert make_client(token=TOKEN, protect_reads=False).get("/api/v1/runs").status_code == 200
    rebound = make_client(base_url="http://evil.example:8080", token=TOKEN, protect_reads=False)
    assert rebound.get("/api/v1/runs").status_code == 403
    assert rebound.post("/api/v1/runs", json=TRIGGER, headers=AUTH).status_code == 202, "the token is enough"
    # Bound to every interface (in a cluster): the Service's name is the Host, reads stay open.
    in_cluster = make_client(base_url="http://paramedic.paramedic.svc:8080", token=TOKEN, protect_reads=False,
                             host="0.0.0.0")  # fmt: skip
    assert in_cluster.get("/api/v1/runs").status_code == 200


def test_the_openapi_schema_documents_the_refusals(make_client: MakeClient) -> None:
    schema = make_client().get("/openapi.json").json()
    answers = schema["paths"]["/api/v1/runs"]["post"]["responses"]
    assert {"401", "403", "503"} <= set(answers)
