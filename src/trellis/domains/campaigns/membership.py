"""Who is in a campaign: entering from sources and by hand, leaving, the members page, a
contact's journey and moving it by hand. Follows Mautic's state machine: active members,
exits (left the source, or a step), removals by a person (never undone automatically),
rotations for re-entry and jumps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from trellis.actor import Actor, Perm
from trellis.db.models import Campaign, CampaignMember
from trellis.db.pagination import Page, PageRequest
from trellis.domains.audit.service import AuditAction, audit
from trellis.domains.campaigns.core import CAMPAIGNS, STATUS_NAMES
from trellis.domains.campaigns.ports import build_ports
from trellis.domains.campaigns.repository import CampaignRepository
from trellis.domains.campaigns.schemas import (
    CurrentStep,
    Journey,
    JourneyStep,
    MemberRead,
    MembersChangeResult,
    StepChange,
)
from trellis.domains.campaigns.validation import CampaignValidation
from trellis.domains.contacts.service import editable_contacts, visible_contacts
from trellis.domains.users.service import user_service
from trellis.errors import (
    Conflict,
    FieldError,
    NotFound,
    ValidationFailed,
)
from trellis.runtime.journal import (
    Status,
    cancel_open_steps,
    revive_dead,
)
from trellis.runtime.runner import LoadedCampaign, Runner


class CampaignMembership(CampaignValidation):
    def runner(
        self,
        session: AsyncSession,
        loaded: LoadedCampaign,
        now: datetime,
        *,
        claim: str | None = None,
    ) -> Runner:
        return Runner(
            session,
            campaign=loaded,
            now=now,
            retry=self.policy.retry,
            claim=claim,
            ports=lambda runner: build_ports(
                runner,
                http=self.http,
                add_members=self._step_adds,
                remove_members=self._step_removes,
            ),
        )

    async def add_members(
        self,
        session: AsyncSession,
        campaign: Campaign,
        contact_ids: Sequence[int],
        *,
        manual: bool,
        now: datetime,
        runner: Runner | None = None,
    ) -> MembersChangeResult:
        """Mautic's membership rules: new contacts join; active ones restart only when manually
        re-added to a campaign that allows restarts; removal by a person is undone only by a
        person; exited contacts come back automatically only when restarts are allowed."""
        repo = CampaignRepository(session)
        result = MembersChangeResult()
        wanted = list(dict.fromkeys(contact_ids))
        scope = await self._contact_scope(session, campaign)
        if scope is not None:
            allowed = await repo.existing_contacts(wanted, where=scope)
            for contact_id in wanted:
                if contact_id not in allowed:
                    result.rejected[contact_id] = "not one of the campaign owner's contacts"
            wanted = [c for c in wanted if c in allowed]
        # The insert is the check: it adds the contacts that were never members (and only
        # those, even with another worker at it), so only the rest, usually none, are read.
        fresh = await repo.insert_members(campaign.id, wanted, manual=manual, now=now)
        result.added = fresh
        added = set(fresh)
        current = await repo.members(campaign.id, [c for c in wanted if c not in added])
        restart = _who_restarts(campaign, current, manual=manual, rejected=result.rejected)
        if not fresh and not restart:
            return result
        own_runner = runner is None
        if runner is None:
            runner = self.runner(session, await self.load(session, campaign), now)
        # Read before the update below, which refreshes these objects in the session.
        next_rotation = {c: current[c].rotation + 1 for c in restart}
        if restart:
            active = [c for c in restart if current[c].status == "active"]
            if active:
                await cancel_open_steps(
                    session,
                    campaign_id=campaign.id,
                    contact_ids=active,
                    now=now,
                    reason="restarted",
                    stats=runner.stats,
                )
            await repo.restart_members(campaign.id, restart, manual=manual or None, now=now)
            result.restarted = restart
        rotations = {c: 1 for c in fresh}
        rotations.update(next_rotation)
        await runner.start(rotations)
        if own_runner:
            await runner.flush()
        return result

    async def _contact_scope(
        self, session: AsyncSession, campaign: Campaign
    ) -> ColumnElement[bool] | None:
        """A campaign acts only on contacts its owner may change (ADR 0015): a user who may
        change only their own contacts runs campaigns on their own contacts."""
        owner = await user_service.acting_as(session, campaign.created_by_id)
        return editable_contacts(owner) if owner is not None else None

    async def enter_campaigns(
        self,
        session: AsyncSession,
        campaign_ids: Sequence[int],
        contact_ids: Sequence[int],
        *,
        now: datetime,
    ) -> None:
        """Contacts enter the campaigns at once (a form's "add to campaigns" action): only
        running campaigns, under the automatic membership rules."""
        if not campaign_ids or not contact_ids:
            return
        repo = CampaignRepository(session)
        for campaign in await repo.published(now=now, campaign_ids=sorted(set(campaign_ids))):
            await self.add_members(session, campaign, contact_ids, manual=False, now=now)

    async def enter_from_source(
        self,
        session: AsyncSession,
        *,
        kind: str,
        source_id: int,
        contact_ids: Sequence[int],
        now: datetime,
    ) -> None:
        """Contacts who submitted form F enter, at once, every running campaign that has F
        as a source."""
        if not contact_ids:
            return
        campaigns = await CampaignRepository(session).with_source(kind, source_id)
        await self.enter_campaigns(session, [c.id for c in campaigns], contact_ids, now=now)

    async def campaigns_with_source(
        self, session: AsyncSession, kind: str, source_id: int
    ) -> list[tuple[int, str]]:
        return [
            (c.id, c.name) for c in await CampaignRepository(session).with_source(kind, source_id)
        ]

    async def remove_members(
        self,
        session: AsyncSession,
        campaign: Campaign,
        contact_ids: Sequence[int],
        *,
        manual: bool,
        now: datetime,
        stats_runner: Runner | None = None,
        reason: str | None = None,
    ) -> MembersChangeResult:
        """Take contacts out; their open steps are cancelled with ``reason`` (by default: who
        took them out, a person or the campaign)."""
        repo = CampaignRepository(session)
        active = sorted(await repo.active_member_ids(campaign.id, contact_ids))
        result = MembersChangeResult(removed=active)
        if not active:
            return result
        runner = stats_runner or self.runner(session, await self.load(session, campaign), now)
        await repo.leave(campaign.id, active, status="removed" if manual else "exited", now=now)
        await cancel_open_steps(
            session,
            campaign_id=campaign.id,
            contact_ids=active,
            now=now,
            reason=reason or ("removed from the campaign" if manual else "exited"),
            stats=runner.stats,
        )
        if stats_runner is None:
            await runner.flush()
        return result

    async def _step_adds(
        self, session: AsyncSession, campaign_id: int, contact_ids: Sequence[int], now: datetime
    ) -> None:
        campaign = await CampaignRepository(session).get(campaign_id)
        if campaign is not None:
            await self.add_members(session, campaign, contact_ids, manual=True, now=now)

    async def _step_removes(
        self, session: AsyncSession, campaign_id: int, contact_ids: Sequence[int], now: datetime
    ) -> None:
        campaign = await CampaignRepository(session).get(campaign_id)
        if campaign is not None:
            await self.remove_members(session, campaign, contact_ids, manual=False, now=now)

    async def change_members(
        self,
        session: AsyncSession,
        campaign_id: int,
        *,
        contact_ids: Sequence[int],
        add: bool,
        actor: Actor,
        now: datetime,
    ) -> MembersChangeResult:
        campaign = await CAMPAIGNS.for_edit(session, campaign_id, actor=actor)
        repo = CampaignRepository(session)
        # A contact the actor may not see does not exist for them.
        known = await repo.existing_contacts(contact_ids, where=visible_contacts(actor))
        missing = [c for c in contact_ids if c not in known]
        if missing:
            raise ValidationFailed(
                "Some contacts do not exist.",
                [
                    FieldError(
                        f"/contact_ids/{contact_ids.index(c)}", "No such contact.", "not_found"
                    )
                    for c in missing
                ],
            )
        editable = await repo.existing_contacts(contact_ids, where=editable_contacts(actor))
        refused = {c: "you may not change this contact" for c in contact_ids if c not in editable}
        chosen = [c for c in contact_ids if c in editable]
        if add:
            result = await self.add_members(session, campaign, chosen, manual=True, now=now)
        else:
            result = await self.remove_members(session, campaign, chosen, manual=True, now=now)
        result.rejected.update(refused)
        await audit.record(
            session,
            actor=actor,
            action=AuditAction.MEMBERSHIP,
            entity_type="campaign",
            entity_id=campaign.id,
            entity_name=campaign.name,
            changes={
                "added" if add else "removed": {
                    "old": None,
                    "new": result.added + result.restarted if add else result.removed,
                }
            },
            now=now,
        )
        return result

    async def members_page(
        self,
        session: AsyncSession,
        campaign_id: int,
        *,
        actor: Actor,
        page: PageRequest,
        status: str | None,
    ) -> Page[MemberRead]:
        campaign = await self.get(session, campaign_id, actor=actor)
        repo = CampaignRepository(session)
        result = await repo.members_page(campaign.id, page=page, status=status)
        ids = [row[0].contact_id for row in result.items]
        detailed = await repo.open_steps_detail(campaign.id, ids)
        open_steps = {cid: [e for e, _, _ in steps] for cid, steps in detailed.items()}
        events = {e.id: e for e in await repo.events(campaign.id, include_deleted=True)}
        names = {e.id: e.name or e.type for e in events.values()}
        items = [
            MemberRead(
                contact_id=m.contact_id,
                email=email,
                name=" ".join(p for p in (first, last) if p),
                rotation=m.rotation,
                status=m.status,
                manually_added=m.manually_added,
                joined_at=m.joined_at,
                left_at=m.left_at,
                current_steps=[names.get(e, str(e)) for e in open_steps.get(m.contact_id, [])],
                waiting_on=[
                    CurrentStep(
                        event_key=events[e].uuid,
                        event_name=events[e].name,
                        type=events[e].type,
                        status=STATUS_NAMES[status],
                        due_at=due,
                    )
                    for e, status, due in detailed.get(m.contact_id, [])
                    if e in events
                ],
            )
            for m, email, first, last in result.items
        ]
        return Page(items=items, total=result.total, number=result.number, size=result.size)

    async def contact_campaigns(
        self, session: AsyncSession, contact_id: int, *, actor: Actor
    ) -> list[MemberRead]:
        """The campaigns a contact is or was in (those the actor may see), with the steps it
        waits on."""
        actor.require_view_any("campaigns")
        repo = CampaignRepository(session)
        if not await repo.existing_contacts([contact_id], where=visible_contacts(actor)):
            raise NotFound(f"No contact with id {contact_id}.")
        memberships = await repo.contact_memberships(contact_id)
        visible = await CAMPAIGNS.existing_ids(
            session, [m.campaign_id for m, _ in memberships], actor=actor
        )
        result = []
        for member, name in memberships:
            if member.campaign_id not in visible:
                continue
            events = {e.id: e.name or e.type for e in await repo.events(member.campaign_id)}
            open_steps = await repo.open_steps_of(member.campaign_id, [contact_id])
            result.append(
                MemberRead(
                    contact_id=contact_id,
                    campaign_id=member.campaign_id,
                    email=None,
                    name=name,
                    rotation=member.rotation,
                    status=member.status,
                    manually_added=member.manually_added,
                    joined_at=member.joined_at,
                    left_at=member.left_at,
                    current_steps=[events.get(e, str(e)) for e in open_steps.get(contact_id, [])],
                )
            )
        return result

    async def journey(
        self, session: AsyncSession, campaign_id: int, contact_id: int, *, actor: Actor
    ) -> Journey:
        campaign = await self.get(session, campaign_id, actor=actor)
        repo = CampaignRepository(session)
        events = {e.id: e for e in await repo.events(campaign.id, include_deleted=True)}
        member = (await repo.members(campaign.id, [contact_id])).get(contact_id)
        steps = [
            JourneyStep(
                event_key=events[s.event_id].uuid,
                event_name=events[s.event_id].name,
                type=events[s.event_id].type,
                rotation=s.rotation,
                status=STATUS_NAMES[s.status],
                due_at=s.due_at,
                reached_at=s.reached_at,
                done_at=s.done_at,
                attempts=s.attempts,
                detail=s.detail,
            )
            for s in await repo.journey(campaign.id, contact_id)
        ]
        read = None
        if member is not None:
            read = MemberRead(
                contact_id=contact_id,
                email=None,
                name="",
                rotation=member.rotation,
                status=member.status,
                manually_added=member.manually_added,
                joined_at=member.joined_at,
                left_at=member.left_at,
            )
        return Journey(campaign_id=campaign.id, contact_id=contact_id, member=read, steps=steps)

    async def change_step(
        self,
        session: AsyncSession,
        campaign_id: int,
        contact_id: int,
        event_key: str,
        *,
        change: StepChange,
        actor: Actor,
        now: datetime,
    ) -> Journey:
        """Reschedule or cancel a contact's waiting step, or retry a dead one."""
        campaign = await self.get(session, campaign_id, actor=actor)
        actor.require_on("campaigns", Perm.EDIT_OWN, Perm.EDIT_OTHERS, campaign.created_by_id)
        repo = CampaignRepository(session)
        member = (await repo.members(campaign.id, [contact_id])).get(contact_id)
        event = next((e for e in await repo.events(campaign.id) if e.uuid == event_key), None)
        if member is None or event is None:
            raise NotFound("No such step for this contact.")
        step = await repo.step(event.id, contact_id, member.rotation)
        if step is None:
            raise NotFound("The contact has not reached this step in its current pass.")
        runner = self.runner(session, await self.load(session, campaign), now)
        status = Status(step.status)
        if change.action == "reschedule":
            if status not in (Status.SCHEDULED, Status.WAITING):
                raise Conflict(
                    f"Only scheduled or waiting steps can be rescheduled (this one is "
                    f"{STATUS_NAMES[step.status]})."
                )
            if change.due_at is None:
                raise ValidationFailed(
                    "Give the new time.",
                    [FieldError("/due_at", "Required to reschedule.", "required")],
                )
            await repo.update_step(event.id, contact_id, member.rotation, {"due_at": change.due_at})
        elif change.action == "cancel":
            if status not in (Status.SCHEDULED, Status.WAITING):
                raise Conflict("Only scheduled or waiting steps can be cancelled.")
            await cancel_open_steps(
                session,
                campaign_id=campaign.id,
                contact_ids=[contact_id],
                now=now,
                reason=f"cancelled by {actor.name}",
                stats=runner.stats,
                event_ids=[event.id],
            )
        else:
            if status is not Status.DEAD:
                raise Conflict("Only failed (dead) steps can be retried.")
            await repo.update_step(
                event.id,
                contact_id,
                member.rotation,
                {"status": int(Status.SCHEDULED), "due_at": now, "attempts": 0},
            )
            runner.stats.add(event.id, "dead", -1)
            runner.stats.entered(event.id, Status.SCHEDULED, 1)
        await runner.flush()
        await audit.record(
            session,
            actor=actor,
            action=AuditAction.UPDATE,
            entity_type="campaign",
            entity_id=campaign.id,
            entity_name=campaign.name,
            changes={
                "step": {
                    "old": None,
                    "new": {"contact_id": contact_id, "event": event_key, "action": change.action},
                }
            },
            now=now,
        )
        return await self.journey(session, campaign.id, contact_id, actor=actor)

    async def retry_dead(
        self, session: AsyncSession, campaign_id: int, *, actor: Actor, now: datetime
    ) -> int:
        """Put every dead step of a campaign back in the schedule."""
        campaign = await self.get(session, campaign_id, actor=actor)
        actor.require_on("campaigns", Perm.EDIT_OWN, Perm.EDIT_OTHERS, campaign.created_by_id)
        runner = self.runner(session, await self.load(session, campaign), now)
        revived = await revive_dead(session, campaign_id=campaign.id, now=now, stats=runner.stats)
        await runner.flush()
        return revived


def _who_restarts(
    campaign: Campaign,
    current: Mapping[int, CampaignMember],
    *,
    manual: bool,
    rejected: dict[int, str],
) -> list[int]:
    """The members (past or present) who start the campaign again; the others go to
    ``rejected`` with the reason."""
    restart: list[int] = []
    for contact_id, member in current.items():
        if member.status == "active":
            if manual and campaign.allow_restart:
                restart.append(contact_id)
            else:
                rejected[contact_id] = "already in the campaign"
        elif member.status == "removed" and not manual:
            rejected[contact_id] = "removed by a person"
        elif member.status == "exited" and not manual and not campaign.allow_restart:
            rejected[contact_id] = "already went through; restarts are not allowed"
        else:
            restart.append(contact_id)
    return restart
