from __future__ import annotations

import httpx


async def test_batch_reports_each_item(admin: httpx.AsyncClient) -> None:
    await admin.post(
        "/api/v2/fields", json={"label": "CRM id", "type": "text", "is_identifier": True}
    )
    existing = (
        await admin.post("/api/v2/contacts", json={"email": "old@example.com", "first_name": "Old"})
    ).json()
    by_crm = (
        await admin.post("/api/v2/contacts", json={"fields": {"crm_id": "C-9"}, "city": "Oslo"})
    ).json()
    response = await admin.post(
        "/api/v2/contacts/batch",
        json={
            "contacts": [
                {"email": "new@example.com", "first_name": "New", "tags": ["t1"]},
                {"email": "OLD@example.com", "first_name": "Older", "tags": ["t2"]},
                {"email": "broken", "first_name": "X"},
                {"email": "new@example.com", "last_name": "Again"},
                {"email": "old@example.com", "first_name": "Older"},
                {"fields": {"crm_id": "C-9"}, "city": "Bergen"},
                {"first_name": "Nobody"},
            ]
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    statuses = [r["status"] for r in body["results"]]
    assert statuses == [
        "created",
        "updated",
        "failed",
        "updated",
        "unchanged",
        "updated",
        "created",
    ]
    assert body["results"][2]["errors"][0]["pointer"] == "/contacts/2/email"
    assert (body["created"], body["updated"], body["unchanged"], body["failed"]) == (2, 3, 1, 1)
    new_id = body["results"][0]["id"]
    assert body["results"][3]["id"] == new_id
    assert body["results"][1]["id"] == existing["id"]
    assert body["results"][5]["id"] == by_crm["id"]

    new = (await admin.get(f"/api/v2/contacts/{new_id}")).json()
    assert (new["first_name"], new["last_name"], new["tags"]) == ("New", "Again", ["t1"])
    old = (await admin.get(f"/api/v2/contacts/{existing['id']}")).json()
    assert old["first_name"] == "Older"
    assert old["tags"] == ["t2"]
    crm = (await admin.get(f"/api/v2/contacts/{by_crm['id']}")).json()
    assert crm["city"] == "Bergen"
    anonymous = (await admin.get(f"/api/v2/contacts/{body['results'][6]['id']}")).json()
    assert anonymous["is_anonymous"] is True


async def test_batch_limits(admin: httpx.AsyncClient) -> None:
    too_many = await admin.post(
        "/api/v2/contacts/batch", json={"contacts": [{"email": f"{i}@x.com"} for i in range(1001)]}
    )
    assert too_many.status_code in {413, 422}
    empty = await admin.post("/api/v2/contacts/batch", json={"contacts": []})
    assert empty.status_code == 422


async def test_a_full_batch_of_a_thousand(admin: httpx.AsyncClient) -> None:
    items = [
        {"email": f"user{i}@example.com", "first_name": f"U{i}", "tags": ["bulk"]}
        for i in range(1000)
    ]
    response = await admin.post("/api/v2/contacts/batch", json={"contacts": items})
    assert response.status_code == 200
    assert response.json()["created"] == 1000
    again = await admin.post("/api/v2/contacts/batch", json={"contacts": items})
    assert again.json()["unchanged"] == 1000
    assert (await admin.get("/api/v2/contacts")).json()["meta"]["total"] == 1000
