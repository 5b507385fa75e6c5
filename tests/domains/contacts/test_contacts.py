from __future__ import annotations

import httpx

from tests.domains.fields.test_fields import make_field
from tests.fixtures.api import Harness


async def test_create_read_and_core_field_validation(admin: httpx.AsyncClient) -> None:
    created = await admin.post(
        "/api/v2/contacts",
        json={
            "email": "Ada@Example.COM",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "country": "gb",
            "timezone": "Europe/London",
            "tags": ["VIP", "vip", "math"],
            "points": 10,
        },
    )
    assert created.status_code == 201, created.text
    contact = created.json()
    assert contact["email"] == "ada@example.com"
    assert contact["country"] == "GB"
    assert contact["tags"] == ["math", "VIP"]
    assert contact["points"] == 10
    assert contact["is_anonymous"] is False
    assert created.headers["etag"] == '"1"'

    bad = await admin.post(
        "/api/v2/contacts",
        json={
            "email": "not an email",
            "country": "Atlantis",
            "timezone": "Mars/Base",
            "website": "ftp://x",
            "fields": {"nope": 1},
        },
    )
    assert bad.status_code == 422
    pointers = {e["pointer"] for e in bad.json()["errors"]}
    assert pointers == {"/email", "/country", "/timezone", "/website", "/fields/nope"}

    duplicate = await admin.post("/api/v2/contacts", json={"email": "ADA@example.com"})
    assert duplicate.status_code == 409
    assert duplicate.json()["errors"][0]["pointer"] == "/email"
    assert duplicate.json()["existing_id"] == contact["id"]


async def test_anonymous_contact_and_unknown_owner(admin: httpx.AsyncClient) -> None:
    anonymous = await admin.post("/api/v2/contacts", json={"city": "Paris"})
    assert anonymous.json()["is_anonymous"] is True
    ghost_owner = await admin.post("/api/v2/contacts", json={"email": "a@b.co", "owner_id": 999})
    assert ghost_owner.status_code == 422
    assert ghost_owner.json()["errors"][0]["pointer"] == "/owner_id"


async def test_update_tags_fields_and_timeline(admin: httpx.AsyncClient) -> None:
    await make_field(admin, label="Plan", type="text")
    contact = (
        await admin.post("/api/v2/contacts", json={"email": "t@example.com", "tags": ["a", "b"]})
    ).json()
    updated = await admin.patch(
        f"/api/v2/contacts/{contact['id']}",
        json={
            "first_name": "Tess",
            "fields": {"plan": "pro"},
            "add_tags": ["c"],
            "remove_tags": ["A"],
        },
        headers={"If-Match": '"1"'},
    )
    assert updated.status_code == 200, updated.text
    body = updated.json()
    assert body["tags"] == ["b", "c"]
    assert body["fields"] == {"plan": "pro"}
    assert body["version"] == 2
    stale = await admin.patch(
        f"/api/v2/contacts/{contact['id']}", json={"first_name": "X"}, headers={"If-Match": '"1"'}
    )
    assert stale.status_code == 412
    cleared = await admin.patch(
        f"/api/v2/contacts/{contact['id']}", json={"fields": {"plan": None}, "first_name": ""}
    )
    assert cleared.json()["fields"] == {}
    assert cleared.json()["first_name"] is None

    timeline = (await admin.get(f"/api/v2/contacts/{contact['id']}/activity")).json()
    kinds = [item["kind"] for item in timeline["data"]]
    assert kinds[-1] == "created"
    latest_update = timeline["data"][0]
    assert latest_update["details"]["changes"]["fields.plan"] == {"old": "pro", "new": None}
    first_update = next(i for i in timeline["data"][1:] if i["kind"] == "updated")
    assert first_update["details"]["changes"]["tags"] == {"old": ["a", "b"], "new": ["b", "c"]}


async def test_points_dnc_and_companies(admin: httpx.AsyncClient) -> None:
    contact = (await admin.post("/api/v2/contacts", json={"email": "p@example.com"})).json()
    cid = contact["id"]
    after = await admin.post(f"/api/v2/contacts/{cid}/points", json={"delta": 7, "reason": "Demo"})
    assert after.json()["points"] == 7
    dnc = await admin.post(
        f"/api/v2/contacts/{cid}/dnc", json={"channel": "email", "reason": "unsubscribed"}
    )
    assert [d["channel"] for d in dnc.json()["dnc"]] == ["email"]
    bad_reason = await admin.post(f"/api/v2/contacts/{cid}/dnc", json={"reason": "annoyed"})
    assert bad_reason.status_code == 422
    removed = await admin.delete(f"/api/v2/contacts/{cid}/dnc/email")
    assert removed.json()["dnc"] == []

    acme = (
        await admin.post("/api/v2/companies", json={"name": "Acme", "domain": "ACME.com"})
    ).json()
    assert acme["domain"] == "acme.com"
    globex = (await admin.post("/api/v2/companies", json={"name": "Globex"})).json()
    await admin.post(
        f"/api/v2/contacts/{cid}/companies", json={"company_id": acme["id"], "is_primary": True}
    )
    linked = await admin.post(
        f"/api/v2/contacts/{cid}/companies", json={"company_id": globex["id"], "is_primary": True}
    )
    assert linked.json()["companies"] == [
        {"id": globex["id"], "name": "Globex", "is_primary": True},
        {"id": acme["id"], "name": "Acme", "is_primary": False},
    ]
    companies = (await admin.get("/api/v2/companies")).json()["data"]
    assert {c["name"]: c["contacts"] for c in companies} == {"Acme": 1, "Globex": 1}

    timeline = (await admin.get(f"/api/v2/contacts/{cid}/activity")).json()["data"]
    kinds = [i["kind"] for i in timeline]
    assert {"points", "dnc_added", "dnc_removed"} <= set(kinds)
    points = next(i for i in timeline if i["kind"] == "points")
    assert points["summary"] == "+7 points: Demo"


async def test_search_and_filters(admin: httpx.AsyncClient) -> None:
    for email, first, tags in [
        ("ann@x.com", "Ann", ["x"]),
        ("bob@y.com", "Bob", []),
        ("carl@x.com", "Carl", ["x"]),
    ]:
        await admin.post(
            "/api/v2/contacts", json={"email": email, "first_name": first, "tags": tags}
        )
    found = (await admin.get("/api/v2/contacts", params={"q": "x.com"})).json()
    assert sorted(c["email"] for c in found["data"]) == ["ann@x.com", "carl@x.com"]
    by_name = (await admin.get("/api/v2/contacts", params={"q": "bob"})).json()
    assert [c["email"] for c in by_name["data"]] == ["bob@y.com"]
    tagged = (await admin.get("/api/v2/contacts", params={"tag": "X"})).json()
    assert tagged["meta"]["total"] == 2
    injection = await admin.get("/api/v2/contacts", params={"q": "' OR 1=1 --"})
    assert injection.status_code == 200
    assert injection.json()["meta"]["total"] == 0
    tags = (await admin.get("/api/v2/tags")).json()["data"]
    assert tags == [{"id": tags[0]["id"], "name": "x", "contacts": 2}]


