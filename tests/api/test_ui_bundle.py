"""The built UI as the browser gets it: gzip when accepted, hashed files cached for a year."""

from __future__ import annotations

import gzip
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from trellis.api.ui import install_ui

SCRIPT = b"console.log('trellis');\n" * 200


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "index-Ab12Cd34.js").write_bytes(SCRIPT)
    (tmp_path / "assets" / "index-Ab12Cd34.js.gz").write_bytes(gzip.compress(SCRIPT, mtime=0))
    (tmp_path / "assets" / "font-Xy98.woff2").write_bytes(b"wOF2 not text")
    (tmp_path / "swagger").mkdir()
    (tmp_path / "swagger" / "swagger-ui.css").write_text("body { margin: 0 }\n")
    (tmp_path / "index.html").write_text("<!doctype html><title>Trellis</title>")
    return tmp_path


def client_for(bundle: Path) -> httpx.AsyncClient:
    app = FastAPI()
    install_ui(app, static_dir=bundle)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_a_hashed_script_comes_compressed_and_cached_for_a_year(bundle: Path) -> None:
    async with client_for(bundle) as client:
        response = await client.get(
            "/static/assets/index-Ab12Cd34.js", headers={"Accept-Encoding": "gzip, br"}
        )
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["vary"] == "Accept-Encoding"
    assert int(response.headers["content-length"]) < len(SCRIPT)
    assert response.content == SCRIPT  # httpx decodes it: the copy is the same script


async def test_a_browser_without_gzip_gets_the_plain_file(bundle: Path) -> None:
    async with client_for(bundle) as client:
        response = await client.get(
            "/static/assets/index-Ab12Cd34.js", headers={"Accept-Encoding": "identity"}
        )
    assert response.status_code == 200
    assert "content-encoding" not in response.headers
    assert response.content == SCRIPT
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


async def test_a_compressed_file_answers_not_modified_to_its_etag(bundle: Path) -> None:
    async with client_for(bundle) as client:
        first = await client.get(
            "/static/assets/index-Ab12Cd34.js", headers={"Accept-Encoding": "gzip"}
        )
        again = await client.get(
            "/static/assets/index-Ab12Cd34.js",
            headers={"Accept-Encoding": "gzip", "If-None-Match": first.headers["etag"]},
        )
    assert again.status_code == 304
    assert again.headers["cache-control"] == "public, max-age=31536000, immutable"


async def test_unhashed_files_and_the_app_page_are_revalidated(bundle: Path) -> None:
    async with client_for(bundle) as client:
        swagger = await client.get("/static/swagger/swagger-ui.css")
        font = await client.get("/static/assets/font-Xy98.woff2")
        page = await client.get("/campaigns/7/edit")
    assert swagger.status_code == 200
    assert swagger.headers["cache-control"] == "no-cache"
    assert "content-encoding" not in swagger.headers  # no .gz copy was built for it
    assert font.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "vary" not in font.headers
    assert page.headers["cache-control"] == "no-cache"
    assert page.text.startswith("<!doctype html>")
