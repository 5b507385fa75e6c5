"""Landing pages through the API and at their public address: validation with pointers,
versions, clone, preview, tokens, embedded forms, caching, CSP and no third-party loads."""

from __future__ import annotations

import html as html_lib
import re
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.domains.forms.helpers import create_form
from tests.fixtures.api import Harness
from trellis.domains.assets.links import AssetLinks
from trellis.domains.landing_pages.service import page_service

BODY = (
    '<section class="hero"><h1>Hello {contactfield=first_name|there}</h1>'
    '<p>Today is {date}.</p><img src="/a/logo" alt="logo">'
    '<a href="/a/whitepaper">Get the paper</a></section>'
)


def _page(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Spring launch",
        "title": "Spring launch",
        "slug": "spring",
        "meta_description": "All about spring",
        "html": BODY,
        "css": ".hero { color: #161616; }",
        "is_published": True,
    }
    body.update(overrides)
    return body


async def _create(admin: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    response = await admin.post("/api/v2/pages", json=_page(**overrides))
    assert response.status_code == 201, response.text
    return dict(response.json())


def _pointers(response: httpx.Response) -> set[str]:
    return {e["pointer"] for e in response.json().get("errors", [])}


async def test_crud_versions_clone_and_audit(admin: httpx.AsyncClient) -> None:
    page = await _create(admin)
    assert page["slug"] == "spring"
    assert page["url"].endswith("/p/spring")
    assert page["version"] == 1
    assert page["content_version"] == 1

    stale = await admin.patch(
        f"/api/v2/pages/{page['id']}", json={"name": "x"}, headers={"If-Match": '"9"'}
    )
    assert stale.status_code == 412
    renamed = await admin.patch(f"/api/v2/pages/{page['id']}", json={"name": "Spring 2027"})
    assert renamed.status_code == 200, renamed.text
    # The name does not change what visitors see; the body does.
    assert renamed.json()["version"] == 2
    assert renamed.json()["content_version"] == 1
    edited = await admin.patch(f"/api/v2/pages/{page['id']}", json={"html": "<p>New</p>"})
    assert edited.json()["content_version"] == 2

    listed = await admin.get("/api/v2/pages", params={"q": "2027"})
    assert [p["id"] for p in listed.json()["data"]] == [page["id"]]
    assert (await admin.get("/api/v2/pages", params={"is_published": "false"})).json()["data"] == []

    clone = await admin.post(f"/api/v2/pages/{page['id']}/clone")
    assert clone.status_code == 201, clone.text
    assert clone.json()["slug"] == "spring-copy"
    assert clone.json()["is_published"] is False
    assert clone.json()["html"] == "<p>New</p>"

    audit = await admin.get(
        "/api/v2/audit-log", params={"entity_type": "page", "entity_id": page["id"]}
    )
    assert audit.status_code == 200, audit.text
    assert {e["action"] for e in audit.json()["data"]} >= {"create", "update"}

    assert (await admin.delete(f"/api/v2/pages/{page['id']}")).status_code == 204
    assert (await admin.get(f"/api/v2/pages/{page['id']}")).status_code == 404


async def test_bad_pages_are_refused_with_pointers(admin: httpx.AsyncClient) -> None:
    await _create(admin)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"slug": "Not A Slug"}, "/slug"),
        ({"slug": "spring"}, "/slug"),  # taken
        ({"slug": "other", "title": ""}, "/title"),
        ({"slug": "other", "html": "<script>alert(1)</script>"}, "/html"),
        ({"slug": "other", "html": '<img src="https://cdn.example.com/x.png">'}, "/html"),
        ({"slug": "other", "html": '<img srcset="/a/x 1x, //cdn.example.com/y 2x">'}, "/html"),
        ({"slug": "other", "html": "{{ range(10) }}"}, "/html"),
        ({"slug": "other", "html": "{form=999}"}, "/html"),
        ({"slug": "other", "css": "@import url(https://fonts.example.com/a.css);"}, "/css"),
        ({"slug": "other", "css": "body { background: url(//evil.example/x.png) }"}, "/css"),
        ({"slug": "other", "css": "</style><script>x</script>"}, "/css"),
    ]
    for overrides, pointer in cases:
        response = await admin.post("/api/v2/pages", json=_page(**overrides))
        assert response.status_code == 422, (overrides, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert pointer in _pointers(response), (overrides, response.json())
    listed = await admin.get("/api/v2/pages")
    assert len(listed.json()["data"]) == 1  # nothing half-written


async def test_served_with_tokens_defaults_cache_headers_and_etag(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    page = await _create(admin)
    async with harness.client() as public:
        first = await public.get("/p/spring")
        assert first.status_code == 200, first.text
        assert "Hello there" in first.text  # anonymous: the token's default
        assert "Today is 20" in first.text
        assert '<meta name="description" content="All about spring">' in first.text
        assert '<script src="/t/w.js" async></script>' in first.text
        assert first.headers["cache-control"] == "public, max-age=60"
        etag = first.headers["etag"]
        csp = first.headers["content-security-policy"]
        assert "script-src http://testserver/t/w.js;" in csp
        assert "frame-src 'none'" in csp
        assert "base-uri 'none'" in csp
        assert "object-src 'none'" in csp

        again = await public.get("/p/spring", headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert again.content == b""

        await admin.patch(f"/api/v2/pages/{page['id']}", json={"html": "<p>Changed</p>"})
        changed = await public.get("/p/spring", headers={"If-None-Match": etag})
        assert changed.status_code == 200
        assert changed.headers["etag"] != etag
        assert "Changed" in changed.text


async def test_a_known_contact_sees_its_fields_privately(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    await _create(admin)
    person = await admin.post(
        "/api/v2/contacts", json={"email": "ada@example.com", "first_name": "<b>Ada</b>"}
    )
    contact_id = person.json()["id"]
    links = AssetLinks(page_service.links.signer)
    token = links.contact_token(contact_id)
    async with harness.client() as public:
        known = await public.get("/p/spring", params={"ct": token})
        assert known.status_code == 200
        assert "Hello &lt;b&gt;Ada&lt;/b&gt;" in known.text  # escaped
        assert known.headers["cache-control"] == "private, no-store"
        assert "etag" not in known.headers
        # Asset links carry the contact's token, so its downloads are its own.
        assert f'href="/a/whitepaper?ct={token}"' in known.text
        forged = await public.get("/p/spring", params={"ct": token[:-2] + "xx"})
        assert "Hello there" in forged.text
        assert forged.headers["cache-control"] == "public, max-age=60"


async def test_an_embedded_form_is_rendered_escaped_and_posts_to_its_endpoint(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    form = await create_form(
        admin,
        fields=[
            {
                "label": '<script>alert("x")</script>Email',
                "type": "email",
                "name": "email",
                "contact_field": "email",
                "required": True,
            }
        ],
    )
    await _create(admin, html=f"<h2>Join</h2>{{form={form['id']}}}")
    async with harness.client() as public:
        served = await public.get("/p/spring")
    assert served.status_code == 200, served.text
    html = served.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;Email" in html
    assert "<script>alert" not in html
    action = re.search(r'<form[^>]*action="([^"]+)"', html)
    assert action is not None
    target = urlsplit(html_lib.unescape(action.group(1)))
    assert target.path == f"/f/{form['alias']}"
    assert '<link rel="stylesheet" href="/f/forms.css">' in html

    # The page runs sandboxed, so the browser posts with "Origin: null": accepted with the
    # signed action the page carries, refused without it.
    null = {"Origin": "null"}
    async with harness.client() as public:
        forged = await public.post(target.path, data={"email": "eve@example.com"}, headers=null)
        assert forged.status_code == 403, forged.text
        posted = await public.post(
            f"{target.path}?{target.query}", data={"email": "grace@example.com"}, headers=null
        )
    assert posted.status_code == 303, posted.text

    # An unpublished form is left out, not shown.
    await admin.patch(f"/api/v2/forms/{form['id']}", json={"is_published": False})
    async with harness.client() as public:
        hidden = await public.get("/p/spring")
    assert "<form" not in hidden.text


async def test_the_page_references_no_external_host(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    form = await create_form(admin)
    await _create(admin, html=BODY + f"{{form={form['id']}}}")
    async with harness.client() as public:
        html = (await public.get("/p/spring")).text
    own = urlsplit(harness.settings.base_url).netloc
    references = re.findall(r'\b(?:src|href|action|srcset|poster)\s*=\s*"([^"]*)"', html)
    references += re.findall(r"url\(([^)]*)\)", html)
    assert references, html
    for ref in references:
        parts = urlsplit(ref.strip("'\""))
        assert parts.netloc in ("", own), ref
        assert not ref.startswith("//"), ref


async def test_unpublished_and_unknown_pages_are_404(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    page = await _create(admin, is_published=False)
    async with harness.client() as public:
        assert (await public.get("/p/spring")).status_code == 404
        assert (await public.get("/p/nothing-here")).status_code == 404
        assert (await public.get("/p/Bad_Slug")).status_code == 404
    await admin.patch(f"/api/v2/pages/{page['id']}", json={"is_published": True})
    async with harness.client() as public:
        assert (await public.get("/p/spring")).status_code == 200


async def test_preview_renders_unsaved_html_for_a_contact(admin: httpx.AsyncClient) -> None:
    page = await _create(admin, is_published=False)
    person = await admin.post(
        "/api/v2/contacts", json={"email": "g@example.com", "first_name": "G"}
    )
    preview = await admin.post(
        f"/api/v2/pages/{page['id']}/preview",
        json={"contact_id": person.json()["id"], "html": "<p>Hi {contactfield=first_name}</p>"},
    )
    assert preview.status_code == 200, preview.text
    assert "<p>Hi G</p>" in preview.json()["html"]
    bad = await admin.post(
        f"/api/v2/pages/{page['id']}/preview", json={"html": "<iframe src='/x'></iframe>"}
    )
    assert bad.status_code == 422
    assert "/html" in _pointers(bad)
    missing = await admin.post(f"/api/v2/pages/{page['id']}/preview", json={"contact_id": 99999})
    assert missing.status_code == 422
    assert "/contact_id" in _pointers(missing)


async def test_landing_page_ids_for_web_tracking(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    page = await _create(admin)
    base = harness.settings.base_url.rstrip("/")
    async with harness.database.unit_of_work(read_only=True) as session:
        found = await page_service.landing_page_ids(
            session,
            [
                f"{base}/p/spring?utm_source=x",
                f"{base}/p/unknown",
                "https://other.example/p/spring",
            ],
        )
    assert found == {f"{base}/p/spring?utm_source=x": page["id"]}


async def test_markup_assembled_by_template_syntax_is_refused_or_neutralised(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    """A tag split by template syntax is refused on save (the rendered page is checked too);
    one only a particular contact's data assembles is served as text."""
    for html in (
        '<{# #}script src="/t/w.js"></script>',
        '<{##}meta http-equiv=refresh content="0;url=https://evil.example/">',
        '<{{ "" }}iframe src="/a/x"></iframe>',
        '<img s{# #}rc="https://evil.example/x.png">',
    ):
        refused = await admin.post("/api/v2/pages", json=_page(slug="bad", html=html))
        assert refused.status_code == 422, (html, refused.text)
        assert _pointers(refused) == {"/html"}, refused.text
        assert "once the template is applied" in refused.text
    conditional = (
        '<p>Hi</p><{% if contact.first_name == "Eve" %}{% else %}x{% endif %}script src="/x">'
        '</script><{% if contact.first_name == "Eve" %}{% else %}x{% endif %}meta '
        'http-equiv="refresh" content="0;url=https://evil.example/">'
    )
    await _create(admin, html=conditional)
    person = await admin.post(
        "/api/v2/contacts", json={"email": "eve@example.com", "first_name": "Eve"}
    )
    token = AssetLinks(page_service.links.signer).contact_token(person.json()["id"])
    async with harness.client() as public:
        served = await public.get("/p/spring", params={"ct": token})
    assert served.status_code == 200
    body = served.text.split("<body>", 1)[1]
    assert "&lt;script" in body
    assert "&lt;meta" in body
    assert re.findall(r"<script\b[^>]*>", body) == ['<script src="/t/w.js" async>']
    assert "<meta" not in body


async def test_public_pages_run_sandboxed_in_an_opaque_origin(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    await _create(admin)
    async with harness.client() as public:
        for path in ("/p/spring", "/p/nothing-here"):
            response = await public.get(path)
            directives = dict(
                ([*d.strip().split(" ", 1), ""])[:2]
                for d in response.headers["content-security-policy"].split(";")
            )
            sandbox = directives["sandbox"].split()
            assert "allow-scripts" in sandbox
            assert "allow-forms" in sandbox
            assert "allow-same-origin" not in sandbox
            assert directives["script-src"] == "http://testserver/t/w.js"
            assert directives["default-src"] == "'none'"


async def test_a_page_that_computes_too_much_is_refused_or_fails_cleanly(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    for html in ("{{ (9**(9**7)) > 0 }}", "{{ 'x' * 10**9 }}", "{{ 9**(9**9) }}"):
        refused = await admin.post("/api/v2/pages", json=_page(slug="slow", html=html))
        assert refused.status_code == 422, refused.text
        [error] = refused.json()["errors"]
        assert (error["pointer"], error["code"]) == ("/html", "template_limit")
    # Fine for the sample, too much for a contact with a long name: nested loops over it.
    loops = (
        "{% for a in contact.first_name %}{% for b in contact.first_name %}"
        "{% for c in contact.first_name %}.{% endfor %}{% endfor %}{% endfor %}"
    )
    page = await _create(admin, html=loops)
    person = await admin.post(
        "/api/v2/contacts", json={"email": "l@example.com", "first_name": "L" * 100}
    )
    token = AssetLinks(page_service.links.signer).contact_token(person.json()["id"])
    async with harness.client() as public:
        failed = await public.get("/p/spring", params={"ct": token})
        assert failed.status_code == 500
        assert "cannot be shown" in failed.text
        assert (await public.get("/p/spring")).status_code == 200
    preview = await admin.post(
        f"/api/v2/pages/{page['id']}/preview", json={"contact_id": person.json()["id"]}
    )
    assert preview.status_code == 422, preview.text
    assert preview.json()["errors"][0]["code"] == "template_limit"