async def test_merge_keeps_history_unions_tags_and_sums_points(admin: httpx.AsyncClient) -> None:
    winner = (
        await admin.post(
            "/api/v2/contacts", json={"email": "w@example.com", "tags": ["a"], "points": 5}
        )
    ).json()
    loser = (
        await admin.post(
            "/api/v2/contacts",
            json={"city": "Lyon", "phone": "+33 1 23 45 67 89", "tags": ["b"], "points": 3},
        )
    ).json()
    await admin.post(f"/api/v2/contacts/{loser['id']}/points", json={"delta": 2})
    merged = await admin.post(
        f"/api/v2/contacts/{winner['id']}/merge", json={"other_id": loser["id"]}
    )
    assert merged.status_code == 200, merged.text
    body = merged.json()
    assert body["points"] == 10
    assert body["tags"] == ["a", "b"]
    assert body["city"] == "Lyon"
    assert body["email"] == "w@example.com"
    # The old id still answers, with the surviving contact.
    assert (await admin.get(f"/api/v2/contacts/{loser['id']}")).json()["id"] == winner["id"]
    timeline = (await admin.get(f"/api/v2/contacts/{winner['id']}/activity")).json()["data"]
    points = [i["details"]["delta"] for i in timeline if i["kind"] == "points"]
    assert sorted(points) == [2, 3, 5]
    assert any(i["kind"] == "merged" for i in timeline)
    self_merge = await admin.post(
        f"/api/v2/contacts/{winner['id']}/merge", json={"other_id": winner["id"]}
    )
    assert self_merge.status_code == 422


async def test_owners_see_their_own_contacts(harness: Harness, admin: httpx.AsyncClient) -> None:
    roles = (await admin.get("/api/v2/roles")).json()["data"]
    role = await admin.post(
        "/api/v2/roles", json={"name": "Rep", "permissions": {"contacts": ["view_own", "edit_own"]}}
    )
    rep = await admin.post(
        "/api/v2/users",
        json={
            "email": "rep@example.com",
            "password": "Rep-password-1",
            "role_id": role.json()["id"],
        },
    )
    rep_id = rep.json()["id"]
    mine = (
        await admin.post("/api/v2/contacts", json={"email": "m@x.com", "owner_id": rep_id})
    ).json()
    theirs = (await admin.post("/api/v2/contacts", json={"email": "t@x.com"})).json()
    token = await harness.create_token(rep_id)
    async with harness.client(token=token) as client:
        listed = (await client.get("/api/v2/contacts")).json()
        assert [c["id"] for c in listed["data"]] == [mine["id"]]
        # Someone else's contact is not there at all for an own-only user (ADR 0015).
        assert (await client.get(f"/api/v2/contacts/{theirs['id']}")).status_code == 404
        assert (
            await client.patch(f"/api/v2/contacts/{mine['id']}", json={"city": "Rome"})
        ).status_code == 200
        assert (await client.delete(f"/api/v2/contacts/{mine['id']}")).status_code == 403
    assert roles


async def test_bulk_actions_and_company_filter(admin: httpx.AsyncClient) -> None:
    ids = [
        (await admin.post("/api/v2/contacts", json={"email": f"b{i}@example.com"})).json()["id"]
        for i in range(3)
    ]
    tagged = await admin.post(
        "/api/v2/contacts/bulk",
        json={"contact_ids": [*ids, 999], "action": "add_tags", "tags": ["webinar"]},
    )
    assert tagged.json() == {"affected": 3, "missing": [999], "refused": []}
    assert (await admin.get("/api/v2/contacts", params={"tag": "webinar"})).json()["meta"][
        "total"
    ] == 3
    acme = (await admin.post("/api/v2/companies", json={"name": "Acme"})).json()
    await admin.post(f"/api/v2/contacts/{ids[0]}/companies", json={"company_id": acme["id"]})
    at_acme = (await admin.get("/api/v2/contacts", params={"company_id": acme["id"]})).json()
    assert [c["id"] for c in at_acme["data"]] == [ids[0]]
    deleted = await admin.post(
        "/api/v2/contacts/bulk", json={"contact_ids": ids[1:], "action": "delete"}
    )
    assert deleted.json()["affected"] == 2
    assert (await admin.get("/api/v2/contacts")).json()["meta"]["total"] == 1
    no_tags = await admin.post(
        "/api/v2/contacts/bulk", json={"contact_ids": ids[:1], "action": "add_tags"}
    )
    assert no_tags.status_code == 422
