"""The public form endpoints: hostile input, origins, the honeypot, rate limits, escaping,
and what an accepted submission sets off (contact, actions, campaigns, decisions)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.domains.campaigns.helpers import campaign, edge, journey, step
from tests.domains.emails.helpers import create_email
from tests.domains.forms.helpers import create_form, newsletter, submit
from tests.fixtures.api import Harness
from trellis.api.ratelimit import LocalRateLimiter
from trellis.domains.forms.service import form_service
from trellis.domains.forms.submission import anonymise_ip
from trellis.events.base import HttpResult

GOOD = {"email": "Ada@Example.com", "first_name": "Ada", "topics": ["news"], "consent": True}


async def _contact(admin: httpx.AsyncClient, email: str) -> dict[str, Any]:
    found = await admin.get("/api/v2/contacts", params={"q": email})
    data = found.json()["data"]
    assert len(data) == 1, found.text
    return dict(data[0])


async def _total(admin: httpx.AsyncClient, form_id: int) -> int:
    listed = await admin.get(f"/api/v2/forms/{form_id}/submissions")
    return int(listed.json()["meta"]["total"])


async def _tags(admin: httpx.AsyncClient, contact_id: int) -> list[str]:
    got = await admin.get(f"/api/v2/contacts/{contact_id}")
    return sorted(t if isinstance(t, str) else t["name"] for t in got.json()["tags"])


async def test_a_submission_creates_then_updates_the_contact(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    form = await create_form(admin)
    async with harness.client() as public:
        first = await submit(public, "newsletter", GOOD)
        assert first.status_code == 200, first.text
        assert first.json() == {"ok": True, "message": "Thanks, Ada!", "redirect_url": None}
        assert "access-control-allow-origin" not in first.headers
        again = await submit(
            public,
            "newsletter",
            {
                **GOOD,
                "first_name": "Augusta",
                "page": "x",
                "_page": "https://www.example.com/signup",
            },
        )
        assert again.status_code == 200
    contact = await _contact(admin, "ada@example.com")
    assert contact["first_name"] == "Augusta"
    listed = (await admin.get(f"/api/v2/forms/{form['id']}/submissions")).json()["data"]
    assert [s["contact_id"] for s in listed] == [contact["id"], contact["id"]]
    assert listed[0]["page_url"] == "https://www.example.com/signup"
    assert "page" not in listed[0]["values"]  # inputs the form does not have are ignored
    assert listed[0]["contact_name"] == "Augusta"
    activity = (await admin.get(f"/api/v2/contacts/{contact['id']}/activity")).json()["data"]
    submitted = [a for a in activity if a["kind"] == "form.submitted"]
    assert [a["summary"] for a in submitted] == ["Submitted form: Newsletter"] * 2


async def test_invalid_answers_get_pointers_and_nothing_is_written(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    form = await create_form(admin)
    async with harness.client() as public:
        response = await submit(
            public, "newsletter", {"email": "not-an-email", "topics": ["news", "hacked"]}
        )
        assert response.status_code == 422
        assert response.headers["content-type"].startswith("application/problem+json")
        errors = {e["pointer"]: e["code"] for e in response.json()["errors"]}
        assert errors == {
            "/fields/email": "invalid_value",
            "/fields/topics": "invalid_value",
            "/fields/consent": "required",
        }
        long = await submit(public, "newsletter", {**GOOD, "first_name": "x" * 1001})
        assert long.status_code == 422
        assert [e["pointer"] for e in long.json()["errors"]] == ["/fields/first_name"]
        not_json = await public.post(
            "/f/newsletter", content=b"{nope", headers={"Content-Type": "application/json"}
        )
        assert not_json.status_code == 400
        huge = await public.post(
            "/f/newsletter",
            content=b"first_name=" + b"x" * 70_000,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert huge.status_code == 413
        missing = await submit(public, "no-such-form", GOOD)
        assert missing.status_code == 404
    assert await _total(admin, form["id"]) == 0
    assert (await admin.get("/api/v2/contacts")).json()["meta"]["total"] == 0


async def test_a_filled_honeypot_looks_accepted_but_stores_nothing(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    form = await create_form(admin)
    async with harness.client() as public:
        response = await submit(public, "newsletter", {**GOOD, "_homepage": "http://spam"})
        assert response.status_code == 200
        assert response.json()["ok"] is True
        plain = await public.post(
            "/f/newsletter", data={"email": "bot@example.com", "_homepage": "x"}
        )
        assert plain.status_code == 303
    assert await _total(admin, form["id"]) == 0
    assert (await admin.get("/api/v2/contacts")).json()["meta"]["total"] == 0


async def test_posts_from_other_origins_are_refused(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    form = await create_form(admin)
    async with harness.client() as public:
        refused = await submit(public, "newsletter", GOOD, Origin="https://evil.example")
        assert refused.status_code == 403
        assert "access-control-allow-origin" not in refused.headers
        preflight = await public.options(
            "/f/newsletter",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        assert preflight.status_code == 403

        preflight = await public.options(
            "/f/newsletter",
            headers={"Origin": "https://www.example.com", "Access-Control-Request-Method": "POST"},
        )
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == "https://www.example.com"
        allowed = await submit(public, "newsletter", GOOD, Origin="https://www.example.com")
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://www.example.com"
        own = await submit(
            public, "newsletter", {**GOOD, "email": "own@example.com"}, Origin="http://testserver"
        )
        assert own.status_code == 200
    assert await _total(admin, form["id"]) == 2


async def test_too_many_requests_from_one_address(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    await create_form(admin)
    harness.app.state.forms_limiter = LocalRateLimiter(0.001, 3)
    async with harness.client() as public:
        codes = [
            (await submit(public, "newsletter", {**GOOD, "email": f"r{i}@example.com"})).status_code
            for i in range(4)
        ]
        page = await public.get("/f/newsletter")
    assert codes == [200, 200, 200, 429]
    assert page.status_code == 429


async def test_stored_markup_is_escaped_everywhere_it_is_shown(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    evil = '<script>alert("x")</script>'
    form = await create_form(
        admin,
        description=evil,
        fields=[
            {
                "label": f"Email {evil}",
                "type": "email",
                "name": "email",
                "contact_field": "email",
                "required": True,
                "help": evil,
            },
            {
                "label": "Name",
                "type": "text",
                "name": "first_name",
                "contact_field": "first_name",
                "placeholder": evil,
            },
            {
                "label": "Where",
                "type": "select",
                "name": "where",
                "options": [{"label": evil, "value": 'a"><b>'}],
            },
        ],
        success={"kind": "message", "message": "Thanks {formfield=first_name}!"},
    )
    async with harness.client() as public:
        page = await public.get("/f/newsletter")
        assert page.status_code == 200
        assert "<script>alert" not in page.text
        assert "&lt;script&gt;" in page.text
        assert 'value="a&#34;&gt;&lt;b&gt;"' in page.text
        assert "script-src 'none'" in page.headers["content-security-policy"]

        # A plain (non-script) post: 303 to the thank-you page, which shows the stored value.
        posted = await public.post(
            "/f/newsletter", data={"email": "eve@example.com", "first_name": evil}
        )
        assert posted.status_code == 303
        target = posted.headers["location"]
        assert target.startswith("/f/newsletter/thanks?s=")
        thanks = await public.get(target)
        assert thanks.status_code == 200
        assert "Thanks &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;!" in thanks.text
        assert "<script>" not in thanks.text
        # A forged thank-you link shows no one's values.
        forged = await public.get("/f/newsletter/thanks?s=1.AAAA")
        assert "Thanks !" in forged.text

        # The error page shows what was typed, escaped.
        wrong = await public.post("/f/newsletter", data={"email": "x", "first_name": evil})
        assert wrong.status_code == 422
        assert "<script>alert" not in wrong.text
        assert 'value="&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"' in wrong.text

        script = await public.get("/f/newsletter.js")
        assert script.status_code == 200
        assert script.headers["content-type"].startswith("text/javascript")
        assert "</script>" not in script.text
        assert "<script>" not in script.text
    listed = (await admin.get(f"/api/v2/forms/{form['id']}/submissions")).json()["data"]
    assert listed[0]["values"]["first_name"] == evil  # stored as typed, escaped when shown


async def test_the_redirect_is_only_ever_the_stored_one(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    await create_form(
        admin, success={"kind": "redirect", "redirect_url": "https://www.example.com/thanks"}
    )
    async with harness.client() as public:
        plain = await public.post(
            "/f/newsletter?redirect=https://evil.example",
            data={**GOOD, "redirect_url": "https://evil.example", "topics": "news", "consent": "1"},
        )
        assert plain.status_code == 303
        assert plain.headers["location"] == "https://www.example.com/thanks"
        fetched = await submit(public, "newsletter", {**GOOD, "redirect_url": "https://evil"})
        assert fetched.json()["redirect_url"] == "https://www.example.com/thanks"


async def test_unpublished_forms_are_not_served(harness: Harness, admin: httpx.AsyncClient) -> None:
    await create_form(admin, is_published=False)
    async with harness.client() as public:
        assert (await public.get("/f/newsletter")).status_code == 404
        assert (await public.get("/f/newsletter.js")).status_code == 404
        assert (await submit(public, "newsletter", GOOD)).status_code == 404


async def test_actions_run_for_the_submitting_contact(
    harness: Harness, admin: httpx.AsyncClient, monkeypatch: Any
) -> None:
    segment = await admin.post(
        "/api/v2/segments",
        json={"name": "Signed up", "filters": {"match": "all", "conditions": []}},
    )
    assert segment.status_code == 201, segment.text
    email = await create_email(admin)
    calls: list[dict[str, Any]] = []

    class Recorder:
        async def send(self, **call: Any) -> HttpResult:
            calls.append(call)
            return HttpResult(status=204)

    monkeypatch.setattr(form_service, "http", Recorder())
    form = await create_form(
        admin,
        actions=[
            {"type": "tags.change", "config": {"add": ["subscriber"]}},
            {"type": "points.change", "config": {"delta": 5}},
            {"type": "segments.add", "config": {"segments": [segment.json()["id"]]}},
            {"type": "email.send_to_contact", "config": {"email_id": email["id"]}},
            {"type": "webhook.send", "config": {"url": "https://hooks.example.com/in"}},
        ],
    )
    async with harness.client() as public:
        assert (await submit(public, "newsletter", GOOD)).status_code == 200
    await harness.app.state.jobs.drain()
    contact = await _contact(admin, "ada@example.com")
    assert await _tags(admin, contact["id"]) == ["subscriber"]
    assert contact["points"] == 5
    members = await admin.get(f"/api/v2/segments/{segment.json()['id']}/members")
    assert [m["contact_id"] for m in members.json()["data"]] == [contact["id"]]
    sends = (await admin.get(f"/api/v2/emails/{email['id']}/sends")).json()["data"]
    assert [(s["contact_id"], s["source"], s["kind"]) for s in sends] == [
        (contact["id"], "form", "transactional")
    ]
    assert len(calls) == 1
    assert calls[0]["url"] == "https://hooks.example.com/in"
    assert calls[0]["headers"]["Idempotency-Key"].startswith(f"trellis:form:{form['id']}:")
    assert '"first_name": "Ada"' in calls[0]["body"]


async def test_the_contact_enters_form_campaigns_at_once(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    form = await create_form(admin)
    tag = step("contact.change_tags", {"add": ["welcomed"]}, name="Welcome tag")
    created = await campaign(
        admin,
        events=[tag],
        edges=[edge(None, tag)],
        sources=[{"kind": "form", "id": form["id"]}],
    )
    other = step("contact.change_tags", {"add": ["other"]})
    await campaign(admin, events=[other], edges=[edge(None, other)], name="Not a form source")
    async with harness.client() as public:
        assert (await submit(public, "newsletter", GOOD)).status_code == 200
    contact = await _contact(admin, "ada@example.com")
    # No scheduler tick ran: the entry and the first step happened in the request.
    assert await _tags(admin, contact["id"]) == ["welcomed"]
    assert await journey(admin, created["id"], contact["id"]) == [("Welcome tag", "done")]


async def test_a_submission_takes_the_form_submit_decision(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    form = await create_form(admin)
    other = await create_form(admin, alias="other", name="Other")
    decision = step("form.submit", {"forms": [form["id"]]}, name="Submits newsletter")
    tag = step("contact.change_tags", {"add": ["converted"]}, name="Converted")
    created = await campaign(
        admin, events=[decision, tag], edges=[edge(None, decision), edge(decision, tag, "yes")]
    )
    person = await admin.post("/api/v2/contacts", json={"email": "ada@example.com"})
    contact_id = person.json()["id"]
    added = await admin.post(
        f"/api/v2/campaigns/{created['id']}/members", json={"contact_ids": [contact_id]}
    )
    assert added.status_code == 200, added.text
    async with harness.client() as public:
        assert (await submit(public, "other", GOOD)).status_code == 200
        assert await _tags(admin, contact_id) == []  # another form: still waiting
        assert (await submit(public, "newsletter", GOOD)).status_code == 200
    assert await _tags(admin, contact_id) == ["converted"]
    steps = dict(await journey(admin, created["id"], contact_id))
    assert steps["Converted"] == "done"
    assert other["id"] != form["id"]


async def test_odd_bodies_never_cause_a_server_error(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    form = await create_form(admin)
    json_type = {"Content-Type": "application/json", "Accept": "application/json"}
    odd: list[tuple[bytes, dict[str, str]]] = [
        (b"[1, 2]", json_type),
        (b'"text"', json_type),
        (b'{"email": {"nested": 1}, "first_name": [[1]]}', json_type),
        (b'{"email": "a\\u0000@example.com"}', json_type),
        (b'{"email": 12, "consent": 1, "topics": "news"}', json_type),
        (b"\xff\xfe", json_type),
        (b"email=a%00b%40example.com&consent=1", {}),
        (b"email=%FF%FE&consent=1", {}),
        (b"&&&==&=", {"Content-Type": "application/x-www-form-urlencoded"}),
        (b"x", {"Content-Type": "multipart/form-data; boundary=x"}),
        (b"<xml/>", {"Content-Type": "text/xml"}),
        (b"a=" + b"&a=".join([b"1"] * 400), {}),
    ]
    async with harness.client() as public:
        for body, headers in odd:
            response = await public.post("/f/newsletter", content=body, headers=headers)
            assert 400 <= response.status_code < 500, (body, response.status_code, response.text)
    assert await _total(admin, form["id"]) == 0


async def test_a_burst_is_written_together_and_each_visitor_gets_their_own_answer(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    form = await create_form(admin)
    # Twelve visitors at once, two of them posting twice (an update in the same burst), as
    # plain posts: each thank-you link names its own submission.
    people = [f"visitor{i}" for i in range(10)] + ["visitor3", "visitor7"]
    async with harness.client() as public:
        answers = await asyncio.gather(
            *(
                public.post(
                    "/f/newsletter",
                    data={
                        "email": f"{name}@example.com",
                        "first_name": f"{name}-{i}",
                        "consent": "on",
                    },
                )
                for i, name in enumerate(people)
            )
        )
        for i, (name, answer) in enumerate(zip(people, answers, strict=True)):
            assert answer.status_code == 303, answer.text
            thanks = await public.get(answer.headers["location"])
            assert f"Thanks, {name}-{i}!" in thanks.text
    listed = await admin.get(f"/api/v2/forms/{form['id']}/submissions", params={"page[size]": 50})
    rows = listed.json()["data"]
    assert len(rows) == len(people)
    assert len({row["id"] for row in rows}) == len(people)
    # Every stored submission belongs to the contact its own answers describe.
    for row in rows:
        contact = await _contact(admin, row["values"]["email"])
        assert row["contact_id"] == contact["id"]
    assert len({row["contact_id"] for row in rows}) == 10


def test_the_stored_address_is_the_network_never_the_host() -> None:
    assert anonymise_ip("203.0.113.7") == "203.0.113.0"
    assert anonymise_ip("255.255.255.255") == "255.255.255.0"
    assert anonymise_ip("::ffff:198.51.100.23") == "198.51.100.0"
    assert anonymise_ip("2001:db8:1234:5678::1") == "2001:db8:1234::"
    for bad in ("", None, "256.1.1.1", "01.2.3.4", "1.2.3", "1.2.3.4.5", "not an address"):
        assert anonymise_ip(bad) is None, bad


async def test_field_patterns_run_in_linear_time_and_backtracking_ones_are_refused(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    """A field pattern is RE2: ``^(a+)+$`` answers at once even for a long value (Python's
    re would backtrack for ever), and what RE2 cannot run is refused when the form is saved."""
    fields = newsletter()["fields"]
    code = {"label": "Code", "type": "text", "name": "code", "validation": {"pattern": "^(a+)+$"}}
    await create_form(admin, fields=[*fields, code])
    async with harness.client() as public:
        slow = await submit(public, "newsletter", {**GOOD, "code": "a" * 999 + "!"})
        assert slow.status_code == 422, slow.text
        [error] = slow.json()["errors"]
        assert (error["pointer"], error["detail"]) == (
            "/fields/code",
            "The value does not have the expected format.",
        )
        fine = await submit(public, "newsletter", {**GOOD, "code": "aaaa"})
        assert fine.status_code == 200, fine.text
    for pattern in ("(a)\\1", "(?=a)a", "a" * 201):
        body = newsletter(
            alias="other", fields=[*fields, {**code, "validation": {"pattern": pattern}}]
        )
        refused = await admin.post("/api/v2/forms", json=body)
        assert refused.status_code == 422, refused.text
        assert "/fields/4/validation/pattern" in [e["pointer"] for e in refused.json()["errors"]]
