"""Bad files are refused with a clear problem naming what is wrong, and nothing is written."""

from __future__ import annotations

import copy
import io
import json
import zipfile
from typing import Any

import httpx
import pytest

from tests.domains.portability.helpers import build_world, manifest_of, upload, zip_of
from tests.domains.portability.test_import import import_count
from tests.fixtures.api import Harness
from trellis.domains.portability import manifest as manifest_format


@pytest.fixture
async def world(admin: httpx.AsyncClient) -> dict[str, Any]:
    return await build_world(admin)


@pytest.fixture
async def exported(admin: httpx.AsyncClient, world: dict[str, Any]) -> bytes:
    response = await admin.get(f"/api/v2/campaigns/{world['campaign']['id']}/export")
    assert response.status_code == 200
    FILES.clear()
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        FILES.update({n: archive.read(n) for n in archive.namelist() if n.startswith("files/")})
    return response.content


@pytest.fixture
async def good(exported: bytes) -> dict[str, Any]:
    return manifest_of(exported)


# The asset files of the last export: a manifest written by a test travels with them.
FILES: dict[str, bytes] = {}


async def campaign_count(admin: httpx.AsyncClient) -> int:
    return len((await admin.get("/api/v2/campaigns")).json()["data"])


async def refused(
    harness: Harness, admin: httpx.AsyncClient, body: bytes, status: int = 422
) -> dict[str, Any]:
    """Both modes refuse the file, and neither writes anything."""
    before = await campaign_count(admin)
    for mode in ("analyse", "apply"):
        response = await upload(admin, body, mode=mode)
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    assert await campaign_count(admin) == before
    assert await import_count(harness) == 0
    return dict(response.json())


def with_manifest(document: Any, files: dict[str, bytes] | None = None) -> bytes:
    return zip_of({"manifest.json": json.dumps(document), **(FILES if files is None else files)})


async def test_zip_bomb_is_refused(
    harness: Harness, admin: httpx.AsyncClient, good: dict[str, Any]
) -> None:
    bomb = zip_of({"manifest.json": json.dumps(good), "files/zeros.bin": b"\0" * 5_000_000})
    problem = await refused(harness, admin, bomb)
    assert "ZIP bomb" in problem["detail"]


async def test_too_many_members_and_too_much_data_are_refused(
    harness: Harness, admin: httpx.AsyncClient, good: dict[str, Any], monkeypatch: Any
) -> None:
    members: dict[str, bytes | str] = {f"files/{n}.txt": "x" for n in range(5)}
    monkeypatch.setattr(manifest_format, "MAX_MEMBERS", 3)
    problem = await refused(harness, admin, zip_of({"manifest.json": json.dumps(good), **members}))
    assert "more than 3 members" in problem["detail"]
    monkeypatch.setattr(manifest_format, "MAX_MEMBERS", 500)
    monkeypatch.setattr(manifest_format, "MAX_TOTAL_UNCOMPRESSED", 1000)
    problem = await refused(harness, admin, zip_of({"manifest.json": json.dumps(good)}))
    assert "unpacks to more than 1000 bytes" in problem["detail"]


@pytest.mark.parametrize("name", ["../evil.txt", "/etc/passwd", "files/../../x", "C:/x", "a\\b"])
async def test_path_traversal_names_are_refused(
    harness: Harness, admin: httpx.AsyncClient, good: dict[str, Any], name: str
) -> None:
    body = zip_of({"manifest.json": json.dumps(good), name: "x"})
    problem = await refused(harness, admin, body)
    assert problem["errors"][0]["code"] == "unsafe_path"


