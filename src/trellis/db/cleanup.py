"""What foreign keys would cascade, for the bulk tables that have none (ADR 0009).

The engine's journal, campaign and segment memberships, contact tags and the points history
are written a million rows at a time; a foreign key there is a trigger per row on PostgreSQL
and took most of a campaign kickoff's time. Every deletion of a contact, campaign, segment or
tag calls the matching function here in the same transaction, before the row itself goes.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from trellis.db.dialect import ids_in
from trellis.db.models import (
    CampaignEvent,
    CampaignMember,
    ContactTag,
    EventLog,
    PointsChange,
    SegmentMember,
    SegmentMembershipChange,
)

_PART = 5000


async def delete_contact_rows(session: AsyncSession, contact_ids: Sequence[int]) -> None:
    """The contacts' rows in every bulk table."""
    ids = sorted(set(contact_ids))
    for start in range(0, len(ids), _PART):
        part = ids[start : start + _PART]
        for column in (
            EventLog.contact_id,
            CampaignMember.contact_id,
            SegmentMember.contact_id,
            SegmentMembershipChange.contact_id,
            ContactTag.contact_id,
            PointsChange.contact_id,
        ):
            await session.execute(
                delete(column.class_).where(ids_in(column, part)),
                execution_options={"synchronize_session": False},
            )


async def delete_campaign_rows(session: AsyncSession, campaign_id: int) -> None:
    """The campaign's journal and memberships."""
    steps = select(CampaignEvent.id).where(CampaignEvent.campaign_id == campaign_id)
    await session.execute(
        delete(EventLog).where(EventLog.event_id.in_(steps)),
        execution_options={"synchronize_session": False},
    )
    await session.execute(
        delete(CampaignMember).where(CampaignMember.campaign_id == campaign_id),
        execution_options={"synchronize_session": False},
    )


async def delete_segment_rows(session: AsyncSession, segment_id: int) -> None:
    """The segment's members and its join/leave log."""
    for table in (SegmentMember, SegmentMembershipChange):
        await session.execute(
            delete(table).where(table.segment_id == segment_id),
            execution_options={"synchronize_session": False},
        )


async def delete_tag_rows(session: AsyncSession, tag_id: int) -> None:
    """Who had the tag."""
    await session.execute(
        delete(ContactTag).where(ContactTag.tag_id == tag_id),
        execution_options={"synchronize_session": False},
    )
