"""Assets: upload checks (size, type by content and extension, pointers), storage under a
random key, the tracked download (headers, record, decision), and the form gate."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.domains.campaigns.helpers import campaign, edge, journey, step
from tests.domains.forms.helpers import create_form
from tests.fixtures.api import Harness
from trellis.domains.assets.service import asset_service
from trellis.settings import AssetSettings, Settings

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"assets": AssetSettings(max_bytes=4096, rate_per_ip=0)})


async def _upload(
    admin: httpx.AsyncClient,
    filename: str = "paper.pdf",
    content: bytes = PDF,
    **fields: Any,
) -> httpx.Response:
    data = {"name": "White paper", "is_published": "true", **fields}
    return await admin.post(
        "/api/v2/assets",
        files={"file": (filename, content, "application/octet-stream")},
        data={k: str(v) for k, v in data.items()},
    )


async def _asset(admin: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    response = await _upload(admin, **fields)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _pointers(response: httpx.Response) -> set[str]:
    return {e["pointer"] for e in response.json().get("errors", [])}


def _office(prefix: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(f"{prefix}document.xml", "<x/>")
    return buffer.getvalue()


async def test_upload_read_update_delete(harness: Harness, admin: httpx.AsyncClient) -> None:
    asset = await _asset(admin, filename="../../etc/My Paper.pdf", slug="paper")
    assert asset["filename"] == "My Paper.pdf"
    assert asset["content_type"] == "application/pdf"
    assert asset["size"] == len(PDF)
    assert asset["url"].endswith("/a/paper")
    assert asset["download_count"] == 0
    stored = list((harness.settings.data_dir / "assets").iterdir())
    assert len(stored) == 1
    # The path is a random key, never the uploader's file name.
    assert "paper" not in stored[0].name.lower()
    assert len(stored[0].name) == 32
    assert stored[0].read_bytes() == PDF

    changed = await admin.patch(
        f"/api/v2/assets/{asset['id']}",
        json={"name": "Spring paper", "description": "All of it"},
        headers={"If-Match": f'"{asset["version"]}"'},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 2
    listed = await admin.get("/api/v2/assets", params={"q": "spring"})
    assert [a["id"] for a in listed.json()["data"]] == [asset["id"]]
    taken = await _upload(admin, slug="paper")
    assert taken.status_code == 422
    assert "/slug" in _pointers(taken)

    assert (await admin.delete(f"/api/v2/assets/{asset['id']}")).status_code == 204
    assert (await admin.get(f"/api/v2/assets/{asset['id']}")).status_code == 404
    assert not stored[0].exists()


@pytest.mark.parametrize(
    ("filename", "content"),
    [
        ("doc.docx", _office("word/")),
        ("sheet.xlsx", _office("xl/")),
        ("slides.pptx", _office("ppt/")),
        ("bundle.zip", _office("other/")),
        ("notes.txt", "Grüße\n".encode()),
        ("data.csv", b"a,b\n1,2\n"),
        ("logo.png", PNG),
        ("photo.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 32),
        ("anim.gif", b"GIF89a" + b"\x00" * 32),
        ("pic.webp", b"RIFF\x00\x00\x00\x00WEBPVP8 "),
        ("clip.mp4", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 16),
        ("icon.svg", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>'),
    ],
)
async def test_allowed_types(admin: httpx.AsyncClient, filename: str, content: bytes) -> None:
    response = await _upload(admin, filename=filename, content=content)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("filename", "content"),
    [
        ("tool.exe", b"MZ\x90\x00"),
        ("fake.png", b"MZ\x90\x00 not a png"),
        ("fake.pdf", PNG),
        ("doc.docx", _office("other/")),
        ("binary.txt", b"\x00\x01\x02\x03"),
        ("empty.pdf", b""),
        ("noext", PDF),
        ("page.html", b"<html><script>alert(1)</script></html>"),
    ],
)
async def test_disallowed_types_are_422_with_a_pointer(
    harness: Harness, admin: httpx.AsyncClient, filename: str, content: bytes
) -> None:
    response = await _upload(admin, filename=filename, content=content)
    assert response.status_code == 422, response.text
    assert "/file" in _pointers(response)
    folder = harness.settings.data_dir / "assets"
    assert not folder.exists() or list(folder.iterdir()) == []  # nothing left behind


async def test_bad_fields_are_422_with_pointers(admin: httpx.AsyncClient) -> None:
    bad_slug = await _upload(admin, slug="Not A Slug")
    assert bad_slug.status_code == 422
    assert "/slug" in _pointers(bad_slug)
    no_form = await _upload(admin, gate_form_id=9999)
    assert no_form.status_code == 422
    assert "/gate_form_id" in _pointers(no_form)
    projects = await _upload(admin, projects="[not json")
    assert projects.status_code == 422
    assert "/projects" in _pointers(projects)


async def test_uploads_over_the_limit_are_413(harness: Harness, admin: httpx.AsyncClient) -> None:
    big = PDF + b"0" * 5000
    response = await _upload(admin, content=big)
    assert response.status_code == 413, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    folder = harness.settings.data_dir / "assets"
    assert not folder.exists() or list(folder.iterdir()) == []
    huge = await _upload(admin, content=PDF + b"0" * 200_000)
    assert huge.status_code == 413


async def test_download_headers_and_record(harness: Harness, admin: httpx.AsyncClient) -> None:
    asset = await _asset(admin, filename="Spring paper.pdf")
    async with harness.client() as public:
        got = await public.get(urlsplit(asset["url"]).path)
    assert got.status_code == 200
    assert got.content == PDF
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"].startswith("attachment;")
    assert "Spring%20paper.pdf" in got.headers["content-disposition"]
    assert got.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in got.headers["content-security-policy"]
    assert "no-store" in got.headers["cache-control"]
    read = await admin.get(f"/api/v2/assets/{asset['id']}")
    assert read.json()["download_count"] == 1
    assert read.json()["last_download_at"] is not None

    await admin.patch(f"/api/v2/assets/{asset['id']}", json={"is_published": False})
    async with harness.client() as public:
        assert (await public.get(f"/a/{asset['uuid']}")).status_code == 404
        assert (await public.get("/a/no-such-asset")).status_code == 404


async def test_a_known_contacts_download_takes_the_decision(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    asset = await _asset(admin)
    other = await _asset(admin, filename="other.pdf", name="Other")
    decision = step("asset.download", {"assets": [asset["id"]]}, name="Downloads paper")
    tag = step("contact.change_tags", {"add": ["downloaded"]}, name="Downloaded")
    created = await campaign(
        admin, events=[decision, tag], edges=[edge(None, decision), edge(decision, tag, "yes")]
    )
    person = await admin.post("/api/v2/contacts", json={"email": "ada@example.com"})
    contact_id = person.json()["id"]
    added = await admin.post(
        f"/api/v2/campaigns/{created['id']}/members", json={"contact_ids": [contact_id]}
    )
    assert added.status_code == 200, added.text

    def link_of(a: dict[str, Any]) -> Any:
        return admin.get(f"/api/v2/assets/{a['id']}/link", params={"contact_id": contact_id})

    other_link = (await link_of(other)).json()["url"]
    link = (await link_of(asset)).json()["url"]
    assert "ct=" in link
    async with harness.client() as public:
        assert (await public.get(other_link.split("8000", 1)[-1])).status_code == 200
        steps = dict(await journey(admin, created["id"], contact_id))
        assert steps.get("Downloaded") is None  # another asset: still waiting
        # Anonymous downloads are recorded but take no decision.
        assert (await public.get(urlsplit(asset["url"]).path)).status_code == 200
        assert dict(await journey(admin, created["id"], contact_id)).get("Downloaded") is None
        assert (await public.get(link.split("8000", 1)[-1])).status_code == 200
    steps = dict(await journey(admin, created["id"], contact_id))
    assert steps["Downloaded"] == "done"
    assert (await admin.get(f"/api/v2/assets/{asset['id']}")).json()["download_count"] == 2


async def test_gated_asset_shows_the_form_then_a_signed_expiring_link(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    form = await create_form(admin)
    asset = await _asset(admin, gate_form_id=form["id"], slug="gated")
    async with harness.client() as public:
        gate = await public.get("/a/gated")
        assert gate.status_code == 200
        assert gate.headers["content-type"].startswith("text/html")
        assert 'action="/a/gated"' in gate.text
        assert "content-disposition" not in gate.headers

        invalid = await public.post("/a/gated", data={"email": "not-an-email"})
        assert invalid.status_code == 422
        assert "tf-error" in invalid.text

        posted = await public.post(
            "/a/gated",
            data={"email": "ada@example.com", "first_name": "Ada", "consent": "1"},
        )
        assert posted.status_code == 303, posted.text
        target = posted.headers["location"]
        token = parse_qs(urlsplit(target).query)["dl"][0]
        got = await public.get(target.split("8000", 1)[-1])
        assert got.status_code == 200, got.text
        assert got.content == PDF

        forged = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
        assert (await public.get("/a/gated", params={"dl": forged})).status_code == 404
        parts = token.split(".")
        other_asset = ".".join(["zz", *parts[1:]])
        assert (await public.get("/a/gated", params={"dl": other_asset})).status_code == 404
        harness.clock.set(harness.clock.now() + timedelta(hours=25))
        assert (await public.get("/a/gated", params={"dl": token})).status_code == 404

    submissions = await admin.get(f"/api/v2/forms/{form['id']}/submissions")
    assert len(submissions.json()["data"]) == 1
    contacts = await admin.get("/api/v2/contacts", params={"q": "ada@example.com"})
    contact_id = contacts.json()["data"][0]["id"]
    read = await admin.get(f"/api/v2/assets/{asset['id']}")
    assert read.json()["download_count"] == 1
    assert submissions.json()["data"][0]["contact_id"] == contact_id


def test_the_store_never_uses_the_filename(tmp_path: Path) -> None:
    from trellis.domains.assets.storage import AssetStore

    store = AssetStore(tmp_path)
    stored = store.save(io.BytesIO(PDF), "../../../evil.pdf", max_bytes=10_000)
    assert [p.name for p in tmp_path.iterdir()] == [stored.key]
    with pytest.raises(ValueError, match="not a storage key"):
        store.path("../../etc/passwd")
    assert asset_service is not None
