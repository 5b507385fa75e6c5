"""Deeply nested JSON: refused with a problem (or, from the tracking beacon, silently dropped),
never a RecursionError, on every public route that reads JSON and on the API."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.domains.forms.helpers import create_form
from tests.fixtures.api import Harness
from trellis.json_limits import MAX_JSON_DEPTH, JsonTooDeep, loads, nests_deeper

DEEP = b"[" * 100_000 + b"]" * 100_000
JSON = {"Content-Type": "application/json", "Accept": "application/json"}


def _refused(response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"].endswith("/json-too-deep")
    assert problem["errors"] == [
        {"pointer": "", "detail": f"At most {MAX_JSON_DEPTH} levels.", "code": "too_deep"}
    ]


async def test_public_form_post(harness: Harness, admin: httpx.AsyncClient) -> None:
    form = await create_form(admin)
    async with harness.client() as public:
        _refused(await public.post("/f/newsletter", content=DEEP, headers=JSON))
        # Nested inside a valid-looking object, and without a content type (read as JSON).
        inside = b'{"email": ' + DEEP + b"}"
        _refused(await public.post("/f/newsletter", content=inside, headers=JSON))
    listed = await admin.get(f"/api/v2/forms/{form['id']}/submissions")
    assert listed.json()["meta"]["total"] == 0


@pytest.mark.parametrize("content_type", ["text/plain", "application/json"])
async def test_website_tracking_beacon(
    harness: Harness, admin: httpx.AsyncClient, content_type: str
) -> None:
    async with harness.client() as public:
        response = await public.post("/t/hit", content=DEEP, headers={"Content-Type": content_type})
    assert response.status_code in (204, 400)
    if response.status_code == 400:
        _refused(response)
    await harness.app.state.web_hits.flush()
    hits = await admin.get("/api/v2/page-hits")
    assert hits.json()["data"] == []


async def test_the_other_public_posts(harness: Harness) -> None:
    async with harness.client() as public:
        for path in ("/t/unsubscribe/x", "/t/preferences/x", "/a/some-asset"):
            _refused(await public.post(path, content=DEEP, headers=JSON))


async def test_api_bodies(admin: httpx.AsyncClient) -> None:
    _refused(await admin.post("/api/v2/contacts", content=DEEP, headers=JSON))
    _refused(await admin.post("/api/v2/events", content=DEEP, headers=JSON))
    _refused(await admin.post("/api/v2/contacts", content=DEEP, headers={}))
    # Just at the limit is read (and then judged on its fields).
    at_limit = {"email": "a@example.com", "fields": {}}
    nested: object = "x"
    for _ in range(MAX_JSON_DEPTH - 2):
        nested = [nested]
    at_limit["first_name"] = nested  # type: ignore[assignment]
    response = await admin.post("/api/v2/contacts", json=at_limit)
    assert response.status_code == 422, response.text


def test_the_depth_check() -> None:
    assert nests_deeper(DEEP)
    assert not nests_deeper(b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH)
    assert nests_deeper(b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1))
    assert nests_deeper(b"[{" * 51 + b"}]" * 51)
    assert nests_deeper(b"[[]," * 200 + b"]" * 200)
    # Brackets inside strings, escaped quotes included, do not count.
    assert not nests_deeper(b'["' + b"[" * 500 + b'"]')
    assert not nests_deeper(b'["\\"' + b"[" * 500 + b'"]')
    assert nests_deeper(b'["\\\\"' + b"[" * 500 + b"]" * 500 + b'"]')
    # Unterminated openers (not JSON) still count: json.loads would recurse into them.
    assert nests_deeper(b"[" * 5000)
    with pytest.raises(JsonTooDeep):
        loads(DEEP)
    with pytest.raises(json.JSONDecodeError):
        loads(DEEP.decode())
    assert loads('{"a": [[1]]}') == {"a": [[1]]}