async def test_a_truncated_file_is_refused(
    harness: Harness, admin: httpx.AsyncClient, good: dict[str, Any]
) -> None:
    body = zip_of({"manifest.json": json.dumps(good)})
    problem = await refused(harness, admin, body[: len(body) // 2])
    assert "truncated" in problem["detail"]
    problem = await refused(harness, admin, b"not a zip at all")
    assert problem["errors"][0]["code"] == "not_a_zip"


async def test_a_future_format_version_is_refused(
    harness: Harness, admin: httpx.AsyncClient, good: dict[str, Any]
) -> None:
    problem = await refused(harness, admin, with_manifest({**good, "format_version": 2}))
    assert problem["errors"][0]["pointer"] == "/format_version"
    assert "Upgrade Trellis" in problem["detail"]


async def test_a_reference_to_an_entity_missing_from_the_file(
    harness: Harness, admin: httpx.AsyncClient, good: dict[str, Any]
) -> None:
    document = copy.deepcopy(good)
    segments = document["entities"]["segment"]
    everyone = next(s for s in segments if s["name"] == "Everyone")
    segments.remove(everyone)
    problem = await refused(harness, admin, with_manifest(document))
    pointers = {e["pointer"]: e for e in problem["errors"]}
    leads = next(i for i, s in enumerate(segments) if s["name"] == "Warm leads")
    pointer = f"/entities/segment/{leads}/data/filters/conditions/0/value/0"
    assert pointers[pointer]["code"] == "missing_reference"
    assert everyone["uuid"] in pointers[pointer]["detail"]


async def test_invalid_json_and_schema_violations_point_into_the_manifest(
    harness: Harness, admin: httpx.AsyncClient, good: dict[str, Any]
) -> None:
    problem = await refused(harness, admin, zip_of({"manifest.json": "{not json"}))
    assert problem["errors"][0]["code"] == "invalid_json"
    problem = await refused(harness, admin, zip_of({"other.json": "{}"}))
    assert problem["errors"][0]["code"] == "no_manifest"

    document = copy.deepcopy(good)
    del document["entities"]["campaign"][0]["uuid"]
    problem = await refused(harness, admin, with_manifest(document))
    assert problem["errors"][0]["pointer"] == "/entities/campaign/0/uuid"

    document = copy.deepcopy(good)
    document["entities"]["email"][0]["data"]["subject"] = 42
    document["entities"]["email"][0]["data"]["surprise"] = True
    problem = await refused(harness, admin, with_manifest(document))
    assert {e["pointer"] for e in problem["errors"]} == {
        "/entities/email/0/data/subject",
        "/entities/email/0/data/surprise",
    }


async def test_unknown_event_types_are_listed(
    harness: Harness, admin: httpx.AsyncClient, good: dict[str, Any]
) -> None:
    document = copy.deepcopy(good)
    campaign = next(c for c in document["entities"]["campaign"] if c["name"] == "Onboarding")
    campaign["data"]["events"][0]["type"] = "acme.fax"
    campaign["data"]["events"][1]["type"] = "acme.telegram"
    problem = await refused(harness, admin, with_manifest(document))
    assert problem["unknown_event_types"] == ["acme.fax", "acme.telegram"]
    assert "acme.fax, acme.telegram" in problem["detail"]


async def test_an_oversized_upload_is_refused_with_413(
    harness: Harness, admin: httpx.AsyncClient, good: dict[str, Any], monkeypatch: Any
) -> None:
    monkeypatch.setattr(manifest_format, "MAX_UPLOAD_BYTES", 1024)
    body = zip_of({"manifest.json": json.dumps(good)}, compression=zipfile.ZIP_STORED)
    assert len(body) > 1024
    problem = await refused(harness, admin, body, status=413)
    assert "larger than 1024 bytes" in problem["detail"]


async def test_an_asset_file_missing_or_changed_is_refused(
    harness: Harness, admin: httpx.AsyncClient, good: dict[str, Any]
) -> None:
    problem = await refused(harness, admin, with_manifest(good, files={}))
    assert problem["errors"][0]["pointer"] == "/entities/asset/0/data/file"
    assert problem["errors"][0]["code"] == "missing_file"
    tampered = {name: b"something else" for name in FILES}
    problem = await refused(harness, admin, with_manifest(good, files=tampered))
    assert "sha256" in problem["errors"][0]["detail"]


async def test_an_asset_over_the_size_limit_is_refused(
    harness: Harness, admin: httpx.AsyncClient, exported: bytes, monkeypatch: Any
) -> None:
    from dataclasses import replace

    from trellis.domains.assets.service import asset_service

    monkeypatch.setattr(asset_service, "policy", replace(asset_service.policy, max_bytes=10))
    asset = manifest_of(exported)["entities"]["asset"][0]
    before = await campaign_count(admin)

    response = await upload(admin, exported, mode="apply", choices={asset["uuid"]: "copy"})

    assert response.status_code == 413, response.text
    assert response.json()["errors"][0]["pointer"].startswith("/entities/asset/0")
    assert len((await admin.get("/api/v2/assets")).json()["data"]) == 1
    assert await campaign_count(admin) == before
    assert await import_count(harness) == 0
