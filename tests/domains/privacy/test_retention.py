"""Retention policies: documented defaults, overrides through the API, a dry run that counts,
a run that removes only what expired in short batches and keeps the aggregates, a record of
every run, and administrators told when one fails."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import httpx

from tests.domains.privacy.helpers import SITE, everywhere, from_person, page_hit, sections
from tests.fixtures.api import START, Harness

API = "/api/v2/privacy"


async def _policies(admin: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    response = await admin.get(f"{API}/retention")
    assert response.status_code == 200, response.text
    return {p["name"]: p for p in response.json()}


async def _run(harness: Harness, admin: httpx.AsyncClient, **body: Any) -> list[dict[str, Any]]:
    response = await admin.post(f"{API}/cleanup", json=body)
    assert response.status_code == 202, response.text
    await harness.app.state.jobs.drain(within_s=120)
    return list(response.json())


async def _runs(admin: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await admin.get(f"{API}/cleanup/runs", params={"page[size]": 100})
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


async def test_policies_have_documented_defaults_and_take_overrides(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    policies = await _policies(admin)
    assert list(policies) == [
        "anonymous_visitors",
        "tracking_events",
        "journeys",
        "outbox",
        "form_ips",
        "audit_log",
        "import_files",
        "inactive_contacts",
    ]
    assert (
        policies["anonymous_visitors"]["enabled"],
        policies["anonymous_visitors"]["period"],
    ) == (
        True,
        30,
    )
    assert policies["audit_log"]["enabled"] is False  # the audit log is kept by default
    inactive = policies["inactive_contacts"]
    assert (inactive["enabled"], inactive["unit"], inactive["mode"]) == (
        False,
        "months",
        "anonymise",
    )
    assert inactive["modes"] == ["delete", "anonymise"]

    changed = await admin.patch(f"{API}/retention/tracking_events", json={"period": 90})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["period"], changed.json()["default_period"]) == (90, 395)
    switched = await admin.patch(
        f"{API}/retention/inactive_contacts", json={"enabled": True, "mode": "delete"}
    )
    assert (switched.json()["enabled"], switched.json()["mode"]) == (True, "delete")
    assert (await _policies(admin))["tracking_events"]["period"] == 90

    for name, body, pointer in (
        ("inactive_contacts", {"mode": "shred"}, "/mode"),
        ("outbox", {"mode": "delete"}, "/mode"),
        ("outbox", {"period": 0}, "/period"),
    ):
        refused = await admin.patch(f"{API}/retention/{name}", json=body)
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["errors"][0]["pointer"] == pointer
    unknown = await admin.patch(f"{API}/retention/everything", json={"period": 1})
    assert unknown.status_code == 422
    audit = await admin.get("/api/v2/audit-log", params={"entity_type": "retention_policy"})
    assert len(audit.json()["data"]) == 2

    async with await harness.client_as("analyst@example.com", role="Analyst") as analyst:
        assert (await analyst.get(f"{API}/retention")).status_code == 403
        assert (await analyst.post(f"{API}/cleanup", json={"dry_run": True})).status_code == 403


async def test_a_dry_run_counts_and_a_run_removes_only_what_expired(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    person = await everywhere(harness, admin)
    async with from_person(harness) as stranger:
        await page_hit(stranger, secrets.token_hex(16), f"{SITE}/just-looking")
    await harness.app.state.web_hits.flush()
    stats_before = (await admin.get(f"/api/v2/emails/{person.email_id}/stats")).json()
    campaign_before = (await admin.get(f"/api/v2/campaigns/{person.campaign_id}/stats")).json()

    harness.clock.set(START + timedelta(days=400))
    async with from_person(harness) as newcomer:
        await page_hit(newcomer, secrets.token_hex(16), f"{SITE}/fresh")
    await harness.app.state.web_hits.flush()

    dry = await admin.post(f"{API}/cleanup", json={"dry_run": True})
    assert dry.status_code == 202, dry.text
    counted = {run["policy"]: run for run in dry.json()}
    assert set(counted) == {
        "anonymous_visitors",
        "tracking_events",
        "journeys",
        "outbox",
        "form_ips",
        "import_files",
    }
    assert all(run["dry_run"] and run["status"] == "done" for run in counted.values())
    assert counted["anonymous_visitors"]["details"] == {"contacts": 0, "web_visitors": 1}
    assert counted["tracking_events"]["details"] == {
        "page_hits": 3,
        "tracking_hits": 1,
        "contact_events": 0,
    }
    assert counted["journeys"]["details"] == {"campaign_event_log": 1}
    assert counted["outbox"]["details"] == {"email_outbox": 1}
    assert counted["form_ips"]["details"] == {
        "form_submissions": 1,
        "asset_downloads": 0,
        "consents": 2,
    }
    # Nothing changed.
    hits = await admin.get("/api/v2/page-hits", params={"page[size]": 100})
    assert len(hits.json()["data"]) == 4

    queued = await _run(harness, admin)
    assert {run["status"] for run in queued} == {"queued"}
    done = {run["policy"]: run for run in await _runs(admin) if not run["dry_run"]}
    assert {run["status"] for run in done.values()} == {"done"}, done
    assert done["anonymous_visitors"]["rows"] == 2  # the visitor and its hit
    assert done["tracking_events"]["details"]["page_hits"] == 2
    assert done["outbox"]["rows"] == 1
    assert done["journeys"]["rows"] == 1

    hits = await admin.get("/api/v2/page-hits", params={"page[size]": 100})
    assert [h["url"] for h in hits.json()["data"]] == [f"{SITE}/fresh"]
    assert (await admin.get("/api/v2/outbox")).json()["data"] == []
    # The aggregates stay: per-email counters and per-step statistics.
    assert (await admin.get(f"/api/v2/emails/{person.email_id}/stats")).json() == stats_before
    campaign_after = (await admin.get(f"/api/v2/campaigns/{person.campaign_id}/stats")).json()
    assert campaign_after == campaign_before
    export = await admin.get(f"/api/v2/contacts/{person.contact_id}/personal-data")
    held = sections(export.content)
    assert held["journeys"] == []
    assert [s["ip"] for s in held["form_submissions"]] == [None]
    assert {c["ip"] for c in held["consents"]} == {None}
    assert held["campaign_memberships"], "memberships are kept"

    # A second pass finds nothing more.
    again = await admin.post(f"{API}/cleanup", json={"dry_run": True})
    assert {run["policy"]: run["rows"] for run in again.json()}["tracking_events"] == 0


async def test_a_failed_run_is_recorded_and_administrators_are_told(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    upload = await admin.post(
        "/api/v2/imports",
        files={"file": ("people.csv", b"email\nbob@example.com\n", "text/csv")},
    )
    assert upload.status_code == 202, upload.text
    await harness.app.state.jobs.drain(within_s=60)
    [folder] = list((harness.settings.uploads_dir / "imports").iterdir())
    [kept] = [f for f in folder.iterdir() if f.name != "errors.csv"]
    # The storage went wrong under us: where the upload was, a directory is in the way.
    kept.unlink()
    kept.mkdir()
    (kept / "inside").write_text("x")

    harness.clock.set(START + timedelta(days=31))
    await _run(harness, admin, policies=["import_files"])
    [run] = [r for r in await _runs(admin) if r["policy"] == "import_files"]
    assert run["status"] == "failed"
    assert "IsADirectoryError" in run["error"]
    notified = await admin.get("/api/v2/notifications")
    titles = [n["title"] for n in notified.json()["data"]]
    assert "Data clean-up failed: Import files" in titles

    # Fixed: the next run removes the files and keeps the import's record.
    (kept / "inside").unlink()
    kept.rmdir()
    kept.write_text("email\n")
    await _run(harness, admin, policies=["import_files"])
    latest = (await _runs(admin))[0]
    assert (latest["status"], latest["rows"]) == ("done", 1)
    assert not folder.exists()
    listed = await admin.get("/api/v2/imports")
    assert len(listed.json()["data"]) == 1


async def test_inactive_contacts_are_anonymised_or_deleted_as_chosen(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    old = await admin.post(
        "/api/v2/contacts",
        json={"email": "old@example.com", "first_name": "Olga", "city": "Oslo", "tags": ["vip"]},
    )
    older = await admin.post("/api/v2/contacts", json={"email": "older@example.com"})
    old_id, older_id = old.json()["id"], older.json()["id"]
    harness.clock.set(START + timedelta(days=800))
    fresh = await admin.post("/api/v2/contacts", json={"email": "fresh@example.com"})
    enabled = await admin.patch(
        f"{API}/retention/inactive_contacts", json={"enabled": True, "period": 24}
    )
    assert enabled.json()["mode"] == "anonymise"

    dry = await admin.post(
        f"{API}/cleanup", json={"dry_run": True, "policies": ["inactive_contacts"]}
    )
    assert dry.json()[0]["details"] == {"contacts": 2}
    await _run(harness, admin, policies=["inactive_contacts"])
    kept = (await admin.get(f"/api/v2/contacts/{old_id}")).json()
    assert (kept["email"], kept["first_name"], kept["city"]) == (None, None, None)
    assert kept["tags"] == ["vip"]  # memberships and counters stay for the statistics
    # An anonymised row is not an anonymous visitor to delete later.
    harness.clock.set(START + timedelta(days=900))
    await _run(harness, admin, policies=["anonymous_visitors"])
    assert (await admin.get(f"/api/v2/contacts/{old_id}")).status_code == 200

    await admin.patch(f"{API}/retention/inactive_contacts", json={"mode": "delete", "period": 1})
    harness.clock.set(START + timedelta(days=800 + 45))
    await _run(harness, admin, policies=["inactive_contacts"])
    assert (await admin.get(f"/api/v2/contacts/{fresh.json()['id']}")).status_code == 404
    assert (await admin.get(f"/api/v2/contacts/{older_id}")).status_code == 200  # anonymised
