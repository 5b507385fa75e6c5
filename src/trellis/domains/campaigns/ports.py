"""The ports event handlers use, implemented with the domains' services.

Built per runner: they act in the runner's transaction, as the campaign (a system actor), and
record the campaign step as the source of every change.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from trellis.actor import Actor
from trellis.domains.campaigns.repository import CampaignRepository
from trellis.domains.contacts.bulk import contact_bulk_service
from trellis.domains.contacts.service import contact_service
from trellis.domains.emails.ports import DomainMailer
from trellis.domains.fields.service import field_service
from trellis.domains.segments.service import segment_service
from trellis.events.base import CampaignsPort, ContactsPort, FiltersPort, HttpPort, Ports
from trellis.runtime.runner import Runner

MembershipChange = Callable[[AsyncSession, int, Sequence[int], datetime], Awaitable[None]]


@dataclass
class DomainContacts(ContactsPort):
    session: AsyncSession
    campaign_id: int
    now: datetime

    @property
    def actor(self) -> Actor:
        return Actor.system(f"campaign {self.campaign_id}")

    async def update_fields(
        self, contact_ids: Sequence[int], values: Mapping[str, Any]
    ) -> Mapping[int, str]:
        return await contact_bulk_service.update_fields(
            self.session,
            contact_ids=contact_ids,
            values=values,
            source_type="campaign",
            source_id=self.campaign_id,
            now=self.now,
            timeline=False,
        )

    async def change_points(self, contact_ids: Sequence[int], delta: int, reason: str) -> None:
        await contact_service.change_points(
            self.session,
            contact_ids=contact_ids,
            delta=delta,
            reason=reason,
            source_type="campaign",
            source_id=self.campaign_id,
            now=self.now,
        )

    async def change_tags(
        self, contact_ids: Sequence[int], add: Sequence[str], remove: Sequence[str]
    ) -> None:
        await contact_service.change_tags(
            self.session,
            contact_ids=contact_ids,
            add=add,
            remove=remove,
            source_type="campaign",
            source_id=self.campaign_id,
            now=self.now,
            timeline=False,
        )

    async def change_segments(
        self, contact_ids: Sequence[int], add: Sequence[int], remove: Sequence[int]
    ) -> None:
        for segment_id in add:
            await segment_service.add_members(
                self.session, segment_id, contact_ids=contact_ids, actor=self.actor, now=self.now
            )
        for segment_id in remove:
            await segment_service.remove_members(
                self.session, segment_id, contact_ids=contact_ids, actor=self.actor, now=self.now
            )

    async def add_dnc(
        self, contact_ids: Sequence[int], channels: Sequence[str], reason: str, comment: str
    ) -> None:
        for channel in channels:
            await contact_service.add_dnc(
                self.session,
                contact_ids=contact_ids,
                channel=channel,
                reason=reason,
                comment=comment,
                source_type="campaign",
                source_id=self.campaign_id,
                now=self.now,
            )

    async def remove_dnc(self, contact_ids: Sequence[int], channels: Sequence[str]) -> None:
        for channel in channels:
            await contact_service.remove_dnc(
                self.session,
                contact_ids=contact_ids,
                channel=channel,
                source_type="campaign",
                source_id=self.campaign_id,
                now=self.now,
            )

    async def set_owner(self, contact_ids: Sequence[int], owner_id: int | None) -> None:
        await contact_bulk_service.set_reference(
            self.session,
            contact_ids=contact_ids,
            column="owner_id",
            value=owner_id,
            source_type="campaign",
            source_id=self.campaign_id,
            now=self.now,
            timeline=False,
        )

    async def set_stage(self, contact_ids: Sequence[int], stage_id: int | None) -> None:
        await contact_bulk_service.set_reference(
            self.session,
            contact_ids=contact_ids,
            column="stage_id",
            value=stage_id,
            source_type="campaign",
            source_id=self.campaign_id,
            now=self.now,
            timeline=False,
        )

    async def set_company(self, contact_ids: Sequence[int], company_id: int, primary: bool) -> None:
        await contact_service.set_company(
            self.session,
            contact_ids=contact_ids,
            company_id=company_id,
            primary=primary,
            now=self.now,
        )

    async def delete(self, contact_ids: Sequence[int]) -> None:
        await contact_bulk_service.delete(self.session, contact_ids=contact_ids)

    async def anonymise(self, contact_ids: Sequence[int], fields: Sequence[str]) -> None:
        await contact_bulk_service.anonymise(
            self.session,
            contact_ids=contact_ids,
            fields=fields,
            source_type="campaign",
            source_id=self.campaign_id,
            now=self.now,
            timeline=False,
        )

    async def values(self, contact_ids: Sequence[int]) -> Mapping[int, Mapping[str, Any]]:
        return await contact_bulk_service.values(self.session, contact_ids=contact_ids)


@dataclass
class DomainFilters(FiltersPort):
    session: AsyncSession
    now: datetime
    default_timezone: str

    async def matching(self, filters: Mapping[str, Any], contact_ids: Sequence[int]) -> set[int]:
        if not contact_ids:
            return set()
        catalog = await field_service.catalog(self.session)
        document = resolve_field_types(filters, catalog.get)
        bound = await segment_service.bind(self.session, document, pointer="/config")
        condition = await segment_service.compile(
            self.session, bound, now=self.now, default_timezone=self.default_timezone
        )
        return await CampaignRepository(self.session).matching(condition, contact_ids)


def resolve_field_types(
    document: Mapping[str, Any], lookup: Callable[[str], Any]
) -> dict[str, Any]:
    """Campaign conditions name fields by alias alone; segment filters tell core from custom."""
    items = []
    for item in document.get("conditions", []):
        if "conditions" in item:
            items.append(resolve_field_types(item, lookup))
            continue
        condition = dict(item)
        if condition.get("type") == "field" and condition.get("field"):
            spec = lookup(condition["field"])
            if spec is not None and not spec.is_core:
                condition["type"] = "custom_field"
        items.append(condition)
    return {**document, "conditions": items}


@dataclass
class DomainCampaigns(CampaignsPort):
    session: AsyncSession
    runner: Runner
    add_members: MembershipChange
    remove_members: MembershipChange

    async def add(self, campaign_ids: Sequence[int], contact_ids: Sequence[int]) -> None:
        for campaign_id in campaign_ids:
            await self.add_members(self.session, campaign_id, contact_ids, self.runner.now)

    async def remove(self, campaign_ids: Sequence[int], contact_ids: Sequence[int]) -> None:
        for campaign_id in campaign_ids:
            await self.remove_members(self.session, campaign_id, contact_ids, self.runner.now)

    async def jump(self, target_key: str, contact_ids: Sequence[int]) -> None:
        repo = CampaignRepository(self.session)
        rotations = await repo.bump_rotation(self.runner.campaign.id, contact_ids)
        await self.runner.jump(target_key, rotations)


def build_ports(
    runner: Runner,
    *,
    http: HttpPort,
    add_members: MembershipChange,
    remove_members: MembershipChange,
) -> Ports:
    session = runner.session
    return Ports(
        contacts=DomainContacts(session, runner.campaign.id, runner.now),
        campaigns=DomainCampaigns(session, runner, add_members, remove_members),
        filters=DomainFilters(session, runner.now, runner.campaign.default_timezone),
        http=http,
        mail=DomainMailer(session, runner.now),
    )
