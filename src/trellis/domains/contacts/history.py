"""A contact's history: merging two contacts into one, and the timeline of everything that
happened to a contact, from this domain and from the sources other domains plug in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from trellis.actor import Actor
from trellis.db.models import Contact
from trellis.domains.audit.service import AuditAction, audit
from trellis.domains.contacts.repository import ContactRepository
from trellis.domains.contacts.schemas import ActivityItem, ActivityPage
from trellis.domains.contacts.values import CORE_COLUMNS, REFERENCE_COLUMNS

# A stream of every contact's timeline (emails sent, pages visited, ...).
TimelineSource = Callable[[AsyncSession, int, datetime | None, int], Awaitable[list[ActivityItem]]]
# Called as ``hook(session, winner_id, loser_id, now)`` before the loser is deleted, so a
# domain can move its rows (memberships, logs) to the surviving contact.
MergeHook = Callable[[AsyncSession, int, int, datetime], Awaitable[None]]


def _filled_from(winner: Contact, loser: Contact) -> dict[str, Any]:
    """The loser's values for the winner's empty columns (the email is handled apart, once
    the loser is gone and its address is free)."""
    filled: dict[str, Any] = {}
    for column in (*CORE_COLUMNS, *REFERENCE_COLUMNS):
        if column == "email":
            continue
        if getattr(winner, column) in (None, "") and getattr(loser, column) not in (None, ""):
            filled[column] = getattr(loser, column)
    return filled


async def merge_contacts(
    session: AsyncSession,
    winner: Contact,
    loser: Contact,
    *,
    hooks: Sequence[MergeHook],
    actor: Actor,
    now: datetime,
) -> None:
    """Fold ``loser`` into ``winner`` once the caller has checked the actor's rights."""
    repo = ContactRepository(session)
    loser_id, loser_email = loser.id, loser.email
    filled = _filled_from(winner, loser)
    fields = dict(loser.fields)
    fields.update(winner.fields)
    points = loser.points
    for hook in hooks:
        await hook(session, winner.id, loser.id, now)
    await repo.move_history(loser_id=loser.id, winner_id=winner.id, now=now)
    await repo.delete(loser)
    await session.flush()
    if winner.email is None and loser_email:
        filled["email"] = loser_email
    for column, value in filled.items():
        setattr(winner, column, value)
    winner.fields = fields
    winner.points += points
    if loser.last_active_at and (
        winner.last_active_at is None or loser.last_active_at > winner.last_active_at
    ):
        winner.last_active_at = loser.last_active_at
    if winner.created_at > loser.created_at:
        winner.created_at = loser.created_at
    winner.is_anonymous = winner.is_anonymous and loser.is_anonymous and not winner.email
    winner.version += 1
    winner.updated_at = now
    await session.flush()
    await repo.record_activity(
        [
            {
                "contact_id": winner.id,
                "occurred_at": now,
                "kind": "merged",
                "details": {
                    "merged_id": loser_id,
                    "merged_email": loser_email,
                    "filled": sorted(filled),
                    "points_added": points,
                },
                "source_type": actor.type,
                "source_id": actor.user_id,
                "actor_name": actor.name,
            }
        ]
    )
    await audit.record(
        session,
        actor=actor,
        action=AuditAction.UPDATE,
        entity_type="contact",
        entity_id=winner.id,
        entity_name=winner.email or f"Contact {winner.id}",
        changes={"merged": {"old": loser_id, "new": winner.id}},
        now=now,
    )


async def timeline_of(
    session: AsyncSession,
    contact: Contact,
    *,
    sources: Sequence[TimelineSource],
    before: datetime | None,
    limit: int,
) -> ActivityPage:
    """One page of the contact's timeline, newest first, merged from every source."""
    repo = ContactRepository(session)
    items: list[ActivityItem] = [
        ActivityItem(
            occurred_at=row.occurred_at,
            kind=row.kind,
            summary=_summarise(row.kind, row.details),
            details=row.details,
            source_type=row.source_type,
            source_id=row.source_id,
            actor_name=row.actor_name,
        )
        for row in await repo.activity(contact.id, before=before, limit=limit)
    ]
    for change in await repo.points_history(contact.id, before=before, limit=limit):
        items.append(
            ActivityItem(
                occurred_at=change.occurred_at,
                kind="points",
                summary=f"{change.delta:+d} points"
                + (f": {change.reason}" if change.reason else ""),
                details={"delta": change.delta, "reason": change.reason},
                source_type=change.source_type,
                source_id=change.source_id,
            )
        )
    for source in sources:
        items.extend(await source(session, contact.id, before, limit))
    if before is None or contact.created_at < before:
        items.append(
            ActivityItem(occurred_at=contact.created_at, kind="created", summary="Contact created")
        )
    items.sort(key=lambda i: i.occurred_at, reverse=True)
    page = items[:limit]
    more = len(items) > limit
    return ActivityPage(data=page, next_before=page[-1].occurred_at if more and page else None)


def _summarise(kind: str, details: Mapping[str, Any]) -> str:
    if kind == "updated":
        changed = sorted(details.get("changes", {}))
        return "Updated " + ", ".join(changed[:6]) + ("…" if len(changed) > 6 else "")
    if kind == "tags":
        parts = []
        if details.get("added"):
            parts.append("added " + ", ".join(details["added"]))
        if details.get("removed"):
            parts.append("removed " + ", ".join(details["removed"]))
        return "Tags " + "; ".join(parts)
    if kind == "dnc_added":
        return f"Do not contact on {details.get('channel')} ({details.get('reason')})"
    if kind == "dnc_removed":
        return f"Contactable again on {details.get('channel')}"
    if kind == "merged":
        return f"Merged with contact {details.get('merged_id')}"
    return kind.replace("_", " ").capitalize()
