"""Publishing a campaign, and the preview of what publishing would take in."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from trellis.actor import Actor, Perm
from trellis.db.models import (
    Campaign,
    CampaignPublishPeriod,
)
from trellis.domains.audit.service import AuditAction
from trellis.domains.campaigns.core import CAMPAIGNS
from trellis.domains.campaigns.editing import CampaignEditing
from trellis.domains.campaigns.repository import CampaignRepository
from trellis.domains.campaigns.schemas import (
    PreviewSource,
    PublishPreview,
)
from trellis.domains.segments.service import segment_service
from trellis.errors import Conflict


class CampaignPublishing(CampaignEditing):
    async def set_published(
        self,
        session: AsyncSession,
        campaign_id: int,
        *,
        published: bool,
        actor: Actor,
        now: datetime,
    ) -> Campaign:
        repo = CampaignRepository(session)
        campaign = await CAMPAIGNS.get(session, campaign_id, actor=actor, lock=True)
        actor.require("campaigns", Perm.PUBLISH)
        if campaign.is_published == published:
            return campaign
        if published:
            loaded = await self.load(session, campaign)
            if not loaded.graph.nodes:
                raise Conflict("Add at least one step before publishing.")
            campaign.is_published = True
            campaign.paused_reason = None
            campaign.last_published_at = now
            repo.add(CampaignPublishPeriod(campaign_id=campaign.id, started_at=now))
            for source in await repo.sources(campaign.id):
                if source.audience == "locked" and source.locked_at is None:
                    source.locked_at = now
        else:
            campaign.is_published = False
            period = await repo.open_period(campaign.id)
            if period is not None:
                period.ended_at = now
        await CAMPAIGNS.touch(
            session,
            campaign,
            {"is_published": {"old": not published, "new": published}},
            actor=actor,
            now=now,
            action=AuditAction.PUBLISH if published else AuditAction.UNPUBLISH,
        )
        return campaign

    async def publish_preview(
        self, session: AsyncSession, campaign_id: int, *, actor: Actor, now: datetime
    ) -> PublishPreview:
        """Who would enter if the campaign were published now: what the publish dialog says.

        A locked audience without a lock time would be locked now, so it counts the segment as
        it is; one with a lock time counts those who were in it then. Outside the publish
        window nobody enters now."""
        campaign = await self.get(session, campaign_id, actor=actor)
        repo = CampaignRepository(session)
        sources = [s for s in await repo.sources(campaign.id) if s.kind == "segment"]
        # Only what the viewer may see is named and counted; the count is of the contacts the
        # campaign may act on.
        names = await segment_service.visible_names(session, [s.source_id for s in sources], actor)
        scope = await self._contact_scope(session, campaign)
        audiences = [
            (s.source_id, s.locked_at if s.audience == "locked" else None) for s in sources
        ]
        previews = [
            PreviewSource(
                kind="segment",
                id=s.source_id,
                name=names.get(s.source_id, "A segment you cannot see"),
                audience="locked" if s.audience == "locked" else "live",
                count=(
                    await repo.audience_count(segment_id, locked, contacts=scope)
                    if segment_id in names
                    else 0
                ),
            )
            for s, (segment_id, locked) in zip(sources, audiences, strict=True)
        ]
        in_window = (campaign.publish_up is None or campaign.publish_up <= now) and (
            campaign.publish_down is None or campaign.publish_down > now
        )
        entering = (
            await repo.entering_count(
                campaign.id, audiences, allow_restart=campaign.allow_restart, contacts=scope
            )
            if in_window
            else 0
        )
        return PublishPreview(entering_now=entering, sources=previews)
