"""Website tracking driven the way a browser would: the script, page hits over HTTP, a form
submitted with the visitor id, a tracked email link carrying the contact token."""

from __future__ import annotations

import gzip
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.domains.campaigns.helpers import campaign, contacts, edge, journey, step, trigger
from tests.domains.emails.helpers import MJML, create_email
from tests.domains.forms.helpers import create_form, submit
from tests.domains.tracking.helpers import message_to, path_of, send_campaign, tracked_links
from tests.fixtures.api import Harness
from tests.fixtures.database import DatabaseUnderTest
from trellis.api.ratelimit import LocalRateLimiter
from trellis.domains.emails.links import ClickTokens, LinkSigner
from trellis.settings import DatabaseSettings, Settings, WebSettings

SITE = "https://www.example.com"
SHOP = "https://www.example.com/spring"


@pytest.fixture
def settings(tmp_path: Path, test_database: DatabaseUnderTest) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database=DatabaseSettings(url=test_database.url),
        base_url="http://testserver",
        web=WebSettings(allowed_origins=[SITE], click_token=True),
    )


def visitor() -> str:
    return secrets.token_hex(16)


async def hit(
    client: httpx.AsyncClient,
    vid: str,
    url: str = f"{SITE}/pricing",
    *,
    origin: str | None = SITE,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> httpx.Response:
    import json

    body = {"v": vid, "u": url, "t": "Pricing", "r": "https://search.example/?q=x", **extra}
    sent = {"Content-Type": "text/plain;charset=UTF-8", **(headers or {})}
    if origin is not None:
        sent["Origin"] = origin
    return await client.post("/t/hit", content=json.dumps(body), headers=sent)


async def flush(harness: Harness) -> None:
    await harness.app.state.web_hits.flush()


async def page_hits(admin: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    response = await admin.get("/api/v2/page-hits", params={"page[size]": 100, **params})
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


async def contact_hits(admin: httpx.AsyncClient, contact_id: int) -> list[dict[str, Any]]:
    response = await admin.get(f"/api/v2/contacts/{contact_id}/page-hits")
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


async def tags(admin: httpx.AsyncClient, contact_id: int) -> list[str]:
    response = await admin.get(f"/api/v2/contacts/{contact_id}")
    assert response.status_code == 200, response.text
    return sorted(response.json()["tags"])


# -- the script ---------------------------------------------------------------------------------


async def test_the_script_is_small_cacheable_and_self_contained(harness: Harness) -> None:
    client = harness.client()
    response = await client.get("/t/w.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert len(gzip.compress(response.content, 9)) < 5 * 1024
    assert "max-age" in response.headers["cache-control"]
    etag = response.headers["etag"]
    again = await client.get("/t/w.js", headers={"If-None-Match": etag})
    assert again.status_code == 304
    text = response.text
    # No third-party requests: outside its opening comment it names no host at all.
    code = text[text.index("*/") + 2 :]
    assert "http://" not in code
    assert "https://" not in code
    assert "replace(/\\/t\\/w\\.js" in code
    assert "sendBeacon" in text
    assert "keepalive" in text
    assert "doNotTrack" in text
    assert "globalPrivacyControl" in text
    assert '"consent"' in text
    assert "data-consent" in text


# -- recording ---------------------------------------------------------------------------------


async def test_a_hit_is_recorded_with_utm_device_and_bounds(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    client = harness.client()
    vid = visitor()
    url = f"{SITE}/pricing?utm_source=news&utm_medium=email&utm_campaign=spring"
    response = await hit(client, vid, url, d="mobile", t="x" * 5000, s="www")
    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["access-control-allow-origin"] == SITE
    await flush(harness)
    [found] = await page_hits(admin)
    assert found["visitor_id"] == vid
    assert found["url"] == url
    assert found["contact_id"] is None
    assert (found["utm_source"], found["utm_medium"], found["utm_campaign"]) == (
        "news",
        "email",
        "spring",
    )
    assert found["utm_term"] is None
    assert found["device"] == "mobile"
    assert found["site"] == "www"
    assert len(found["title"]) == 500
    assert found["referrer"] == "https://search.example/?q=x"
    assert [h["id"] for h in await page_hits(admin, url=url)] == [found["id"]]
    assert await page_hits(admin, url=f"{SITE}/other") == []


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b'{"v": "short", "u": "https://www.example.com/"}',
        b'{"v": "aaaaaaaaaaaaaaaaaaaa", "u": "javascript:alert(1)"}',
        b'{"v": "aaaaaaaaaaaaaaaaaaaa", "u": "https://www.example.com/\\u0000"}',
        b'{"v": "aaaaaaaaaaaaaaaaaaaa", "u": "https://www.example.com/' + b"a" * 2100 + b'"}',
        b'{"v": "aaaaaaaaaaaaaaaaaaaa", "u": "https://www.example.com/", "x": "'
        + b"a" * 9000
        + b'"}',
        b'{"v": "aaaaaaaaaaaa<script>", "u": "https://www.example.com/"}',
        b"\xff\xfe",
    ],
)
async def test_bad_bodies_record_nothing_and_say_nothing(
    harness: Harness, admin: httpx.AsyncClient, body: bytes
) -> None:
    client = harness.client()
    response = await client.post(
        "/t/hit", content=body, headers={"Content-Type": "text/plain", "Origin": SITE}
    )
    assert response.status_code == 204
    assert response.content == b""
    await flush(harness)
    assert await page_hits(admin) == []


async def test_a_bad_device_and_site_are_replaced_not_stored(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    client = harness.client()
    await hit(
        client,
        visitor(),
        d="<b>toaster</b>",
        s="<script>",
        r="javascript:alert(1)",
        headers={"User-Agent": "Mozilla/5.0 (iPad; CPU OS 17_0)"},
    )
    await flush(harness)
    [found] = await page_hits(admin)
    assert (found["device"], found["site"], found["referrer"]) == ("tablet", "", "")


# -- privacy -----------------------------------------------------------------------------------


@pytest.mark.parametrize("header", [{"DNT": "1"}, {"Sec-GPC": "1"}])
async def test_do_not_track_and_gpc_record_nothing(
    harness: Harness, admin: httpx.AsyncClient, header: dict[str, str]
) -> None:
    client = harness.client()
    response = await hit(client, visitor(), headers=header)
    assert response.status_code == 204
    assert "set-cookie" not in response.headers
    await flush(harness)
    assert await page_hits(admin) == []
    # The same visit without the header is recorded: the test can fail.
    await hit(client, visitor())
    await flush(harness)
    assert len(await page_hits(admin)) == 1


async def test_consent_mode_and_opt_outs_are_in_the_script(harness: Harness) -> None:
    # The browser side: the script returns before generating an id or sending anything when
    # the browser opts out, and queues the page until trellis("consent") in opt-in mode.
    text = (await harness.client().get("/t/w.js")).text
    page = text[text.index("function page()") :]
    page = page[: page.index("\n  }\n")]
    assert page.index("optedOut()") < page.index("visitor()")
    assert page.index("if (!consent) { queued = true; return; }") < page.index("visitor()")
    assert 'getAttribute("data-consent") !== "required"' in text
    assert 'if (command === "consent")' in text


# -- origins and rate ---------------------------------------------------------------------------


async def test_only_allowed_origins_may_post_hits(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    client = harness.client()
    refused = await hit(client, visitor(), origin="https://evil.example")
    assert refused.status_code == 204
    assert "access-control-allow-origin" not in refused.headers
    missing = await hit(client, visitor(), origin=None)
    assert missing.status_code == 204
    await flush(harness)
    assert await page_hits(admin) == []

    preflight = await client.options("/t/hit", headers={"Origin": SITE})
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == SITE
    evil = await client.options("/t/hit", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in evil.headers

    # No allowed origins configured: any site may post.
    harness.app.state.settings.web.allowed_origins = []
    anywhere = await hit(client, visitor(), origin="https://another.example")
    assert anywhere.headers["access-control-allow-origin"] == "https://another.example"
    await flush(harness)
    assert len(await page_hits(admin)) == 1


async def test_hits_are_rate_limited_per_address(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    harness.app.state.web_limiter = LocalRateLimiter(0.001, 3)
    client = harness.client()
    answers = [(await hit(client, visitor())).status_code for _ in range(6)]
    assert answers == [204] * 6
    await flush(harness)
    assert len(await page_hits(admin)) == 3


# -- identification ----------------------------------------------------------------------------


async def test_a_form_submission_identifies_the_visitor_and_back_fills(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    await create_form(admin)
    public = harness.client()
    vid = visitor()
    await hit(public, vid, f"{SITE}/one")
    await hit(public, vid, f"{SITE}/two")
    other = visitor()
    await hit(public, other, f"{SITE}/three")
    await flush(harness)
    assert all(h["contact_id"] is None for h in await page_hits(admin))

    embed = await public.get("/f/newsletter.js")
    assert "_visitor" in embed.text
    assert "trellis_vid" in embed.text
    answer = await submit(
        public,
        "newsletter",
        {"email": "ada@example.com", "consent": "1", "_visitor": vid},
        Origin=SITE,
    )
    assert answer.status_code == 200, answer.text
    await flush(harness)
    listed = await admin.get("/api/v2/contacts", params={"q": "ada@example.com"})
    ada = listed.json()["data"][0]["id"]
    assert sorted(h["url"] for h in await contact_hits(admin, ada)) == [
        f"{SITE}/one",
        f"{SITE}/two",
    ]
    # Later hits of the visitor are the contact's at once; the other visitor stays anonymous.
    await hit(public, vid, f"{SITE}/four")
    await flush(harness)
    assert len(await contact_hits(admin, ada)) == 3
    assert [h["contact_id"] for h in await page_hits(admin, url=f"{SITE}/three")] == [None]
    timeline = await admin.get(f"/api/v2/contacts/{ada}/activity")
    assert timeline.status_code == 200, timeline.text
    assert any(item["kind"] == "page.hit" for item in timeline.json()["data"])


async def test_a_forged_visitor_id_in_a_form_is_ignored(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    await create_form(admin)
    public = harness.client()
    answer = await submit(
        public,
        "newsletter",
        {"email": "ada@example.com", "consent": "1", "_visitor": "<script>alert(1)</script>"},
        Origin=SITE,
    )
    assert answer.status_code == 200, answer.text
    await flush(harness)
    assert await page_hits(admin) == []


async def test_a_tracked_email_click_identifies_the_visitor(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    email = await create_email(admin, body=MJML.replace("https://shop.example.com/spring", SHOP))
    [ada] = await contacts(admin, {"email": "ada@example.com"})
    await send_campaign(harness, admin, email["id"], [ada])
    links = tracked_links(await message_to(admin, "ada@example.com"))
    public = harness.client()
    clicked = await public.get(path_of(links[SHOP]))
    assert clicked.status_code == 302
    target = clicked.headers["location"]
    assert target.startswith(SHOP + "?trellis_ct=")
    token = parse_qs(urlsplit(target).query)["trellis_ct"][0]

    vid = visitor()
    await hit(public, vid, f"{SITE}/before")
    await flush(harness)
    forged = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    await hit(public, vid, SHOP, ct=forged)
    await flush(harness)
    assert await contact_hits(admin, ada) == []

    await hit(public, vid, SHOP, ct=token)
    await flush(harness)
    urls = sorted(h["url"] for h in await contact_hits(admin, ada))
    assert urls == [f"{SITE}/before", SHOP, SHOP]


async def test_an_expired_click_token_is_ignored() -> None:
    tokens = ClickTokens(LinkSigner(b"secret", "http://testserver"), lifetime_s=3600)
    token = tokens.issue(42, now=1_000_000)
    assert tokens.verify(token, now=1_000_100) == 42
    assert tokens.verify(token, now=1_000_000 + 7 * 24 * 3600) is None
    assert tokens.verify(token.replace(".", "x", 1), now=1_000_100) is None
    # Another send's id under the same signature verifies as nothing.
    assert tokens.verify("1" + token[token.index(".") :], now=1_000_100) is None


# -- campaigns ---------------------------------------------------------------------------------


async def identified(harness: Harness, admin: httpx.AsyncClient, email: str) -> tuple[int, str]:
    """A contact and its visitor id, linked by a form submission."""
    public = harness.client()
    vid = visitor()
    answer = await submit(
        public, "newsletter", {"email": email, "consent": "1", "_visitor": vid}, Origin=SITE
    )
    assert answer.status_code == 200, answer.text
    await flush(harness)
    listed = await admin.get("/api/v2/contacts", params={"q": email})
    return int(listed.json()["data"][0]["id"]), vid


async def waiting_on(
    harness: Harness, admin: httpx.AsyncClient, kind: str, config: dict[str, Any], people: list[int]
) -> dict[str, Any]:
    decision = step(kind, config, name=kind)
    tagging = step("contact.change_tags", {"add": ["visited"]}, name="tag")
    body = await campaign(
        admin,
        events=[decision, tagging],
        edges=[edge(None, decision), edge(decision, tagging, "yes")],
    )
    added = await admin.post(
        f"/api/v2/campaigns/{body['id']}/members", json={"contact_ids": people}
    )
    assert added.status_code == 200, added.text
    await trigger(harness)
    return body


async def test_page_hit_decision_takes_the_yes_path(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    await create_form(admin)
    ada, ada_vid = await identified(harness, admin, "ada@example.com")
    bob, bob_vid = await identified(harness, admin, "bob@example.com")
    body = await waiting_on(
        harness,
        admin,
        "page.hit",
        {"urls": [f"{SITE}/pricing*"], "referrer": "https://search.example/*"},
        [ada, bob],
    )
    public = harness.client()
    await hit(public, ada_vid, f"{SITE}/PRICING?plan=pro")
    await hit(public, bob_vid, f"{SITE}/about")
    await flush(harness)
    assert await tags(admin, ada) == ["visited"]
    assert await tags(admin, bob) == []
    assert dict(await journey(admin, body["id"], ada))["page.hit"] == "yes"
    # Sec-GPC: the same visit records nothing and moves nobody.
    await hit(public, bob_vid, f"{SITE}/pricing", headers={"Sec-GPC": "1"})
    await flush(harness)
    assert await tags(admin, bob) == []


async def test_a_visit_to_a_landing_page_takes_a_decision_naming_it(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    await create_form(admin)
    ada, ada_vid = await identified(harness, admin, "ada@example.com")
    bob, bob_vid = await identified(harness, admin, "bob@example.com")
    pages = []
    for slug in ("spring", "autumn"):
        created = await admin.post(
            "/api/v2/pages",
            json={"name": slug, "title": slug, "slug": slug, "html": "<p>Hi</p>",
                  "is_published": True},
        )  # fmt: skip
        assert created.status_code == 201, created.text
        pages.append(created.json()["id"])
    await waiting_on(harness, admin, "page.hit", {"landing_pages": [pages[0]]}, [ada, bob])
    public = harness.client()
    # The pages are Trellis's own: their script posts from its origin, allowed with the site's.
    own = "http://testserver"
    await hit(public, ada_vid, f"{own}/p/spring?utm_source=mail", origin=own)
    await hit(public, bob_vid, f"{own}/p/autumn", origin=own)
    await flush(harness)
    assert await tags(admin, ada) == ["visited"]
    assert await tags(admin, bob) == []


async def test_page_hit_config_is_validated(admin: httpx.AsyncClient) -> None:
    decision = step("page.hit", {"landing_pages": [0], "urls": [""]})
    response = await admin.post(
        "/api/v2/campaigns",
        json={"name": "Bad", "events": [decision], "edges": [edge(None, decision)], "sources": []},
    )
    if response.status_code == 201:
        published = await admin.post(f"/api/v2/campaigns/{response.json()['id']}/publish")
        assert published.status_code == 422, published.text
        problem = published.json()
    else:
        assert response.status_code == 422, response.text
        problem = response.json()
    pointers = {e["pointer"] for e in problem["errors"]}
    assert any("landing_pages" in p for p in pointers), pointers


async def test_device_hit_decision(harness: Harness, admin: httpx.AsyncClient) -> None:
    await create_form(admin)
    ada, ada_vid = await identified(harness, admin, "ada@example.com")
    bob, bob_vid = await identified(harness, admin, "bob@example.com")
    await waiting_on(
        harness, admin, "page.device_hit", {"devices": ["mobile", "tablet"]}, [ada, bob]
    )
    public = harness.client()
    await hit(public, ada_vid, d="mobile")
    await hit(public, bob_vid, d="desktop")
    await flush(harness)
    assert await tags(admin, ada) == ["visited"]
    assert await tags(admin, bob) == []


async def test_visited_condition_and_segment_filter(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    await create_form(admin)
    ada, ada_vid = await identified(harness, admin, "ada@example.com")
    bob, bob_vid = await identified(harness, admin, "bob@example.com")
    public = harness.client()
    await hit(public, ada_vid, f"{SITE}/docs/install")
    await flush(harness)
    harness.clock.set(harness.clock.now() + timedelta(days=10))
    await hit(public, bob_vid, f"{SITE}/docs/faq")
    await flush(harness)

    async def members(conditions: list[dict[str, Any]]) -> list[int]:
        response = await admin.post(
            "/api/v2/segments",
            json={
                "name": secrets.token_hex(4),
                "is_published": True,
                "filters": {"match": "all", "conditions": conditions},
            },
        )
        assert response.status_code == 201, response.text
        sid = response.json()["id"]
        await trigger(harness)
        listed = await admin.get(f"/api/v2/segments/{sid}/members", params={"page[size]": 100})
        assert listed.status_code == 200, listed.text
        return sorted(c["contact_id"] for c in listed.json()["data"])

    docs = f"{SITE}/docs/*"
    assert await members([{"type": "visited_url", "operator": "matches", "value": docs}]) == sorted(
        [ada, bob]
    )
    recent = {"url": docs, "within_days": 5}
    assert await members([{"type": "visited_url", "operator": "matches", "value": recent}]) == [bob]
    assert await members(
        [{"type": "visited_url", "operator": "=", "value": f"{SITE}/docs/install"}]
    ) == [ada]
    assert await members([{"type": "visited_url", "operator": "contains", "value": "FAQ"}]) == [bob]
    assert await members(
        [{"type": "visited_url", "operator": "starts_with", "value": f"{SITE}/docs/i"}]
    ) == [ada]
    bad = await admin.post(
        "/api/v2/segments",
        json={
            "name": "bad",
            "filters": {
                "match": "all",
                "conditions": [
                    {
                        "type": "visited_url",
                        "operator": "matches",
                        "value": {"url": "x", "within_days": 0},
                    }
                ],
            },
        },
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["pointer"].endswith("/value/within_days")

    # The campaign condition: visited within 5 days -> yes.
    condition = step("page.visited", {"url": docs, "within_days": 5}, name="visited")
    yes = step("contact.change_tags", {"add": ["recent"]}, name="yes")
    body = await campaign(
        admin, events=[condition, yes], edges=[edge(None, condition), edge(condition, yes, "yes")]
    )
    added = await admin.post(
        f"/api/v2/campaigns/{body['id']}/members", json={"contact_ids": [ada, bob]}
    )
    assert added.status_code == 200, added.text
    await trigger(harness)
    assert await tags(admin, bob) == ["recent"]
    assert await tags(admin, ada) == []
