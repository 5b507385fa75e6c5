"""An erasure sticks: the erased address does not come back through an import, a form or the
API, and the person is not re-enrolled in the campaign they left, unless they opt in again."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.domains.campaigns.helpers import campaign, edge, step
from tests.domains.forms.helpers import create_form, newsletter, submit
from tests.domains.privacy.helpers import EMAIL, traces
from tests.fixtures.api import Harness
from tests.fixtures.cli import Cli


async def _erased(admin: httpx.AsyncClient) -> None:
    created = await admin.post("/api/v2/contacts", json={"email": EMAIL, "first_name": "Ada"})
    assert created.status_code == 201, created.text
    erased = await admin.post(f"/api/v2/contacts/{created.json()['id']}/erase")
    assert erased.status_code == 200, erased.text


async def _find(admin: httpx.AsyncClient) -> list[dict[str, object]]:
    found = await admin.get("/api/v2/contacts", params={"search": EMAIL})
    return [c for c in found.json()["data"] if c["email"] == EMAIL]


async def test_the_api_refuses_to_bring_an_erased_address_back(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    await _erased(admin)
    created = await admin.post("/api/v2/contacts", json={"email": EMAIL.upper()})
    assert created.status_code == 422, created.text
    problem = created.json()
    assert problem["errors"][0]["pointer"] == "/email"
    assert problem["errors"][0]["code"] == "erased"
    batch = await admin.post(
        "/api/v2/contacts/batch",
        json={"contacts": [{"email": "someone@example.com"}, {"email": EMAIL}]},
    )
    assert batch.status_code == 200, batch.text
    results = batch.json()["results"]
    assert results[0]["status"] == "created"
    assert results[1]["status"] == "failed"
    assert results[1]["errors"][0]["pointer"] == "/contacts/1/email"
    assert await _find(admin) == []
    # The person opted in again, by another channel: the administrator lifts the suppression.
    lifted = await admin.post("/api/v2/privacy/suppressions/lift", json={"email": EMAIL})
    assert lifted.json() == {"lifted": True}
    again = await admin.post("/api/v2/contacts", json={"email": EMAIL})
    assert again.status_code == 201, again.text


async def test_an_import_skips_the_erased_address_and_names_the_line(
    harness: Harness, admin: httpx.AsyncClient, cli: Cli, tmp_path: Path
) -> None:
    await _erased(admin)
    people = tmp_path / "people.csv"
    people.write_text(f"email,first_name\nbob@example.com,Bob\n{EMAIL},Ada\n")
    result = cli("contacts", "import", str(people))
    assert "Traceback" not in result.output
    assert "line 3" in result.output, result.output
    assert "erased" in result.output, result.output
    assert await _find(admin) == []
    listed = await admin.get("/api/v2/contacts", params={"search": "bob@example.com"})
    assert [c["email"] for c in listed.json()["data"]] == ["bob@example.com"]


async def test_a_form_does_not_re_enrol_the_person_unless_they_consent_again(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    optional = newsletter()
    optional["fields"][-1]["required"] = False
    form = await create_form(admin, fields=optional["fields"])
    tag = step("contact.change_tags", {"add": ["welcomed"]}, name="Welcome")
    journey = await campaign(
        admin, events=[tag], edges=[edge(None, tag)], sources=[{"kind": "form", "id": form["id"]}]
    )
    async with harness.client() as public:
        first = await submit(public, "newsletter", {"email": EMAIL, "first_name": "Ada"})
        assert first.status_code == 200, first.text
    [person] = await _find(admin)
    members = await admin.get(f"/api/v2/campaigns/{journey['id']}/members")
    assert members.json()["data"], members.text
    erased = await admin.post(f"/api/v2/contacts/{person['id']}/erase")
    assert erased.status_code == 200, erased.text

    async with harness.client() as public:
        # Same answer as anyone gets: nothing tells a visitor that the address was erased.
        again = await submit(public, "newsletter", {"email": EMAIL, "first_name": "Ada"})
        assert again.status_code == 200, again.text
    assert await _find(admin) == []
    assert await traces(harness) == []
    members = await admin.get(f"/api/v2/campaigns/{journey['id']}/members")
    assert members.json()["data"] == []

    async with harness.client() as public:
        opted_in = await submit(
            public, "newsletter", {"email": EMAIL, "first_name": "Ada", "consent": "1"}
        )
        assert opted_in.status_code == 200, opted_in.text
    [back] = await _find(admin)
    members = await admin.get(f"/api/v2/campaigns/{journey['id']}/members")
    assert [m["contact_id"] for m in members.json()["data"]] == [back["id"]]
    history = await admin.get(f"/api/v2/contacts/{back['id']}/consents")
    assert history.json()["current"] == {"marketing": True}
