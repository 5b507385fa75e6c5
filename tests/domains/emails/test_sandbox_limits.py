"""Templates that compute too much: refused on save, a failed send (not a hung worker) when
only a contact's data makes them too much."""

from __future__ import annotations

import httpx
import pytest

from tests.domains.campaigns.helpers import contacts
from tests.domains.emails.helpers import create_email, sends
from tests.domains.tracking.helpers import send_campaign
from tests.fixtures.api import Harness
from trellis.domains.emails.render import HTML_ENV
from trellis.domains.emails.sandbox import TemplateLimit

LOOPS = (
    "{% for a in contact.first_name %}{% for b in contact.first_name %}"
    "{% for c in contact.first_name %}.{% endfor %}{% endfor %}{% endfor %}"
)


@pytest.mark.parametrize(
    "template",
    [
        "{{ (9**(9**7)) > 0 }}",
        "{{ 9**(9**9) }}",
        "{{ 'x' * 10**9 }}",
        "{{ [0] * 10**9 }}",
        "{{ 'x'|center(999999999) }}",
        "{{ '%999999999d' % 1 }}",
        "{% set a = 'x' * 999999 %}{% set b = a ~ a %}{{ b|length }}",
        "{{ ('a' * 1000)|replace('a', 'a' * 10)|replace('a', 'a' * 10)|replace('a', 'a' * 100) }}",
        "{% set s %}{% for a in 'x' * 9000 %}{{ 'y' * 5000 }}{% endfor %}{% endset %}",
        LOOPS.replace("contact.first_name", "'x' * 100"),
    ],
)
def test_the_sandbox_refuses_work_past_its_bounds(template: str) -> None:
    with pytest.raises(TemplateLimit):
        HTML_ENV.from_string(template).render(contact={}, owner={})


def test_ordinary_templates_still_render() -> None:
    rendered = HTML_ENV.from_string(
        "{{ 2 ** 10 }} {{ 'ab' * 3 }} {{ '%5.2f' % 3.14159 }} {{ [1, 2]|join('-') }} "
        "{% for x in contact.tags %}{{ loop.index }}{{ x ~ '!' }}{% endfor %}"
        "{% set t %}{{ contact.name|upper }}{% endset %}{{ t }}"
    ).render(contact={"tags": ["a", "b"], "name": "<Ada>"}, owner={})
    assert rendered == "1024 ababab  3.14 1-2 1a!2b!&lt;ADA&gt;"


async def test_saving_refuses_an_email_that_computes_too_much(admin: httpx.AsyncClient) -> None:
    for field, value in (("subject", "{{ 9**(9**9) }}"), ("body", "<p>{{ 'x' * 10**9 }}</p>")):
        body = {"name": "Slow", "subject": "Hi", "body": "<p>Hi</p>", "body_format": "html"}
        refused = await admin.post("/api/v2/emails", json={**body, field: value})
        assert refused.status_code == 422, refused.text
        codes = {e["code"] for e in refused.json()["errors"]}
        assert codes == {"template_limit"}, refused.text


async def test_a_send_past_a_bound_fails_and_the_others_go(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    email = await create_email(admin, body=f"<p>{LOOPS}</p>", body_format="html")
    people = await contacts(
        admin,
        {"email": "short@example.com", "first_name": "Ada"},
        {"email": "long@example.com", "first_name": "L" * 100},
    )
    await send_campaign(harness, admin, email["id"], people)
    rows = {r["to_address"]: r for r in await sends(admin, email["id"])}
    assert rows["short@example.com"]["status"] == "sent"
    assert rows["long@example.com"]["status"] == "failed"
    assert "loop iterations" in rows["long@example.com"]["reason"]
    preview = await admin.post(
        f"/api/v2/emails/{email['id']}/preview", json={"contact_id": people[1]}
    )
    assert preview.status_code == 422, preview.text
