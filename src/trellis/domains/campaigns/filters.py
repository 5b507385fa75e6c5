"""The segment filter "campaign membership", contributed by the campaigns domain."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.sql.elements import ColumnElement

from trellis.db.models import CampaignMember, Contact
from trellis.domains.segments.filters import (
    Bound,
    CompileContext,
    FilterType,
    ValidationContext,
    _check_operator,
    _id_item,
    _shape,
    _stored,
)
from trellis.domains.segments.schemas import Condition


class CampaignMembershipFilter(FilterType):
    key = "campaign"
    label = "Campaign membership"
    value_help = "A list of campaign ids."

    def operators(self) -> Mapping[str, tuple[str, ...]]:
        return {"*": ("in", "not_in")}

    async def bind(self, ctx: ValidationContext, condition: Condition, pointer: str) -> Bound:
        operator = _check_operator(condition, pointer, self.operators()["*"], self.label)
        value = _shape(condition, pointer, operator, _id_item)
        return Bound(
            type=self,
            operator=operator.key,
            value=value,
            pointer=pointer,
            stored=_stored(condition, None, value),
        )

    def compile(self, ctx: CompileContext, bound: Bound) -> ColumnElement[bool]:
        members = select(CampaignMember.contact_id).where(
            CampaignMember.campaign_id.in_(bound.value), CampaignMember.status == "active"
        )
        inside: ColumnElement[bool] = Contact.id.in_(members)
        return inside if bound.operator == "in" else ~inside


FILTER_TYPES = (CampaignMembershipFilter(),)
