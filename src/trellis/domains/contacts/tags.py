"""Tags as things of their own: the list with counts, renaming and deleting a tag.

Tags have no owner (ADR 0015): whoever sees contacts sees the tags, and only who may edit
others' contacts renames or deletes one, since that changes others' contacts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from trellis.actor import Actor, Perm
from trellis.db.pagination import Page, PageRequest
from trellis.domains.audit.service import AuditAction, audit
from trellis.domains.contacts.repository import ContactRepository
from trellis.errors import Conflict, FieldError, NotFound


class ContactTagService:
    async def list_tags(
        self, session: AsyncSession, *, actor: Actor, q: str | None, page: PageRequest
    ) -> Page[Any]:
        actor.require_view_any("contacts")
        return await ContactRepository(session).list_tags(q=q, page=page)

    async def rename_tag(
        self, session: AsyncSession, tag_id: int, *, name: str, actor: Actor, now: datetime
    ) -> None:
        actor.require("contacts", Perm.EDIT_OTHERS)
        repo = ContactRepository(session)
        tag = await repo.get_tag(tag_id)
        if tag is None:
            raise NotFound(f"No tag with id {tag_id}.")
        cleaned = " ".join(name.split())
        other = await repo.tag_by_key(cleaned.lower())
        if other is not None and other.id != tag.id:
            raise Conflict(
                f"A tag named {cleaned!r} exists.",
                [FieldError("/name", "This tag exists.", "duplicate")],
            )
        old = tag.name
        tag.name, tag.key = cleaned, cleaned.lower()
        await repo.touch(await repo.contacts_with_tag(tag.id), now)
        await session.flush()
        await audit.record(
            session,
            actor=actor,
            action=AuditAction.UPDATE,
            entity_type="tag",
            entity_id=tag.id,
            entity_name=cleaned,
            changes={"name": {"old": old, "new": cleaned}},
            now=now,
        )

    async def delete_tag(
        self, session: AsyncSession, tag_id: int, *, actor: Actor, now: datetime
    ) -> None:
        actor.require("contacts", Perm.EDIT_OTHERS)
        repo = ContactRepository(session)
        tag = await repo.get_tag(tag_id)
        if tag is None:
            raise NotFound(f"No tag with id {tag_id}.")
        await repo.touch(await repo.contacts_with_tag(tag.id), now)
        name = tag.name
        await repo.delete_tag(tag)
        await session.flush()
        await audit.record(
            session,
            actor=actor,
            action=AuditAction.DELETE,
            entity_type="tag",
            entity_id=tag_id,
            entity_name=name,
            changes={},
            now=now,
        )


contact_tag_service = ContactTagService()
