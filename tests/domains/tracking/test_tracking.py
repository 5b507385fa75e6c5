"""Opens, clicks, the web view, unsubscribe and preferences, driven the way a recipient's mail
client would: from the links of the message the outbox kept."""

from __future__ import annotations

import asyncio
import re

import httpx

from tests.domains.campaigns.helpers import contacts, journey
from tests.domains.emails.helpers import create_email, sends
from tests.domains.tracking.helpers import (
    flush,
    html_of,
    message_to,
    path_of,
    send_campaign,
    tracked_links,
)
from tests.fixtures.api import Harness

SHOP = "https://shop.example.com/spring"


async def tags(admin: httpx.AsyncClient, contact_id: int) -> list[str]:
    response = await admin.get(f"/api/v2/contacts/{contact_id}")
    assert response.status_code == 200, response.text
    return sorted(response.json()["tags"])


async def stats(admin: httpx.AsyncClient, email_id: int) -> dict[str, object]:
    response = await admin.get(f"/api/v2/emails/{email_id}/stats")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_opens_and_clicks_move_contacts_down_the_yes_paths_at_once(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    email = await create_email(admin, utm={"source": "trellis"})
    ada, bob = await contacts(
        admin,
        {"email": "ada@example.com", "first_name": "Ada"},
        {"email": "bob@example.com", "first_name": "Bob"},
    )
    body = await send_campaign(
        harness,
        admin,
        email["id"],
        [ada, bob],
        after=[
            ("email.open", {"email_id": email["id"]}, "opened"),
            (
                "email.click",
                {"email_id": email["id"], "urls": ["https://shop.example.com/*"]},
                "clicked",
            ),
        ],
    )
    message = await message_to(admin, "ada@example.com")
    links = tracked_links(message)
    shop = f"{SHOP}?utm_source=trellis"
    assert set(links) >= {"open", shop, "unsubscribe"}
    # The plain-text part carries the same tracked link.
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert links[shop] in text

    public = harness.client()
    pixel = await public.get(path_of(links["open"]))
    assert pixel.status_code == 200
    assert pixel.headers["content-type"] == "image/gif"
    assert pixel.content.startswith(b"GIF89a")
    assert "no-store" in pixel.headers["cache-control"]
    # The buffer writes on its own within ~200 ms: the yes path has run within a second.
    for _ in range(20):
        await asyncio.sleep(0.05)
        if await tags(admin, ada) == ["opened"]:
            break
    assert await tags(admin, ada) == ["opened"]
    assert await tags(admin, bob) == []

    clicked = await public.get(path_of(links[shop]))
    assert clicked.status_code == 302
    assert clicked.headers["location"] == shop
    await public.get(path_of(links[shop]))
    await flush(harness)
    assert await tags(admin, ada) == ["clicked", "opened"]
    steps = dict(await journey(admin, body["id"], ada))
    assert steps["email.click"] == "yes"

    # Bob clicks without ever loading images: the click counts as his open too.
    bob_links = tracked_links(await message_to(admin, "bob@example.com"))
    assert (await public.get(path_of(bob_links[shop]))).status_code == 302
    await flush(harness)
    assert await tags(admin, bob) == ["clicked", "opened"]

    figures = await stats(admin, email["id"])
    assert figures["sent"] == 2
    assert (figures["opens"], figures["unique_opens"]) == (2, 2)
    assert (figures["clicks"], figures["unique_clicks"]) == (3, 2)
    assert figures["links"] == [{"url": shop, "clicks": 3, "unique_clicks": 2}]

    timeline = await admin.get(f"/api/v2/contacts/{ada}/activity")
    kinds = [item["kind"] for item in timeline.json()["data"]]
    assert kinds.count("email.click") == 2
    assert kinds.count("email.open") == 1


async def test_forged_or_altered_tokens_get_a_neutral_404(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    email = await create_email(admin)
    [ada] = await contacts(admin, {"email": "ada@example.com"})
    await send_campaign(harness, admin, email["id"], [ada])
    links = tracked_links(await message_to(admin, "ada@example.com"))
    click = path_of(links[SHOP])
    token = click.split("/")[3].split("?")[0]
    public = harness.client()
    forged = [
        # Another URL under a genuine token: never an open redirect.
        click.replace("shop.example.com", "evil.example.net"),
        click.split("?")[0] + "?u=https%3A%2F%2Fevil.example.net%2F",
        click.split("?")[0],
        click.replace(token, token[:-1] + ("A" if token[-1] != "A" else "B")),
        # A token for one purpose does not open another.
        "/t/view/" + token,
        "/t/open/" + token + ".gif",
        "/t/unsubscribe/" + token,
        "/t/preferences/1.xxxxxxxx",
        "/t/view/zzzzzzzzzzzzzzzzzz.abc",
        "/t/click/" + "a" * 5000 + "?u=x",
    ]
    bodies = set()
    for path in forged:
        response = await public.get(path)
        assert response.status_code == 404, path
        assert "location" not in response.headers
        bodies.add(response.text)
    # Every refusal looks the same, whatever was wrong.
    assert len(bodies) == 1
    assert "ada@example.com" not in bodies.pop()
    posted = await public.post("/t/unsubscribe/" + token, data={"List-Unsubscribe": "One-Click"})
    assert posted.status_code == 404
    await flush(harness)
    figures = await stats(admin, email["id"])
    assert (figures["opens"], figures["clicks"], figures["unsubscribes"]) == (0, 0, 0)


async def test_dnt_and_gpc_record_no_open_but_a_click_is_a_click(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    email = await create_email(admin)
    [ada] = await contacts(admin, {"email": "ada@example.com"})
    await send_campaign(harness, admin, email["id"], [ada])
    links = tracked_links(await message_to(admin, "ada@example.com"))
    public = harness.client()
    for header in ({"DNT": "1"}, {"Sec-GPC": "1"}):
        pixel = await public.get(path_of(links["open"]), headers=header)
        assert pixel.status_code == 200
        assert pixel.content.startswith(b"GIF")
    await flush(harness)
    assert (await stats(admin, email["id"]))["opens"] == 0
    clicked = await public.get(path_of(links[SHOP]), headers={"DNT": "1", "Sec-GPC": "1"})
    assert clicked.status_code == 302
    await flush(harness)
    figures = await stats(admin, email["id"])
    assert (figures["clicks"], figures["unique_clicks"]) == (1, 1)


async def test_one_click_unsubscribe_stops_the_next_marketing_email(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    email = await create_email(admin)
    [ada] = await contacts(admin, {"email": "ada@example.com"})
    await send_campaign(harness, admin, email["id"], [ada])
    message = await message_to(admin, "ada@example.com")
    header = message["List-Unsubscribe"].split("<")[1].split(">")[0]
    public = harness.client()
    # Following the link (a mail scanner does) only shows the page.
    page = await public.get(path_of(header))
    assert page.status_code == 200
    assert "ada@example.com" in page.text
    assert 'method="post"' in page.text
    contact = await admin.get(f"/api/v2/contacts/{ada}")
    assert contact.json()["dnc"] == []
    # A form post without the page's token is refused (CSRF).
    refused = await public.post(path_of(header), data={"form_token": "1.abc"})
    assert refused.status_code == 400
    # RFC 8058 one-click, as a mail client sends it.
    done = await public.post(
        path_of(header),
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert done.status_code == 200, done.text
    assert "unsubscribed" in done.text
    dnc = (await admin.get(f"/api/v2/contacts/{ada}")).json()["dnc"]
    assert [(d["channel"], d["reason"]) for d in dnc] == [("email", "unsubscribed")]
    assert (await stats(admin, email["id"]))["unsubscribes"] == 1

    other = await create_email(admin, name="Summer")
    await send_campaign(harness, admin, other["id"], [ada])
    [row] = await sends(admin, other["id"])
    assert row["status"] == "skipped"
    assert "Do Not Contact" in row["reason"]


async def test_one_click_unsubscribe_sent_as_multipart_form_data(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    """RFC 8058 recommends multipart/form-data for the one-click post: it unsubscribes like the
    urlencoded form; an oversized or file-carrying body does not."""
    email = await create_email(admin)
    [ada] = await contacts(admin, {"email": "ada@example.com"})
    await send_campaign(harness, admin, email["id"], [ada])
    message = await message_to(admin, "ada@example.com")
    url = path_of(message["List-Unsubscribe"].split("<")[1].split(">")[0])
    public = harness.client()
    with_file = await public.post(
        url,
        data={"List-Unsubscribe": "One-Click"},
        files={"attachment": ("a.txt", b"x", "text/plain")},
    )
    assert with_file.status_code == 400
    oversized = await public.post(
        url, data={"List-Unsubscribe": "One-Click"}, files={"pad": (None, "x" * 20_000)}
    )
    assert oversized.status_code == 400
    assert (await admin.get(f"/api/v2/contacts/{ada}")).json()["dnc"] == []

    boundary = "----trellis-test-boundary"
    body = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="List-Unsubscribe"\r\n\r\n'
        f"One-Click\r\n--{boundary}--\r\n"
    )
    done = await public.post(
        url,
        content=body.encode(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert done.status_code == 200, done.text
    assert "unsubscribed" in done.text
    dnc = (await admin.get(f"/api/v2/contacts/{ada}")).json()["dnc"]
    assert [(d["channel"], d["reason"]) for d in dnc] == [("email", "unsubscribed")]


async def test_the_unsubscribe_page_form_and_the_web_view(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    email = await create_email(admin)
    [ada] = await contacts(admin, {"email": "ada@example.com", "first_name": "<b>Ada</b>"})
    await send_campaign(harness, admin, email["id"], [ada])
    message = await message_to(admin, "ada@example.com")
    links = tracked_links(message)
    public = harness.client()
    view = await public.get(path_of(re.sub(r"/t/unsubscribe/", "/t/view/", links["unsubscribe"])))
    assert view.status_code == 404  # an unsubscribe token is not a web view token
    webview = [u for u in re.findall(r'href="([^"]+)"', html_of(message)) if "/t/view/" in u]
    if webview:
        shown = await public.get(path_of(webview[0]))
        assert shown.status_code == 200
        assert "&lt;b&gt;Ada&lt;/b&gt;" in shown.text
        assert "/t/open/" not in shown.text
    page = await public.get(path_of(links["unsubscribe"]))
    token = re.search(r'name="form_token" value="([^"]+)"', page.text)
    assert token is not None
    done = await public.post(path_of(links["unsubscribe"]), data={"form_token": token.group(1)})
    assert done.status_code == 200
    dnc = (await admin.get(f"/api/v2/contacts/{ada}")).json()["dnc"]
    assert [d["reason"] for d in dnc] == ["unsubscribed"]
    assert "default-src 'self'" in page.headers["content-security-policy"]
    css = await public.get("/t/pages.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")


async def test_the_preference_centre_switches_email_and_categories(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    email = await create_email(
        admin,
        body=(
            "<mjml><mj-body><mj-section><mj-column><mj-text>"
            '<a href="{preferences_url}">Preferences</a> <a href="{webview_url}">View</a>'
            "</mj-text></mj-column></mj-section></mj-body></mjml>"
        ),
    )
    for name, category in ((email["id"], "News"), (None, "<Offers>")):
        if name is None:
            other = await create_email(admin, name="Offers")
            put = await admin.put(
                f"/api/v2/emails/{other['id']}/category", json={"category": category}
            )
            assert put.status_code == 422  # markup is not a category name
            put = await admin.put(
                f"/api/v2/emails/{other['id']}/category", json={"category": "Offers & deals"}
            )
        else:
            put = await admin.put(f"/api/v2/emails/{name}/category", json={"category": category})
        assert put.status_code == 200, put.text
    [ada] = await contacts(admin, {"email": "ada@example.com"})
    await send_campaign(harness, admin, email["id"], [ada])
    message = await message_to(admin, "ada@example.com")
    hrefs = re.findall(r'href="([^"]+)"', html_of(message))
    preferences = path_of(next(h for h in hrefs if "/t/preferences/" in h))
    public = harness.client()
    page = await public.get(preferences)
    assert page.status_code == 200
    assert "Offers &amp; deals" in page.text
    assert "News" in page.text
    assert page.text.count("checked") == 3
    token = re.search(r'name="form_token" value="([^"]+)"', page.text)
    assert token is not None
    saved = await public.post(preferences, data={"form_token": token.group(1), "category": "News"})
    assert saved.status_code == 200
    assert "saved" in saved.text
    assert saved.text.count("checked") == 1
    dnc = (await admin.get(f"/api/v2/contacts/{ada}")).json()["dnc"]
    assert [d["reason"] for d in dnc] == ["unsubscribed"]
    # Back on: the DNC an unsubscribe set is lifted; the opt-out of a category stays.
    again = await public.post(
        preferences, data={"form_token": token.group(1), "email": "1", "category": "News"}
    )
    assert again.text.count("checked") == 2
    assert (await admin.get(f"/api/v2/contacts/{ada}")).json()["dnc"] == []
    forged = await public.post(preferences, data={"form_token": "123.abc", "email": "1"})
    assert forged.status_code == 400
    # The category opt-out holds: a marketing email of that category is not sent to her.
    await admin.patch(f"/api/v2/emails/{other['id']}", json={"is_published": True})
    offers = await send_campaign(harness, admin, other["id"], [ada])
    steps = (await admin.get(f"/api/v2/campaigns/{offers['id']}/contacts/{ada}/journey")).json()[
        "steps"
    ]
    assert "Opted out of this email's category" in str(steps)
    outbox = (await admin.get("/api/v2/outbox", params={"page[size]": 100})).json()["data"]
    assert len(outbox) == 1


async def test_segment_filters_on_opened_and_clicked(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    email = await create_email(admin)
    ada, bob = await contacts(admin, {"email": "ada@example.com"}, {"email": "bob@example.com"})
    await send_campaign(harness, admin, email["id"], [ada, bob])
    links = tracked_links(await message_to(admin, "ada@example.com"))
    await harness.client().get(path_of(links["open"]))
    await flush(harness)
    for kind, operator, expected in (
        ("email_opened", "in", 1),
        ("email_opened", "not_in", 1),
        ("email_clicked", "in", 0),
    ):
        condition = {"type": kind, "operator": operator, "value": [email["id"]]}
        response = await admin.post(
            "/api/v2/segments/count",
            json={"filters": {"match": "all", "conditions": [condition]}},
        )
        assert response.status_code == 200, response.text
        assert response.json()["count"] == expected
    bad = await admin.post(
        "/api/v2/segments",
        json={
            "name": "x",
            "filters": {
                "match": "all",
                "conditions": [{"type": "email_opened", "operator": "in", "value": ["a"]}],
            },
        },
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["pointer"] == "/filters/conditions/0/value/0"


async def test_the_web_view_shows_the_version_that_was_sent(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    def body(words: str) -> str:
        return (
            "<mjml><mj-body><mj-section><mj-column>"
            f"<mj-text>{words} for {{contactfield=first_name|there}}</mj-text>"
            '<mj-text><a href="{webview_url}">View online</a></mj-text>'
            "</mj-column></mj-section></mj-body></mjml>"
        )

    email = await create_email(admin, body=body("First offer"))
    [ada] = await contacts(admin, {"email": "ada@example.com", "first_name": "Ada"})
    await send_campaign(harness, admin, email["id"], [ada])
    message = await message_to(admin, "ada@example.com")
    [webview] = [u for u in re.findall(r'href="([^"]+)"', html_of(message)) if "/t/view/" in u]

    edited = await admin.patch(f"/api/v2/emails/{email['id']}", json={"body": body("Second offer")})
    assert edited.status_code == 200, edited.text
    assert edited.json()["content_version"] == email["content_version"] + 1
    edited = await admin.patch(f"/api/v2/emails/{email['id']}", json={"body": body("Third offer")})
    assert edited.status_code == 200, edited.text

    shown = await harness.client().get(path_of(webview))
    assert shown.status_code == 200
    assert "First offer for Ada" in shown.text
    assert "Third offer" not in shown.text
