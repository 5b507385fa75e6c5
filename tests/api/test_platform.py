from __future__ import annotations

import httpx

from tests.fixtures.api import Harness


async def test_health_and_readiness(harness: Harness) -> None:
    async with harness.client() as client:
        assert (await client.get("/healthz")).json() == {"status": "ok", "checks": {}}
        ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok"}


async def test_openapi_is_3_1_and_lists_the_api(harness: Harness) -> None:
    async with harness.client() as client:
        document = (await client.get("/api/v2/openapi.json")).json()
    assert document["openapi"].startswith("3.1")
    assert "/api/v2/projects" in document["paths"]
    assert "/api/v2/audit-log" in document["paths"]


async def test_docs_page_loads_only_local_assets(harness: Harness) -> None:
    async with harness.client() as client:
        page = await client.get("/api/v2/docs")
        init = await client.get("/api/v2/docs/init.js")
    assert page.status_code == 200
    assert "/static/swagger/swagger-ui-bundle.js" in page.text
    assert "http" not in page.text.replace("http-equiv", "")
    assert "cdn" not in page.text.lower()
    assert init.headers["content-type"].startswith("text/javascript")
    assert "script-src 'self'" in page.headers["content-security-policy"]


async def test_pagination_has_total_cap_and_stable_order(admin: httpx.AsyncClient) -> None:
    for name in ["b", "a", "c", "a2", "d"]:
        await admin.post("/api/v2/projects", json={"name": name})
    first = (await admin.get("/api/v2/projects", params={"page[size]": 2})).json()
    second = (
        await admin.get("/api/v2/projects", params={"page[size]": 2, "page[number]": 2})
    ).json()
    third = (
        await admin.get("/api/v2/projects", params={"page[size]": 2, "page[number]": 3})
    ).json()
    names = [p["name"] for page in (first, second, third) for p in page["data"]]
    assert names == ["a", "a2", "b", "c", "d"]
    assert first["meta"] == {"total": 5, "page": 1, "size": 2}
    descending = (await admin.get("/api/v2/projects", params={"sort": "-name"})).json()
    assert [p["name"] for p in descending["data"]] == ["d", "c", "b", "a2", "a"]


async def test_spa_fallback_serves_html_for_app_paths(harness: Harness) -> None:
    async with harness.client() as client:
        response = await client.get("/projects/42")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
