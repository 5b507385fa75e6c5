"""Data-subject requests: an export of everything held about a person, and an erasure that
leaves no trace in any table and is not undone by the next import, form or API upsert."""

from __future__ import annotations

import httpx

from tests.domains.privacy.helpers import (
    EMAIL,
    FIRST,
    everywhere,
    references,
    sections,
    traces,
)
from tests.fixtures.api import Harness

# The list: fields, companies, tags, points history, segment and campaign memberships
# with journeys, emails sent with their content version, opens, clicks, page hits, form
# submissions, consents, DNC, notes, audit entries.
MUST_HOLD = (
    "contact",
    "companies",
    "tags",
    "points_history",
    "segment_memberships",
    "campaign_memberships",
    "journeys",
    "emails_sent",
    "email_opens_and_clicks",
    "email_hits",
    "page_hits",
    "web_visitors",
    "form_submissions",
    "consents",
    "do_not_contact",
    "notes_and_activity",
    "audit_entries",
)


async def test_the_export_holds_every_kind_of_data_with_a_readable_summary(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    person = await everywhere(harness, admin)
    response = await admin.get(f"/api/v2/contacts/{person.contact_id}/personal-data")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert "attachment" in response.headers["content-disposition"]
    found = sections(response.content)
    empty = [name for name in MUST_HOLD if not found.get(name)]
    assert not empty, empty
    assert found["contact"][0]["email"] == EMAIL
    assert found["tags"] == [{"name": "vip"}]
    assert found["emails_sent"][0]["subject"].startswith("Hi")
    assert found["emails_sent"][0]["email_version"] >= 1
    assert found["email_opens_and_clicks"][0]["opens"] == 1
    assert {c["purpose"] for c in found["consents"]} == {"marketing", "profiling"}
    assert {h["url"] for h in found["page_hits"]} == {
        "https://www.example.com/before-signing-up",
        "https://www.example.com/after-signing-up",
    }
    summary = found["index"]
    assert all(text in summary for text in (EMAIL, "Form submissions", FIRST))
    # The export itself is audited.
    audit = await admin.get("/api/v2/audit-log", params={"entity_type": "contact"})
    assert any(e["action"] == "export" for e in audit.json()["data"])


async def test_an_analyst_cannot_erase_and_an_unknown_contact_is_404(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    created = await admin.post("/api/v2/contacts", json={"email": "x@example.com"})
    contact_id = created.json()["id"]
    async with await harness.client_as("analyst@example.com", role="Analyst") as analyst:
        refused = await analyst.post(f"/api/v2/contacts/{contact_id}/erase")
        assert refused.status_code == 403, refused.text
        exported = await analyst.get(f"/api/v2/contacts/{contact_id}/personal-data")
        assert exported.status_code == 200
    missing = await admin.post("/api/v2/contacts/999999/erase")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


async def test_erasure_leaves_no_trace_in_any_table(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    person = await everywhere(harness, admin)
    named = {line.split(":", 1)[0] for line in await traces(harness)}
    assert {"contacts", "email_outbox", "form_submissions", "page_hits", "audit_log"} <= named
    pointing = set(await references(harness, person.contact_id))
    bulk = {"campaign_event_log", "campaign_members", "contact_tags", "points_history"}
    assert {f"{t}.contact_id" for t in bulk} <= pointing, pointing
    erased = await admin.post(f"/api/v2/contacts/{person.contact_id}/erase")
    assert erased.status_code == 200, erased.text
    assert erased.json() == {"contact_id": person.contact_id, "suppressed": True}
    left = await traces(harness)
    assert not left, "\n".join(left)
    assert await references(harness, person.contact_id) == []
    # Audited, without the erased data (the walk above covers the audit log too).
    audit = await admin.get(
        "/api/v2/audit-log",
        params={"entity_type": "contact", "entity_id": person.contact_id},
    )
    entries = audit.json()["data"]
    assert any(e["entity_name"] == "Erased on request" for e in entries), entries
    gone = await admin.get(f"/api/v2/contacts/{person.contact_id}")
    assert gone.status_code == 404
