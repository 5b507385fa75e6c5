"""The Mautic translation on its own (no database): steps, timing, filters, and the rule for
steps that cannot be translated."""

from __future__ import annotations

from typing import Any

import pytest

from trellis.domains.campaigns.service import campaign_service
from trellis.domains.portability.mautic import is_mautic_export, translate
from trellis.errors import ValidationFailed
from trellis.events.registry import Registry


@pytest.fixture(autouse=True)
def event_types() -> None:
    """The translation checks steps against the event types, as the composition root wires
    them into the campaign service."""
    campaign_service.configure(registry=Registry.default())


def campaign(*events: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "campaign": [{"id": 1, "name": "C", "canvas_settings": {}}],
        "campaign_event": list(events),
        **extra,
    }


def event(id_: int, type_: str, kind: str = "action", **fields: Any) -> dict[str, Any]:
    return {
        "id": id_,
        "campaign_id": 1,
        "name": f"e{id_}",
        "type": type_,
        "event_type": kind,
        **fields,
    }


def steps(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    data = translate(document, {}).manifest.entities["campaign"][0].data
    return {e["name"]: e for e in data["events"]}


def test_detection() -> None:
    assert is_mautic_export([campaign()])
    assert is_mautic_export(campaign())
    assert not is_mautic_export({"format_version": 1, "campaign": []})
    assert not is_mautic_export({"hello": "world"})


def test_timing_days_of_week_and_hours() -> None:
    found = steps(
        campaign(
            event(
                1,
                "lead.changetags",
                properties={"add_tags": ["a"]},
                trigger_mode="interval",
                trigger_interval=90,
                trigger_interval_unit="i",
                trigger_restricted_dow=[0, 6],
            ),
            event(
                2,
                "lead.changetags",
                properties={"add_tags": ["b"]},
                trigger_mode="interval",
                trigger_interval=2,
                trigger_interval_unit="m",
                trigger_restricted_dow=[-1],
                trigger_hour="08:30",
                parent_id=1,
            ),
            event(
                3,
                "lead.changetags",
                properties={"add_tags": ["c"]},
                trigger_mode="date",
                triggerDate="2027-01-05 10:00:00",
                parent_id=2,
            ),
        )
    )
    first, second, third = found["e1"]["timing"], found["e2"]["timing"], found["e3"]["timing"]
    assert (first["amount"], first["unit"], first["weekdays"]) == (90, "minute", [5, 6])
    assert (second["unit"], second["at_hour"], second["weekdays"]) == (
        "month",
        "08:30:00",
        [0, 1, 2, 3, 4],
    )
    assert (third["mode"], third["at"]) == ("date", "2027-01-05T10:00:00Z")


def test_webhook_dnc_and_field_value() -> None:
    found = steps(
        campaign(
            event(
                1,
                "campaign.sendwebhook",
                properties={
                    "url": "https://hooks.example.com/in",
                    "method": "post",
                    "headers": [{"label": "X-Key", "value": "s3cret"}],
                    "additional_data": [
                        {"label": "email", "value": "{contactfield=email}"},
                        {"label": "name", "value": "{contactfield=firstname}"},
                    ],
                    "timeout": 60,
                },
            ),
            event(
                2,
                "lead.dnc",
                "condition",
                parent_id=1,
                properties={"channels": ["email", "sms"], "reason": 2},
            ),
            event(
                3,
                "lead.field_value",
                "condition",
                parent_id=2,
                decision_path="yes",
                properties={"field": "lastname", "operator": "like", "value": "Love"},
            ),
        )
    )
    hook = found["e1"]["config"]
    assert hook["method"] == "POST"
    assert hook["timeout_s"] == 30
    assert hook["body"] == "email={contactfield=email}&name={contactfield=first_name}"
    assert {"name": "X-Key", "value": "s3cret"} in hook["headers"]
    assert found["e2"]["type"] == "condition.group"
    assert found["e2"]["config"]["filters"]["match"] == "any"
    assert [c["field"] for c in found["e2"]["config"]["filters"]["conditions"]] == ["email", "sms"]
    assert found["e3"]["config"] == {"field": "last_name", "operator": "contains", "value": "Love"}


def test_filters_keep_mautic_precedence_and_create_fields() -> None:
    document = campaign(
        lists=[
            {
                "id": 3,
                "name": "S",
                "filters": [
                    {
                        "glue": "and",
                        "field": "score",
                        "type": "number",
                        "operator": "gt",
                        "properties": {"filter": "5"},
                    },
                    {
                        "glue": "or",
                        "field": "firstname",
                        "type": "text",
                        "operator": "startsWith",
                        "properties": {"filter": "A"},
                    },
                    {
                        "glue": "and",
                        "field": "signup",
                        "type": "date",
                        "operator": "=",
                        "properties": {"filter": "anniversary"},
                    },
                    {
                        "glue": "and",
                        "field": "country",
                        "type": "country",
                        "operator": "=",
                        "properties": {"filter": "France"},
                    },
                ],
            }
        ]
    )
    translation = translate(document, {})
    (segment,) = translation.manifest.entities["segment"]
    assert segment.data["filters"] == {
        "match": "any",
        "conditions": [
            {"type": "custom_field", "field": "score", "operator": ">", "value": 5},
            {
                "match": "all",
                "conditions": [
                    {
                        "type": "field",
                        "field": "first_name",
                        "operator": "starts_with",
                        "value": "A",
                    },
                    {"type": "custom_field", "field": "signup", "operator": "anniversary"},
                ],
            },
        ],
    }
    fields = {f.name: f.data["type"] for f in translation.manifest.entities["custom_field"]}
    assert fields == {"score": "number", "signup": "date"}
    assert [n.path for n in translation.notes] == ["/lists/0/filters/3/properties/filter"]


def test_an_untranslatable_leaf_is_left_out_and_one_with_steps_below_is_refused() -> None:
    leaf = campaign(
        event(1, "email.validate.address", "condition"),
        event(2, "sms.send_text_sms", parent_id=1, decision_path="yes", properties={"sms": 4}),
    )
    translation = translate(leaf, {})
    assert [e["type"] for e in translation.manifest.entities["campaign"][0].data["events"]] == [
        "contact.valid_email"
    ]
    assert translation.notes[0].path == "/campaign_event/1/type"

    cut = campaign(
        event(1, "lead.changepoints", properties={"points": 5, "group": 2}),
        event(2, "lead.changetags", parent_id=1, properties={"add_tags": ["x"]}),
    )
    with pytest.raises(ValidationFailed) as refused:
        translate(cut, {})
    assert refused.value.extra == {"unknown_event_types": ["lead.changepoints"]}
    assert [e.pointer for e in refused.value.errors] == ["/campaign_event/0/properties/group"]


def test_shapes_are_checked_with_pointers() -> None:
    with pytest.raises(ValidationFailed) as bad:
        translate(campaign(event(1, "email.send", "action", properties="{not json")), {})
    assert [e.pointer for e in bad.value.errors] == ["/campaign_event/0/properties"]
    with pytest.raises(ValidationFailed) as bad:
        translate(campaign(event(1, "email.send", "sideways")), {})
    assert [e.pointer for e in bad.value.errors] == ["/campaign_event/0/event_type"]
    with pytest.raises(ValidationFailed) as bad:
        translate(campaign(event(1, "lead.changetags", parent_id=7)), {})
    assert [e.code for e in bad.value.errors] == ["missing_reference"]
