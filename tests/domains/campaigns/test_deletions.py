"""Deleting a contact, campaign, segment or tag takes its rows out of the bulk tables, which
have no foreign keys to cascade (ADR 0009)."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select

from tests.domains.campaigns.helpers import campaign, contacts, edge, segment, step, trigger
from tests.fixtures.api import Harness
from trellis.db.models import (
    CampaignMember,
    ContactTag,
    EventLog,
    PointsChange,
    SegmentMember,
    SegmentMembershipChange,
)

TABLES: dict[str, Any] = {
    "journal": EventLog,
    "campaign members": CampaignMember,
    "segment members": SegmentMember,
    "segment log": SegmentMembershipChange,
    "tags": ContactTag,
    "points": PointsChange,
}


async def rows(harness: Harness, **where: int) -> dict[str, int]:
    """Rows per bulk table matching every ``column=value`` given (where the table has it)."""
    counts = {}
    async with harness.database.unit_of_work(read_only=True) as session:
        for name, model in TABLES.items():
            columns = [getattr(model, k) == v for k, v in where.items() if hasattr(model, k)]
            if len(columns) == len(where):
                counts[name] = int(
                    await session.scalar(select(func.count()).select_from(model).where(*columns))
                    or 0
                )
    return counts


async def test_deletions_leave_nothing_behind_in_the_bulk_tables(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    ann, bob, cat = await contacts(
        admin,
        {"email": "ann@example.com", "tags": ["vip"]},
        {"email": "bob@example.com", "tags": ["vip"]},
        {"email": "cat@example.com", "tags": ["vip"]},
    )
    vip = await segment(admin, "VIP", [{"type": "tags", "operator": "has_any", "value": ["vip"]}])
    score = step("contact.change_points", {"delta": 5})
    later = step(
        "contact.change_points",
        {"delta": 1},
        timing={"mode": "interval", "amount": 3, "unit": "day"},
    )
    journey = await campaign(
        admin,
        events=[score, later],
        edges=[edge(None, score), edge(score, later)],
        sources=[{"kind": "segment", "id": vip}],
    )
    await trigger(harness)
    every_table = {name: 1 for name in TABLES}
    assert await rows(harness, contact_id=ann) == every_table | {"journal": 2}

    # One contact by itself, two through the bulk action: their rows go, the others' stay.
    assert (await admin.delete(f"/api/v2/contacts/{ann}")).status_code == 204
    assert set((await rows(harness, contact_id=ann)).values()) == {0}
    bulk = await admin.post(
        "/api/v2/contacts/bulk", json={"contact_ids": [bob], "action": "delete"}
    )
    assert bulk.status_code == 200, bulk.text
    assert set((await rows(harness, contact_id=bob)).values()) == {0}
    assert await rows(harness, contact_id=cat) == every_table | {"journal": 2}

    # The campaign takes its journal and members with it.
    assert (await rows(harness, campaign_id=journey["id"]))["campaign members"] == 1
    unpublished = await admin.post(f"/api/v2/campaigns/{journey['id']}/unpublish")
    assert unpublished.status_code == 200, unpublished.text
    assert (await admin.delete(f"/api/v2/campaigns/{journey['id']}")).status_code == 204
    assert await rows(harness, contact_id=cat) == every_table | {
        "journal": 0,
        "campaign members": 0,
    }

    # The segment takes its members and log; the tag, who had it.
    assert (await admin.delete(f"/api/v2/segments/{vip}")).status_code == 204
    assert await rows(harness, segment_id=vip) == {"segment members": 0, "segment log": 0}
    tags = (await admin.get("/api/v2/tags")).json()["data"]
    (tag_id,) = [t["id"] for t in tags if t["name"] == "vip"]
    assert (await admin.delete(f"/api/v2/tags/{tag_id}")).status_code == 204
    assert (await rows(harness, contact_id=cat))["tags"] == 0
