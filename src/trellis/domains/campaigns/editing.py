"""Saving a campaign: create, update (with what happens to contacts on retired steps),
delete and clone."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from trellis.actor import Actor, Perm
from trellis.db.models import (
    Campaign,
    CampaignEvent,
    CampaignSource,
)
from trellis.domains.campaigns.core import CAMPAIGNS, timing_json
from trellis.domains.campaigns.membership import CampaignMembership
from trellis.domains.campaigns.repository import CampaignRepository
from trellis.domains.campaigns.schemas import (
    CampaignSave,
    CampaignWrite,
    DeletedStepChoice,
    SourceDoc,
)
from trellis.engine.graph import Kind
from trellis.errors import (
    Conflict,
    FieldError,
    ValidationFailed,
)
from trellis.kit.versions import check_version
from trellis.runtime.journal import (
    cancel_open_steps,
    finished_without_next,
)
from trellis.runtime.runner import Runner


class CampaignEditing(CampaignMembership):
    async def create(
        self, session: AsyncSession, *, data: CampaignWrite, actor: Actor, now: datetime
    ) -> Campaign:
        actor.require("campaigns", Perm.CREATE)
        await self.validate(session, data, actor=actor)
        campaign = Campaign(
            uuid=str(uuid.uuid4()),
            name=data.name,
            description=data.description,
            is_published=False,
            publish_up=data.publish_up,
            publish_down=data.publish_down,
            allow_restart=data.allow_restart,
            reactivation=data.reactivation,
            exit_on_source_leave=data.exit_on_source_leave,
            default_timezone=data.default_timezone,
            canvas=data.canvas,
            created_by_id=actor.user_id,
            created_at=now,
            updated_at=now,
        )

        async def write_steps(campaign: Campaign) -> None:
            await self._write_graph(session, campaign, data, now=now, existing={})
            await self._write_sources(session, campaign, data.sources)

        return await CAMPAIGNS.create(
            session,
            campaign,
            actor=actor,
            now=now,
            projects=data.projects,
            after_insert=write_steps,
        )

    async def _write_graph(
        self,
        session: AsyncSession,
        campaign: Campaign,
        data: CampaignWrite,
        *,
        now: datetime,
        existing: dict[str, CampaignEvent],
    ) -> list[CampaignEvent]:
        """Insert new steps and update kept ones; returns the new steps."""
        repo = CampaignRepository(session)
        rows: dict[str, CampaignEvent] = {}
        created: list[CampaignEvent] = []
        for event in data.events:
            event_type = self.registry.get(event.type)
            assert event_type is not None
            config = event_type.config.model_validate(event.config).model_dump(mode="json")
            row = existing.get(event.key)
            if row is None:
                row = CampaignEvent(campaign_id=campaign.id, uuid=event.key, created_at=now)
                repo.add(row)
                created.append(row)
            row.name, row.description = event.name, event.description
            row.kind, row.type, row.config = event_type.kind.value, event.type, config
            row.timing = timing_json(event.timing.model_dump())
            rows[event.key] = row
        await session.flush()
        for edge in data.edges:
            row = rows[edge.target]
            row.parent_id = rows[edge.source].id if edge.source else None
            row.path = edge.path
        await session.flush()
        await repo.ensure_stats(campaign.id, [r.id for r in rows.values()])
        return created

    async def _write_sources(
        self, session: AsyncSession, campaign: Campaign, sources: Sequence[SourceDoc]
    ) -> None:
        repo = CampaignRepository(session)
        old = {(s.kind, s.source_id): s for s in await repo.sources(campaign.id)}
        await repo.delete_sources(campaign.id)
        for source in sources:
            previous = old.get((source.kind, source.id))
            repo.add(
                CampaignSource(
                    campaign_id=campaign.id,
                    kind=source.kind,
                    source_id=source.id,
                    audience=source.audience,
                    locked_at=source.locked_at or (previous.locked_at if previous else None),
                    cursor=previous.cursor if previous else 0,
                )
            )
        await session.flush()

    async def update(
        self,
        session: AsyncSession,
        campaign_id: int,
        *,
        data: CampaignSave,
        actor: Actor,
        now: datetime,
        expected_version: int | None,
    ) -> Campaign:
        repo = CampaignRepository(session)
        campaign = await CAMPAIGNS.for_edit(session, campaign_id, actor=actor, lock=True)
        check_version(campaign, expected_version)
        await self.validate(session, data, actor=actor)
        existing = {e.uuid: e for e in await repo.events(campaign.id)}
        keys = {e.key for e in data.events}
        for event in data.events:
            row = existing.get(event.key)
            if row is not None and row.type != event.type:
                raise ValidationFailed(
                    "A step cannot change its type; remove it and add another.",
                    [
                        FieldError(
                            f"/events/{[e.key for e in data.events].index(event.key)}/type",
                            "Changed type.",
                            "type_changed",
                        )
                    ],
                )
        removed = [row for key, row in existing.items() if key not in keys]
        waiting = await repo.open_counts([r.id for r in removed])
        undecided = {
            r.uuid: waiting[r.id]
            for r in removed
            if waiting.get(r.id) and r.uuid not in data.on_delete
        }
        if undecided:
            raise Conflict(
                "Contacts are waiting on steps you removed; redirect them to another step or "
                "cancel their steps (on_delete).",
                [
                    FieldError(f"/on_delete/{key}", f"{count} contact(s) wait here.", "waiting")
                    for key, count in undecided.items()
                ],
                extra={"waiting": undecided},
            )
        for key, choice in data.on_delete.items():
            if choice.redirect_to is not None and choice.redirect_to not in keys:
                raise ValidationFailed(
                    "Redirect to a step that stays.",
                    [FieldError(f"/on_delete/{key}/redirect_to", "No such step.", "not_found")],
                )

        async def apply(campaign: Campaign) -> None:
            for attribute in (
                "name",
                "description",
                "publish_up",
                "publish_down",
                "allow_restart",
                "reactivation",
                "exit_on_source_leave",
                "default_timezone",
                "canvas",
            ):
                setattr(campaign, attribute, getattr(data, attribute))
            created = await self._write_graph(session, campaign, data, now=now, existing=existing)
            await self._write_sources(session, campaign, data.sources)
            # The graph just changed under the same version: build it, not the cached one.
            loaded = await self._build(session, campaign)
            runner = self.runner(session, loaded, now)
            for row in removed:
                await self._retire_step(session, runner, row, data.on_delete.get(row.uuid), now)
            await session.flush()
            if campaign.is_published and created:
                await self._resume_stuck(session, runner, created)
            await runner.flush()

        await CAMPAIGNS.update(
            session,
            campaign,
            actor=actor,
            now=now,
            expected_version=None,
            apply=apply,
            projects=data.projects,
        )
        return campaign

    async def _retire_step(
        self,
        session: AsyncSession,
        runner: Runner,
        row: CampaignEvent,
        decided: DeletedStepChoice | None,
        now: datetime,
    ) -> None:
        """A step removed by an edit: the contacts waiting there are cancelled or moved on."""
        steps = await CampaignRepository(session).open_steps(row.id)
        if steps:
            await cancel_open_steps(
                session,
                campaign_id=runner.campaign.id,
                contact_ids=[c for c, _ in steps],
                now=now,
                reason="step deleted",
                stats=runner.stats,
                event_ids=[row.id],
            )
            if decided is not None and decided.redirect_to is not None:
                row.redirect_to_id = runner.campaign.ids[decided.redirect_to]
                await runner.jump(decided.redirect_to, dict(steps))
        row.deleted_at = now
        row.parent_id = None

    async def _resume_stuck(
        self, session: AsyncSession, runner: Runner, created: Sequence[CampaignEvent]
    ) -> None:
        """Steps added to a live campaign after a step contacts already finished: contacts whose
        journey ended there continue into the new step (Mautic's resume-stuck, done at once)."""
        for row in created:
            if row.parent_id is None:
                continue
            node = runner.campaign.graph.get(row.uuid)
            if node.kind is Kind.DECISION:
                continue
            ready = await finished_without_next(
                session,
                campaign_id=runner.campaign.id,
                parent_id=row.parent_id,
                path=row.path,
                event_id=row.id,
            )
            if ready:
                await runner.jump(row.uuid, ready)

    async def delete(
        self, session: AsyncSession, campaign_id: int, *, actor: Actor, now: datetime
    ) -> None:
        campaign = await CAMPAIGNS.for_delete(session, campaign_id, actor=actor)
        await CAMPAIGNS.delete(session, campaign, actor=actor, now=now)

    async def clone(
        self, session: AsyncSession, campaign_id: int, *, actor: Actor, now: datetime
    ) -> Campaign:
        source = await self.get(session, campaign_id, actor=actor)
        read = await self.read(session, source)
        keys = {e.key: str(uuid.uuid4()) for e in read.events}
        events = []
        for e in read.events:
            config = dict(e.config)
            if "target" in config and config["target"] in keys:
                config["target"] = keys[config["target"]]
            events.append(
                {
                    "key": keys[e.key],
                    "type": e.type,
                    "name": e.name,
                    "description": e.description,
                    "config": config,
                    "timing": e.timing,
                }
            )
        data = CampaignWrite.model_validate(
            {
                "name": f"Copy of {read.name}"[:200],
                "description": read.description,
                "projects": read.projects,
                "allow_restart": read.allow_restart,
                "reactivation": read.reactivation,
                "exit_on_source_leave": read.exit_on_source_leave,
                "default_timezone": read.default_timezone,
                "sources": [s.model_dump() for s in read.sources],
                "events": events,
                "edges": [
                    {
                        "source": keys[e.source] if e.source else None,
                        "target": keys[e.target],
                        "path": e.path,
                    }
                    for e in read.edges
                ],
                "canvas": {
                    "nodes": {
                        keys.get(k, k): v for k, v in (read.canvas.get("nodes") or {}).items()
                    }
                },
            }
        )
        return await self.create(session, data=data, actor=actor, now=now)
