"""Bad input gets the right status and an RFC 9457 body naming the field; nothing is written."""

from __future__ import annotations

import httpx
import pytest

from tests.fixtures.api import Harness

PROBLEM = "application/problem+json"


async def project_count(admin: httpx.AsyncClient) -> int:
    response = await admin.get("/api/v2/projects")
    return int(response.json()["meta"]["total"])


async def test_malformed_json_is_a_400_problem(admin: httpx.AsyncClient) -> None:
    response = await admin.post(
        "/api/v2/projects", content=b'{"name": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"].endswith("/malformed-json")
    assert await project_count(admin) == 0


async def test_unknown_field_is_rejected_with_a_pointer(admin: httpx.AsyncClient) -> None:
    response = await admin.post("/api/v2/projects", json={"name": "A", "colour": "red"})
    assert response.status_code == 422
    body = response.json()
    assert body["status"] == 422
    assert {"pointer": "/colour", "detail": "Unknown field.", "code": "extra_forbidden"} in body[
        "errors"
    ]
    assert await project_count(admin) == 0


async def test_wrong_type_points_at_the_field(admin: httpx.AsyncClient) -> None:
    response = await admin.post("/api/v2/projects", json={"name": ["not", "a", "string"]})
    assert response.status_code == 422
    assert [e["pointer"] for e in response.json()["errors"]] == ["/name"]


async def test_nested_pointer_for_a_list_item(admin: httpx.AsyncClient) -> None:
    response = await admin.post(
        "/api/v2/roles", json={"name": "R", "permissions": {"projects": ["fly"]}}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/permissions"


async def test_query_parameter_errors_name_the_parameter(admin: httpx.AsyncClient) -> None:
    response = await admin.get("/api/v2/projects", params={"page[size]": "100000"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["parameter"] == "page[size]"
    response = await admin.get("/api/v2/projects", params={"sort": "password"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["parameter"] == "sort"


@pytest.mark.parametrize("declared", [True, False])
async def test_oversized_body_is_413(
    harness: Harness, admin: httpx.AsyncClient, declared: bool
) -> None:
    limit = harness.settings.api.max_body_bytes
    payload = b'{"name": "' + b"x" * (limit + 10) + b'"}'
    if declared:
        response = await admin.post(
            "/api/v2/projects", content=payload, headers={"content-type": "application/json"}
        )
    else:

        async def chunks():  # type: ignore[no-untyped-def]
            for start in range(0, len(payload), 65536):
                yield payload[start : start + 65536]

        response = await admin.post(
            "/api/v2/projects", content=chunks(), headers={"content-type": "application/json"}
        )
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
    assert await project_count(admin) == 0


async def test_unknown_api_path_is_a_json_404(admin: httpx.AsyncClient) -> None:
    for method in ("GET", "POST", "DELETE"):
        response = await admin.request(method, "/api/v2/no-such-thing")
        assert response.status_code == 404
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["instance"] == "/api/v2/no-such-thing"


async def test_missing_entity_is_a_404_problem(admin: httpx.AsyncClient) -> None:
    response = await admin.get("/api/v2/projects/999")
    assert response.status_code == 404
    assert response.json()["detail"] == "No project with id 999."


async def test_missing_credentials_are_401(harness: Harness) -> None:
    async with harness.client() as anonymous:
        response = await anonymous.get("/api/v2/projects")
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert "Bearer" in response.headers["www-authenticate"]


async def test_wrong_token_is_401(harness: Harness) -> None:
    async with harness.client(token="trl_not-a-real-token") as client:
        response = await client.get("/api/v2/projects")
    assert response.status_code == 401
    assert "invalid_token" in response.headers["www-authenticate"]


async def test_lack_of_permission_is_403_and_writes_nothing(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    async with await harness.client_as("analyst@example.com", role="Analyst") as analyst:
        response = await analyst.post("/api/v2/projects", json={"name": "Nope"})
        assert response.status_code == 403
        assert response.headers["content-type"] == PROBLEM
        assert (await analyst.get("/api/v2/projects")).status_code == 200
    assert await project_count(admin) == 0


async def test_stale_etag_is_412(admin: httpx.AsyncClient) -> None:
    created = await admin.post("/api/v2/projects", json={"name": "Launch"})
    etag = created.headers["etag"]
    first = await admin.patch(
        f"/api/v2/projects/{created.json()['id']}",
        json={"name": "Launch 2"},
        headers={"If-Match": etag},
    )
    assert first.status_code == 200
    assert first.headers["etag"] != etag
    stale = await admin.patch(
        f"/api/v2/projects/{created.json()['id']}",
        json={"name": "Launch 3"},
        headers={"If-Match": etag},
    )
    assert stale.status_code == 412
    assert stale.json()["current_version"] == 2
    current = await admin.get(f"/api/v2/projects/{created.json()['id']}")
    assert current.json()["name"] == "Launch 2"


async def test_malformed_if_match_is_422(admin: httpx.AsyncClient) -> None:
    created = await admin.post("/api/v2/projects", json={"name": "Launch"})
    response = await admin.patch(
        f"/api/v2/projects/{created.json()['id']}",
        json={"name": "X"},
        headers={"If-Match": "yesterday"},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["parameter"] == "If-Match"


async def test_duplicate_name_is_409_naming_the_field(admin: httpx.AsyncClient) -> None:
    assert (await admin.post("/api/v2/projects", json={"name": "Spring"})).status_code == 201
    response = await admin.post("/api/v2/projects", json={"name": "spring"})
    assert response.status_code == 409
    assert response.json()["errors"] == [
        {"pointer": "/name", "detail": "This name is taken.", "code": "duplicate"}
    ]
    assert await project_count(admin) == 1


async def test_method_not_allowed_is_a_problem(admin: httpx.AsyncClient) -> None:
    response = await admin.put("/api/v2/projects")
    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM
