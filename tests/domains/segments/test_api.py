"""The segments API: CRUD with audit and ETags, count, members, rebuild, errors."""

from __future__ import annotations

import httpx

from tests.domains.segments.conftest import World, all_of, cond
from tests.fixtures.api import Harness


def members_of(response: httpx.Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [m["contact_id"] for m in response.json()["data"]]


async def test_crud_audit_etag_and_projects(harness: Harness, admin: httpx.AsyncClient) -> None:
    project = (await admin.post("/api/v2/projects", json={"name": "Spring"})).json()
    created = await admin.post(
        "/api/v2/segments",
        json={
            "name": "Warm Leads!",
            "filters": all_of(cond("points", ">=", "10")),
            "projects": [project["id"]],
        },
    )
    assert created.status_code == 201, created.text
    segment = created.json()
    assert segment["alias"] == "warm-leads"
    assert segment["filters"]["conditions"][0]["value"] == 10  # stored normalised
    assert segment["projects"] == [{"id": project["id"], "name": "Spring"}]
    assert created.headers["etag"] == '"1"'
    second = await admin.post("/api/v2/segments", json={"name": "Warm leads"})
    assert second.json()["alias"] == "warm-leads-2"
    taken = await admin.post("/api/v2/segments", json={"name": "X", "alias": "warm-leads"})
    assert taken.status_code == 409
    assert taken.json()["errors"][0]["pointer"] == "/alias"

    url = f"/api/v2/segments/{segment['id']}"
    stale = await admin.patch(url, json={"name": "Hot"}, headers={"If-Match": '"7"'})
    assert stale.status_code == 412
    patched = await admin.patch(
        url,
        json={"name": "Hot leads", "filters": all_of(cond("points", ">=", 20)), "projects": []},
        headers={"If-Match": '"1"'},
    )
    assert patched.status_code == 200, patched.text
    assert patched.headers["etag"] == '"2"'
    entries = (
        await admin.get(
            "/api/v2/audit-log", params={"entity_type": "segment", "entity_id": segment["id"]}
        )
    ).json()["data"]
    assert [e["action"] for e in entries] == ["update", "create"]
    changes = entries[0]["changes"]
    assert changes["name"] == {"old": "Warm Leads!", "new": "Hot leads"}
    assert changes["projects"] == {"old": ["Spring"], "new": []}
    assert "filters" in changes
    assert entries[1]["changes"]["projects"] == {"old": [], "new": ["Spring"]}

    listed = await admin.get("/api/v2/segments", params={"project": project["id"]})
    assert listed.json()["meta"]["total"] == 0
    listed = await admin.get("/api/v2/segments", params={"q": "hot"})
    assert [s["id"] for s in listed.json()["data"]] == [segment["id"]]

    assert (await admin.delete(url)).status_code == 204
    assert (await admin.get(url)).status_code == 404


async def test_bad_filters_get_422_with_pointers(admin: httpx.AsyncClient) -> None:
    response = await admin.post(
        "/api/v2/segments",
        json={
            "name": "Bad",
            "filters": all_of(
                cond("points", ">", 1),
                cond("points", ">", 1),
                cond("points", "=", "many"),
                cond("field", "~~", "x", "city"),
                cond("custom_field", "=", "x", "nope"),
            ),
        },
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    pointers = [e["pointer"] for e in response.json()["errors"]]
    assert pointers == [
        "/filters/conditions/2/value",
        "/filters/conditions/3/operator",
        "/filters/conditions/4/field",
    ]
    count = await admin.post("/api/v2/segments/count", json={"filters": {"match": "both"}})
    assert count.status_code == 422
    assert count.json()["errors"][0]["pointer"] == "/filters/match"


async def test_a_new_or_changed_segment_is_built_without_being_asked(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    # None of these contacts changes after the segment exists, so the incremental pass
    # would never add them: the save itself queues the build.
    world = World(harness.database)
    a = await world.contact(email="a@example.com", points=10, tags=["vip"])
    b = await world.contact(email="b@example.com", points=1)
    vip = all_of(cond("tags", "has_any", ["vip"]))
    created = await admin.post("/api/v2/segments", json={"name": "VIP", "filters": vip})
    base = f"/api/v2/segments/{created.json()['id']}"
    await harness.app.state.jobs.drain()
    assert sorted(members_of(await admin.get(f"{base}/members"))) == [a]

    cold = all_of(cond("points", "<", 5))
    changed = await admin.patch(
        base, json={"filters": cold}, headers={"If-Match": created.headers["etag"]}
    )
    assert changed.status_code == 200, changed.text
    await harness.app.state.jobs.drain()
    assert sorted(members_of(await admin.get(f"{base}/members"))) == [b]


async def test_count_members_manual_changes_and_rebuild(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    world = World(harness.database)
    a = await world.contact(email="a@example.com", first_name="Ann", points=10, tags=["vip"])
    b = await world.contact(email="b@example.com", points=10)
    c = await world.contact(email="c@example.com", points=1, tags=["VIP"])
    filters = all_of(cond("tags", "has_any", ["vip"]))
    count = await admin.post("/api/v2/segments/count", json={"filters": filters})
    assert count.json() == {"count": 2}

    segment = (
        await admin.post("/api/v2/segments", json={"name": "VIP", "filters": filters})
    ).json()
    base = f"/api/v2/segments/{segment['id']}"
    queued = await admin.post(f"{base}/rebuild")
    assert queued.status_code == 202
    await harness.app.state.jobs.drain()
    assert sorted(members_of(await admin.get(f"{base}/members"))) == [a, c]
    assert (await admin.get(base)).json()["member_count"] == 2

    added = await admin.post(f"{base}/members", json={"contact_ids": [b, 424242]})
    assert added.json() == {"changed": 1, "unchanged": 0, "not_found": [424242], "member_count": 3}
    removed = await admin.request("DELETE", f"{base}/members", json={"contact_ids": [c]})
    assert removed.json()["changed"] == 1
    await admin.post(f"{base}/rebuild")
    await harness.app.state.jobs.drain()
    page = (await admin.get(f"{base}/members", params={"page[size]": 1})).json()
    assert page["meta"]["total"] == 2
    assert page["data"][0]["contact_id"] == b  # newest first
    assert page["data"][0]["manually_added"] is True

    mine = (await admin.get(f"/api/v2/contacts/{a}/segments")).json()
    assert [(s["id"], s["manually_added"]) for s in mine] == [(segment["id"], False)]
    assert (await admin.get(f"/api/v2/contacts/{c}/segments")).json() == []
    assert (await admin.get("/api/v2/contacts/999999/segments")).status_code == 404

    too_many = await admin.post(f"{base}/members", json={"contact_ids": list(range(1, 1002))})
    assert too_many.status_code == 422


async def test_segment_references_cycles_and_delete(admin: httpx.AsyncClient) -> None:
    one = (await admin.post("/api/v2/segments", json={"name": "One"})).json()
    two = (
        await admin.post(
            "/api/v2/segments",
            json={"name": "Two", "filters": all_of(cond("segment", "in", [one["id"]]))},
        )
    ).json()
    cycle = await admin.patch(
        f"/api/v2/segments/{one['id']}",
        json={"filters": all_of(cond("segment", "not_in", [two["id"]]))},
    )
    assert cycle.status_code == 422
    assert cycle.json()["errors"][0]["code"] == "cycle"
    assert cycle.json()["errors"][0]["pointer"] == "/filters/conditions/0/value/0"
    in_use = await admin.delete(f"/api/v2/segments/{one['id']}")
    assert in_use.status_code == 409
    assert in_use.json()["used_by"] == ["Two"]


async def test_filter_types_catalogue(admin: httpx.AsyncClient) -> None:
    types = {t["key"]: t for t in (await admin.get("/api/v2/segment-filter-types")).json()}
    assert {"field", "custom_field", "company_field", "tags", "points", "stage", "owner"} <= set(
        types
    )
    assert {"dnc", "segment", "created", "last_active"} <= set(types)
    custom = types["custom_field"]["operators"]
    assert "regexp" in [o["key"] for o in custom["text"]]
    assert "anniversary" in [o["key"] for o in custom["date"]]
    assert [o["key"] for o in types["tags"]["operators"]["*"]][:3] == [
        "has_any",
        "has_all",
        "has_none",
    ]


async def test_custom_field_in_use_cannot_be_deleted(admin: httpx.AsyncClient) -> None:
    field = (
        await admin.post("/api/v2/fields", json={"label": "Plan", "alias": "plan", "type": "text"})
    ).json()
    await admin.post(
        "/api/v2/segments",
        json={"name": "Gold", "filters": all_of(cond("custom_field", "=", "gold", "plan"))},
    )
    refused = await admin.delete(f"/api/v2/fields/{field['id']}")
    assert refused.status_code == 409
    assert "Gold" in refused.json()["detail"]


async def test_analyst_cannot_change_segments(harness: Harness) -> None:
    async with await harness.client_as("analyst@example.com", role="Analyst") as analyst:
        assert (await analyst.get("/api/v2/segments")).status_code == 200
        refused = await analyst.post("/api/v2/segments", json={"name": "Nope"})
        assert refused.status_code == 403
