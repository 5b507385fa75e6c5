"""Routing through FastAPI's own ``include_router`` (ADR 0022, which took back the path index
of ADR 0011): path parameters and their conversion errors, 404, 405, the trailing
slash, dependencies (authentication, If-Match) and the public routes outside /api/v2 answer
as they did with the index. The expected answers below were checked against both routings
(commit d4f3906 ran the same requests through each and compared them)."""

from __future__ import annotations

import httpx

from tests.fixtures.api import Harness


async def test_routes_path_parameters_404_405_and_dependencies(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    created = await admin.post("/api/v2/companies", json={"name": "Routing Co"})
    assert created.status_code == 201, created.text
    company, etag = created.json()["id"], created.headers["etag"]
    async with harness.client() as anonymous:
        expected = [
            (admin, "GET", f"/api/v2/companies/{company}", {}, 200),
            (admin, "GET", "/api/v2/companies/not-a-number", {}, 422),
            (admin, "GET", "/api/v2/companies/999999", {}, 404),
            (admin, "GET", "/api/v2/companies", {"params": {"q": "Routing"}}, 200),
            (admin, "PUT", "/api/v2/companies", {}, 405),
            (admin, "DELETE", "/api/v2/segments", {}, 405),
            (admin, "GET", "/api/v2/no-such-thing", {}, 404),
            (anonymous, "GET", "/api/v2/companies", {}, 401),
            (anonymous, "GET", f"/api/v2/companies/{company}", {}, 401),
            (
                admin,
                "PATCH",
                f"/api/v2/companies/{company}",
                {"json": {"name": "Renamed"}, "headers": {"If-Match": '"999"'}},
                412,
            ),
            (
                admin,
                "PATCH",
                f"/api/v2/companies/{company}",
                {"json": {"name": "Renamed"}, "headers": {"If-Match": etag}},
                200,
            ),
            (anonymous, "GET", "/healthz", {}, 200),
            (anonymous, "POST", "/f/no-such-form", {"json": {"email": "a@example.com"}}, 404),
        ]
        answered = []
        for client, method, path, extra, _ in expected:
            response = await client.request(method, path, **extra)
            answered.append(response)
    assert [(r.request.method, r.request.url.path, r.status_code) for r in answered] == [
        (method, path, status) for _, method, path, _, status in expected
    ]
    assert answered[7].headers["www-authenticate"].startswith("Bearer")
    assert "company_id" in answered[1].text
