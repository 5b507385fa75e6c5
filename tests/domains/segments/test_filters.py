"""What each filter type and operator matches, counted through the service (one COUNT)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.domains.segments.conftest import NOW, World, all_of, any_of, cond
from trellis.domains.fields.types import FieldType
from trellis.errors import ValidationFailed


@pytest.fixture
async def people(world: World) -> dict[str, int]:
    """Four contacts with a spread of values."""
    await world.field("score", FieldType.NUMBER)
    await world.field("vip", FieldType.BOOLEAN)
    await world.field("colours", FieldType.MULTISELECT)
    await world.field("plan", FieldType.TEXT)
    return {
        "ann": await world.contact(
            email="ann@example.com",
            first_name="Ann",
            city="Paris",
            country="FR",
            points=10,
            fields={"score": 5, "vip": True, "colours": ["red", "blue"], "plan": "Gold"},
            tags=["Customer", "Newsletter"],
        ),
        "bob": await world.contact(
            email="bob@example.org",
            first_name="Bob",
            city="paris",
            country="DE",
            points=50,
            fields={"score": 7.5, "vip": False, "colours": ["green"], "plan": "Silver_1"},
            tags=["customer"],
        ),
        "cyd": await world.contact(
            email="cyd@example.com",
            first_name="Cyd",
            city="Lyon",
            points=-3,
            fields={"plan": "gold plus"},
        ),
        "dee": await world.contact(email="dee@test.net", points=0),
    }


CASES: list[tuple[dict[str, Any], int]] = [
    # core text fields: case-insensitive, empty values never equal anything
    (cond("field", "=", "PARIS", "city"), 2),
    (cond("field", "!=", "Paris", "city"), 2),  # Lyon and the contact without a city
    (cond("field", "in", ["lyon", "Paris"], "city"), 3),
    (cond("field", "not_in", ["paris"], "city"), 2),
    (cond("field", "empty", None, "city"), 1),
    (cond("field", "not_empty", None, "city"), 3),
    (cond("field", "contains", "EXAMPLE", "email"), 3),
    (cond("field", "not_contains", "example", "email"), 1),
    (cond("field", "starts_with", "b", "email"), 1),
    (cond("field", "ends_with", ".com", "email"), 2),
    (cond("field", "like", "%@example.%", "email"), 3),
    (cond("field", "regexp", "^[ab].*@example", "email"), 2),
    (cond("field", "=", "fr", "country"), 1),
    # custom number / boolean / text / multiselect fields
    (cond("custom_field", "=", 5, "score"), 1),
    (cond("custom_field", ">", 5, "score"), 1),
    (cond("custom_field", ">=", 5, "score"), 2),
    (cond("custom_field", "<", 7.5, "score"), 1),
    (cond("custom_field", "<=", "7.5", "score"), 2),
    (cond("custom_field", "between", [6, 8], "score"), 1),
    (cond("custom_field", "!=", 5, "score"), 3),
    (cond("custom_field", "in", [5, 9], "score"), 1),
    (cond("custom_field", "empty", None, "score"), 2),
    (cond("custom_field", "=", True, "vip"), 1),
    (cond("custom_field", "=", False, "vip"), 1),
    (cond("custom_field", "!=", True, "vip"), 3),
    (cond("custom_field", "not_empty", None, "vip"), 2),
    (cond("custom_field", "=", "gold", "plan"), 1),
    (cond("custom_field", "starts_with", "gold", "plan"), 2),
    (cond("custom_field", "contains", "_", "plan"), 1),  # _ is literal, not a wildcard
    (cond("custom_field", "like", "silver_1", "plan"), 1),
    (cond("custom_field", "in", ["red"], "colours"), 1),
    (cond("custom_field", "in", ["green", "blue"], "colours"), 2),
    (cond("custom_field", "not_in", ["red"], "colours"), 3),
    (cond("custom_field", "empty", None, "colours"), 2),
    (cond("custom_field", "not_empty", None, "colours"), 2),
    # points
    (cond("points", ">", 0), 2),
    (cond("points", "<=", 0), 2),
    (cond("points", "between", [50, -3]), 4),
    (cond("points", "in", [0, 10]), 2),
    # tags (case-insensitive names)
    (cond("tags", "has_any", ["CUSTOMER"]), 2),
    (cond("tags", "has_all", ["customer", "newsletter"]), 1),
    (cond("tags", "has_all", ["customer", "unknown tag"]), 0),
    (cond("tags", "has_none", ["newsletter"]), 3),
    (cond("tags", "empty"), 2),
    (cond("tags", "not_empty"), 2),
]


@pytest.mark.parametrize(("condition", "expected"), CASES)
async def test_operator(
    world: World, people: dict[str, int], condition: dict[str, Any], expected: int
) -> None:
    assert await world.count(all_of(condition)) == expected


async def test_nested_groups(world: World, people: dict[str, int]) -> None:
    # (city = paris AND points > 20) OR (no tags AND (email ends .net OR points < 0))
    document = any_of(
        all_of(cond("field", "=", "paris", "city"), cond("points", ">", 20)),
        all_of(
            cond("tags", "empty"),
            any_of(cond("field", "ends_with", ".net", "email"), cond("points", "<", 0)),
        ),
    )
    assert await world.count(document) == 3  # bob, cyd, dee
    document["match"] = "all"
    assert await world.count(document) == 0


async def test_empty_filter_matches_no_one(world: World, people: dict[str, int]) -> None:
    assert await world.count({"match": "all", "conditions": []}) == 0


async def test_stage_owner_dnc_and_company(world: World, people: dict[str, int]) -> None:
    ann, bob = people["ann"], people["bob"]
    await world.dnc(ann, "email", "bounced")
    await world.dnc(bob, "email", "unsubscribed")
    await world.dnc(bob, "sms", "manual")
    assert await world.count(all_of(cond("dnc", "on", field="email"))) == 2
    assert await world.count(all_of(cond("dnc", "on", ["bounced"], field="email"))) == 1
    assert await world.count(all_of(cond("dnc", "not_on", field="email"))) == 2
    assert await world.count(all_of(cond("dnc", "not_on", field="sms"))) == 3

    await world.company(ann, name="Acme Corp", domain="acme.test", fields={})
    await world.company(bob, name="Globex", primary=False)
    assert await world.count(all_of(cond("company_field", "contains", "acme", "name"))) == 1
    # Bob's only company is not his primary one: his primary company name is empty.
    assert await world.count(all_of(cond("company_field", "empty", None, "name"))) == 3
    assert await world.count(all_of(cond("company_field", "!=", "acme corp", "name"))) == 3

    assert await world.count(all_of(cond("stage", "empty"))) == 4
    assert await world.count(all_of(cond("owner", "not_in", [1]))) == 4
    assert await world.count(all_of(cond("stage", "in", [1]))) == 0


async def test_company_custom_field(world: World) -> None:
    await world.field("employees", FieldType.NUMBER, object_="company")
    big = await world.contact(email="big@example.com")
    small = await world.contact(email="small@example.com")
    await world.company(big, name="Big", fields={"employees": 5000})
    await world.company(small, name="Small", fields={"employees": 12})
    document = all_of(cond("company_field", ">=", 1000, "employees"))
    assert await world.count(document) == 1


async def test_segment_membership(world: World, people: dict[str, int]) -> None:
    customers = await world.segment("Customers", cond("tags", "has_any", ["customer"]))
    from trellis.domains.segments.tasks import rebuild_segments

    await rebuild_segments(world.database, now=NOW, segment_ids=[customers])
    assert await world.count(all_of(cond("segment", "in", [customers]))) == 2
    assert await world.count(all_of(cond("segment", "not_in", [customers]))) == 2


INJECTIONS = [
    "'; DROP TABLE contacts; --",
    '" OR 1=1 --',
    "x') OR ('1'='1",
    "%' OR '%'='",
    '$."a"]) OR 1=1 --',
    'a\\"b',
    "🙂' UNION SELECT id FROM users --",
]


@pytest.mark.parametrize("attack", INJECTIONS)
async def test_injection_strings_are_plain_values(
    world: World, people: dict[str, int], attack: str
) -> None:
    # As values, on core and custom fields, with every text operator: nothing matches.
    for operator in ("=", "contains", "starts_with", "ends_with", "like", "in"):
        value: Any = [attack] if operator == "in" else attack
        assert await world.count(all_of(cond("field", operator, value, "email"))) == 0
        assert await world.count(all_of(cond("custom_field", operator, value, "plan"))) == 0
    assert await world.count(all_of(cond("tags", "has_any", [attack]))) == 0
    assert await world.count(all_of(cond("field", "!=", attack, "email"))) == 4
    # As aliases: refused with a pointer, never compiled.
    with pytest.raises(ValidationFailed) as refused:
        await world.count(all_of(cond("custom_field", "=", "x", attack)))
    assert refused.value.errors[0].pointer == "/filters/conditions/0/field"
    # The table is still there, and a stored value with the same text matches exactly.
    sneaky = await world.contact(email="sneaky@example.com", fields={"plan": attack})
    assert sneaky
    assert await world.count(all_of(cond("custom_field", "=", attack, "plan"))) == 1
    assert await world.count(all_of(cond("field", "not_empty", None, "email"))) == 5


async def test_custom_alias_with_quotes_is_a_plain_key(world: World) -> None:
    # Aliases are checked against the catalogue first; a stored JSON key with odd characters
    # can still be read safely through the JSON helpers.
    await world.field("odd_key", FieldType.TEXT)
    await world.contact(email="a@example.com", fields={"odd_key": "v", '"); --': "v"})
    assert await world.count(all_of(cond("custom_field", "=", "v", "odd_key"))) == 1


BAD: list[tuple[dict[str, Any], str, str]] = [
    (cond("nope", "="), "/filters/conditions/0/type", "unknown_type"),
    (cond("field", "=", "x", "no_such"), "/filters/conditions/0/field", "unknown_field"),
    (cond("field", "=", "x"), "/filters/conditions/0/field", "required"),
    (cond("field", ">", "x", "city"), "/filters/conditions/0/operator", "unknown_operator"),
    (cond("points", "=", "ten"), "/filters/conditions/0/value", "invalid_value"),
    (cond("points", "=", True), "/filters/conditions/0/value", "invalid_value"),
    (cond("points", "between", [1]), "/filters/conditions/0/value", "invalid_value"),
    (cond("points", "in", [1, "x"]), "/filters/conditions/0/value/1", "invalid_value"),
    (cond("tags", "has_any", "vip"), "/filters/conditions/0/value", "invalid_value"),
    (cond("field", "regexp", "(unclosed", "email"), "/filters/conditions/0/value", "invalid_value"),
    (cond("created", "=", "someday"), "/filters/conditions/0/value", "invalid_value"),
    (cond("created", "=", "2026-02-30"), "/filters/conditions/0/value", "invalid_value"),
    (cond("field", "empty", "x", "city"), "/filters/conditions/0/value", "invalid_value"),
    (cond("dnc", "on", ["lost"], "email"), "/filters/conditions/0/value/0", "invalid_value"),
    (cond("dnc", "on", None, "E-mail!"), "/filters/conditions/0/field", "invalid_field"),
    (cond("segment", "in", [999]), "/filters/conditions/0/value/0", "not_found"),
    (
        {"type": "field", "operator": "=", "colour": 1},
        "/filters/conditions/0/colour",
        "extra_forbidden",
    ),
    ({"type": "field"}, "/filters/conditions/0/operator", "missing"),
]


@pytest.mark.parametrize(("condition", "pointer", "code"), BAD)
async def test_bad_conditions_point_at_the_condition(
    world: World, condition: dict[str, Any], pointer: str, code: str
) -> None:
    document = all_of(cond("points", ">", 1), all_of(condition))
    with pytest.raises(ValidationFailed) as refused:
        await world.count(document)
    nested = pointer.replace("/conditions/0", "/conditions/1/conditions/0", 1)
    assert [(e.pointer, e.code) for e in refused.value.errors] == [(nested, code)]


async def test_limits_on_depth_and_size(world: World) -> None:
    deep: dict[str, Any] = cond("points", ">", 1)
    for _ in range(5):
        deep = all_of(deep)
    assert await world.count(deep) == 0  # five levels are fine
    deep = all_of(deep)
    with pytest.raises(ValidationFailed) as refused:
        await world.count(deep)
    assert refused.value.errors[0].code == "too_deep"
    many = all_of(*[cond("points", ">", i) for i in range(101)])
    with pytest.raises(ValidationFailed) as refused:
        await world.count(many)
    assert refused.value.errors[0].pointer == "/filters/conditions/100"
    assert await world.count(all_of(*[cond("points", ">", i) for i in range(100)])) == 0


def test_relative_periods() -> None:
    from datetime import date

    from trellis.domains.segments.filters import Relative

    today = date(2026, 3, 2)  # a Monday
    expected = {
        "today": (date(2026, 3, 2), date(2026, 3, 3)),
        "yesterday": (date(2026, 3, 1), date(2026, 3, 2)),
        "tomorrow": (date(2026, 3, 3), date(2026, 3, 4)),
        "+3 days": (date(2026, 3, 5), date(2026, 3, 6)),
        "-2 weeks": (date(2026, 2, 16), date(2026, 2, 17)),
        "-1 month": (date(2026, 2, 2), date(2026, 2, 3)),
        "+1 year": (date(2027, 3, 2), date(2027, 3, 3)),
        "this week": (date(2026, 3, 2), date(2026, 3, 9)),
        "last week": (date(2026, 2, 23), date(2026, 3, 2)),
        "next month": (date(2026, 4, 1), date(2026, 5, 1)),
        "last month": (date(2026, 2, 1), date(2026, 3, 1)),
        "this year": (date(2026, 1, 1), date(2027, 1, 1)),
        "last year": (date(2025, 1, 1), date(2026, 1, 1)),
    }
    for text, period in expected.items():
        assert Relative(text).period(today) == period, text
    assert Relative("-1 month").period(date(2026, 3, 31)) == (date(2026, 2, 28), date(2026, 3, 1))


async def test_relative_dates_in_each_contacts_timezone(world: World) -> None:
    # At 2026-03-02 12:00 UTC it is 03-02 04:00 in Los Angeles and 03-03 01:00 in Auckland.
    now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    await world.field("birthday", FieldType.DATE)
    await world.field("renews_at", FieldType.DATETIME)
    # Joined at 03-02 02:00 UTC: 03-01 18:00 in Los Angeles, 03-02 15:00 in Auckland.
    joined = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    await world.contact(email="u@example.com", created_at=joined)
    await world.contact(email="la@example.com", created_at=joined, timezone="America/Los_Angeles")
    await world.contact(
        email="nz@example.com",
        created_at=joined,
        timezone="Pacific/Auckland",
        # 2026-03-04 01:00 in Auckland
        fields={"birthday": "1990-03-03", "renews_at": "2026-03-03T12:00:00"},
    )

    async def count(*conditions: dict[str, Any], **options: Any) -> int:
        return await world.count(all_of(*conditions), **{"now": now, **options})

    assert await count(cond("created", "=", "today")) == 1  # u@ only
    assert await count(cond("created", "=", "yesterday")) == 2  # la@ (03-01), nz@ (03-02)
    # The default timezone applies to contacts without one.
    assert await count(cond("created", "=", "today"), default_timezone="America/Los_Angeles") == 0
    assert await count(cond("created", "=", "2026-03-02")) == 2  # u@, nz@
    assert await count(cond("created", "<", "today")) == 2
    assert await count(cond("created", ">=", "this week")) == 2  # la@ joined on a Sunday
    assert await count(cond("created", "=", "this month")) == 3
    assert await count(cond("created", "=", "last month")) == 0
    assert await count(cond("created", "between", ["-7 days", "today"])) == 3
    # An instant is the same moment everywhere.
    assert await count(cond("created", "=", "2026-03-02T02:00:00Z")) == 3
    assert await count(cond("created", ">", "2026-03-02T01:59:59Z")) == 3
    assert await count(cond("created", "!=", "2026-03-02T02:00:00Z")) == 0
    assert await count(cond("last_active", "empty")) == 3

    # Date fields compare with the local date: in Auckland it is already 03-03.
    anniversary = cond("custom_field", "anniversary", None, "birthday")
    assert await count(anniversary) == 1
    assert await count(anniversary, now=datetime(2027, 3, 2, 12, 0, tzinfo=UTC)) == 1
    assert await count(anniversary, now=datetime(2026, 3, 2, 9, 0, tzinfo=UTC)) == 0
    assert await count(cond("custom_field", "<", "today", "birthday")) == 1
    assert await count(cond("custom_field", "=", "tomorrow", "renews_at")) == 1
    assert await count(cond("custom_field", "=", "today", "renews_at")) == 0


async def test_leap_day_birthdays_on_28_february(world: World) -> None:
    await world.field("birthday", FieldType.DATE)
    await world.contact(email="leap@example.com", fields={"birthday": "2000-02-29"})
    await world.contact(email="feb28@example.com", fields={"birthday": "1999-02-28"})
    document = all_of(cond("custom_field", "anniversary", None, "birthday"))
    assert await world.count(document, now=datetime(2027, 2, 28, 12, tzinfo=UTC)) == 2
    assert await world.count(document, now=datetime(2028, 2, 28, 12, tzinfo=UTC)) == 1
    assert await world.count(document, now=datetime(2028, 2, 29, 12, tzinfo=UTC)) == 1
