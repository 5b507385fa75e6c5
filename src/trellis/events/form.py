"""Form steps: the decision "submits a form" and the condition "submitted value".

Submissions are behaviours: the public form endpoint offers each accepted submission to the
decisions its contact waits on as ``Behaviour(kind="form.submit", channel_id=<form id>,
properties=<the submitted values>)``. The condition compiles to the ``form_submitted_value``
segment filter (one SQL statement for the whole batch).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from trellis.engine.graph import Kind
from trellis.events.base import Behaviour, EventConfig, EventType

BEHAVIOUR_SUBMIT = "form.submit"
Id = Annotated[int, Field(ge=1)]
InputName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,59}$")]
VALUE_OPERATORS = ("=", "!=", "contains", "starts_with", "ends_with", "empty", "not_empty")


class Submits(EventConfig):
    forms: Annotated[list[Id], Field(max_length=50)] = Field(
        default=[], description="Only submissions of these forms; none: any form."
    )


def submits(config: Submits, behaviour: Behaviour) -> bool:
    if behaviour.kind != BEHAVIOUR_SUBMIT:
        return False
    return not config.forms or behaviour.channel_id in config.forms


class SubmittedValue(EventConfig):
    form_id: Id = Field(description="The form.")
    field: InputName = Field(description="The input name of the form field.")
    operator: Literal["=", "!=", "contains", "starts_with", "ends_with", "empty", "not_empty"] = "="
    value: Annotated[str, StringConstraints(max_length=1000)] | int | float | None = None


def submitted_value_filter(config: SubmittedValue) -> dict[str, Any]:
    return {
        "match": "all",
        "conditions": [
            {
                "type": "form_submitted_value",
                "field": config.field,
                "operator": config.operator,
                "value": {"form_id": config.form_id, "value": config.value},
            }
        ],
    }


TYPES = (
    EventType(
        BEHAVIOUR_SUBMIT,
        Kind.DECISION,
        "Submits form",
        "Waits until the contact submits one of the forms (or any form).",
        Submits,
        behaviour=BEHAVIOUR_SUBMIT,
        matches=submits,
        group="Forms",
        references={"forms": "form"},
    ),
    EventType(
        "form.submitted_value",
        Kind.CONDITION,
        "Submitted value",
        "Compares what the contact entered in a form field (in any of its submissions of the "
        "form) with a value.",
        SubmittedValue,
        to_filter=submitted_value_filter,
        group="Forms",
        references={"form_id": "form"},
    ),
)
