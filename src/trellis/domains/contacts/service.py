"""Contacts: who campaigns act on.

Single-contact operations serve the API and the UI; the ``*_many`` operations take lists of ids
and run as a few set-based statements, for imports, segment actions and campaign steps.
Every change bumps ``updated_at`` (segments rebuild incrementally from it) and lands on the
contact's timeline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from trellis.actor import Actor, Perm
from trellis.db.models import Contact
from trellis.db.pagination import Page, PageRequest
from trellis.domains.audit.service import AuditAction, audit, diff
from trellis.domains.contacts.checks import (
    check_owner,
    check_references,
    ensure_unique_identifiers,
    raise_item_errors,
)
from trellis.domains.contacts.history import MergeHook, TimelineSource, merge_contacts, timeline_of
from trellis.domains.contacts.repository import ContactRepository
from trellis.domains.contacts.schemas import (
    ActivityPage,
    BatchUpsertResult,
    BulkAction,
    BulkResult,
    CompanyLink,
    ContactCreate,
    ContactRead,
    ContactUpdate,
    ContactUpsert,
    DncEntry,
)
from trellis.domains.contacts.upsert import ContactUpserter, UpsertOutcome
from trellis.domains.contacts.values import (
    CORE_COLUMNS,
    ERASED,
    Prepared,
    clean_tags,
    is_anonymous,
    merge_fields,
    prepare,
)
from trellis.domains.fields.service import FieldCatalog, field_service
from trellis.errors import (
    FieldError,
    NotFound,
    ValidationFailed,
)
from trellis.kit.versions import check_version
from trellis.kit.visibility import editable_rows, may_see, owned_rows
from trellis.ports import Suppressions
from trellis.wiring import Slot


def visible_contacts(actor: Actor) -> ColumnElement[bool] | None:
    """The contacts ``actor`` may see (None: all), as a clause over ``contacts``."""
    return owned_rows(actor, "contacts", Contact.owner_id)


def editable_contacts(actor: Actor) -> ColumnElement[bool] | None:
    """The contacts ``actor`` may change (None: all)."""
    return editable_rows(actor, "contacts", Contact.owner_id)


class ContactService:
    timeline_sources: Slot[Mapping[str, TimelineSource]] = Slot()
    merge_hooks: Slot[Mapping[str, MergeHook]] = Slot()
    suppressions: Slot[Suppressions] = Slot()

    def configure(
        self,
        *,
        timeline_sources: Mapping[str, TimelineSource],
        merge_hooks: Mapping[str, MergeHook],
        suppressions: Suppressions,
    ) -> None:
        self.timeline_sources = dict(timeline_sources)
        self.merge_hooks = dict(merge_hooks)
        self.suppressions = suppressions

    # -- reading ----------------------------------------------------------------------------

    async def _visible(self, actor: Actor, contact: Contact) -> None:
        """A contact the actor may not see does not exist for them (404, not 403)."""
        actor.require_view_any("contacts")
        if not may_see(actor, "contacts", contact.owner_id):
            raise NotFound(f"No contact with id {contact.id}.")

    async def _may(self, actor: Actor, contact: Contact, own: Perm, others: Perm) -> None:
        await self._visible(actor, contact)
        actor.require_on("contacts", own, others, contact.owner_id)

    async def load(self, session: AsyncSession, contact_id: int) -> Contact:
        """A contact by id, following merges; NotFound when there is none."""
        repo = ContactRepository(session)
        contact = await repo.get(contact_id)
        if contact is None:
            winner = await repo.merged_into(contact_id)
            contact = await repo.get(winner) if winner is not None else None
        if contact is None:
            raise NotFound(f"No contact with id {contact_id}.")
        return contact

    async def get(self, session: AsyncSession, contact_id: int, *, actor: Actor) -> ContactRead:
        contact = await self.load(session, contact_id)
        await self._visible(actor, contact)
        return (await self.read_many(session, [contact]))[0]

    async def read_many(
        self, session: AsyncSession, contacts: Sequence[Contact]
    ) -> list[ContactRead]:
        repo = ContactRepository(session)
        ids = [c.id for c in contacts]
        tags = await repo.tags_of(ids)
        dnc = await repo.dnc_of(ids)
        companies = await repo.companies_of(ids)
        reads = []
        for contact in contacts:
            read = ContactRead.model_validate(contact)
            read.tags = tags.get(contact.id, [])
            read.dnc = [
                DncEntry(
                    channel=d.channel, reason=d.reason, comment=d.comment, created_at=d.created_at
                )
                for d in dnc.get(contact.id, [])
            ]
            read.companies = [
                CompanyLink(id=cid, name=name, is_primary=primary)
                for cid, name, primary in companies.get(contact.id, [])
            ]
            reads.append(read)
        return reads

    async def list_page(
        self,
        session: AsyncSession,
        *,
        actor: Actor,
        page: PageRequest,
        q: str | None = None,
        tag: str | None = None,
        owner_id: int | None = None,
        stage_id: int | None = None,
        company_id: int | None = None,
    ) -> Page[ContactRead]:
        only_own = None
        if not actor.can("contacts", Perm.VIEW_OTHERS):
            actor.require("contacts", Perm.VIEW_OWN)
            only_own = actor.user_id
        result = await ContactRepository(session).list_page(
            page=page,
            q=q,
            tag=tag,
            owner_id=owner_id,
            stage_id=stage_id,
            company_id=company_id,
            visible_owner_id=only_own,
        )
        return Page(
            items=await self.read_many(session, list(result.items)),
            total=result.total,
            number=result.number,
            size=result.size,
        )

    # -- single writes ------------------------------------------------------------------------

    async def create(
        self, session: AsyncSession, *, data: ContactCreate, actor: Actor, now: datetime
    ) -> ContactRead:
        actor.require("contacts", Perm.CREATE)
        catalog = await field_service.catalog(session)
        prepared = prepare(data, catalog)
        raise_item_errors(prepared.errors, "Some fields are invalid.")
        await check_references(session, prepared.references)
        check_owner(actor, prepared.references.get("owner_id"))
        if prepared.references.get("owner_id") is None and not actor.can(
            "contacts", Perm.VIEW_OTHERS
        ):
            # Whoever sees only their own contacts makes contacts of their own.
            prepared.references["owner_id"] = actor.user_id
        custom = {
            spec.alias: spec.default_value
            for spec in catalog.custom
            if spec.default_value is not None
        }
        custom.update({k: v for k, v in prepared.custom.items() if v is not None})
        await ensure_unique_identifiers(
            session, catalog, prepared.core, custom, except_id=None, actor=actor
        )
        if prepared.core.get("email") and await self.suppressions.suppressed(
            session, [prepared.core["email"]]
        ):
            raise ValidationFailed(
                "This address was erased on request.", [FieldError("/email", ERASED, "erased")]
            )
        contact = Contact(
            **{c: prepared.core.get(c) for c in CORE_COLUMNS},
            **prepared.references,
            fields=custom,
            points=data.points,
            is_anonymous=is_anonymous(prepared.core, custom, catalog),
            created_at=now,
            updated_at=now,
        )
        repo = ContactRepository(session)
        repo.add(contact)
        await session.flush()
        if prepared.tags:
            tag_ids = await repo.ensure_tags(prepared.tags, now)
            await repo.add_tags([(contact.id, t) for t in tag_ids.values()])
        if data.points:
            await repo.record_points(
                [
                    {
                        "contact_id": contact.id,
                        "delta": data.points,
                        "reason": "Initial points",
                        "source_type": actor.type,
                        "source_id": actor.user_id,
                        "occurred_at": now,
                    }
                ]
            )
        await audit.record(
            session,
            actor=actor,
            action=AuditAction.CREATE,
            entity_type="contact",
            entity_id=contact.id,
            entity_name=contact.email or f"Contact {contact.id}",
            changes=diff(
                {},
                {
                    **prepared.core,
                    **{f"fields.{k}": v for k, v in custom.items()},
                    "tags": prepared.tags,
                },
            ),
            now=now,
        )
        return (await self.read_many(session, [contact]))[0]

    async def update(
        self,
        session: AsyncSession,
        contact_id: int,
        *,
        data: ContactUpdate,
        actor: Actor,
        now: datetime,
        expected_version: int | None,
    ) -> ContactRead:
        contact = await self.load(session, contact_id)
        await self._may(actor, contact, Perm.EDIT_OWN, Perm.EDIT_OTHERS)
        check_version(contact, expected_version)
        catalog = await field_service.catalog(session)
        prepared = prepare(data, catalog)
        raise_item_errors(prepared.errors, "Some fields are invalid.")
        await check_references(session, prepared.references)
        if prepared.references.get("owner_id") != contact.owner_id:
            check_owner(actor, prepared.references.get("owner_id"))
        new_fields = merge_fields(contact.fields, prepared.custom)
        await ensure_unique_identifiers(
            session, catalog, prepared.core, prepared.custom, except_id=contact.id, actor=actor
        )
        changes: dict[str, Any] = {}
        for column, value in {**prepared.core, **prepared.references}.items():
            if getattr(contact, column) != value:
                changes[column] = {"old": getattr(contact, column), "new": value}
                setattr(contact, column, value)
        for alias in sorted(set(contact.fields) | set(new_fields)):
            if contact.fields.get(alias) != new_fields.get(alias):
                changes[f"fields.{alias}"] = {
                    "old": contact.fields.get(alias),
                    "new": new_fields.get(alias),
                }
        if new_fields != contact.fields:
            contact.fields = new_fields
        repo = ContactRepository(session)
        tag_changes = await self._apply_tag_edit(session, contact.id, data, now)
        changes.update(tag_changes)
        if changes:
            contact.is_anonymous = is_anonymous(
                {c: getattr(contact, c) for c in CORE_COLUMNS}, contact.fields, catalog
            )
            contact.version += 1
            contact.updated_at = now
            await session.flush()
            await repo.record_activity(
                [
                    {
                        "contact_id": contact.id,
                        "occurred_at": now,
                        "kind": "updated",
                        "details": {"changes": changes},
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
                entity_id=contact.id,
                entity_name=contact.email or f"Contact {contact.id}",
                changes=changes,
                now=now,
            )
        return (await self.read_many(session, [contact]))[0]

    async def _apply_tag_edit(
        self, session: AsyncSession, contact_id: int, data: ContactUpdate, now: datetime
    ) -> dict[str, Any]:
        repo = ContactRepository(session)
        before = (await repo.tags_of([contact_id]))[contact_id]
        given = data.model_dump(exclude_unset=True)
        if "tags" not in given and not data.add_tags and not data.remove_tags:
            return {}
        wanted = {t.lower(): t for t in before}
        if given.get("tags") is not None:
            wanted = {t.lower(): t for t in clean_tags(given["tags"])}
        for name in clean_tags(data.add_tags):
            wanted.setdefault(name.lower(), name)
        for name in clean_tags(data.remove_tags):
            wanted.pop(name.lower(), None)
        added = [n for k, n in wanted.items() if k not in {t.lower() for t in before}]
        removed = [t for t in before if t.lower() not in wanted]
        if added:
            tag_ids = await repo.ensure_tags(added, now)
            await repo.add_tags([(contact_id, t) for t in tag_ids.values()])
        if removed:
            await repo.remove_tags([contact_id], await repo.tag_ids(removed))
        if not added and not removed:
            return {}
        return {
            "tags": {
                "old": sorted(before, key=str.lower),
                "new": sorted(wanted.values(), key=str.lower),
            }
        }

    async def delete(
        self, session: AsyncSession, contact_id: int, *, actor: Actor, now: datetime
    ) -> None:
        repo = ContactRepository(session)
        contact = await repo.get(contact_id)
        if contact is None:
            raise NotFound(f"No contact with id {contact_id}.")
        await self._may(actor, contact, Perm.DELETE_OWN, Perm.DELETE_OTHERS)
        name = contact.email or f"Contact {contact.id}"
        await repo.delete(contact)
        await session.flush()
        await audit.record(
            session,
            actor=actor,
            action=AuditAction.DELETE,
            entity_type="contact",
            entity_id=contact_id,
            entity_name=name,
            changes={},
            now=now,
        )

    # -- batches ------------------------------------------------------------------------------

    async def upsert_many(
        self,
        session: AsyncSession,
        *,
        items: Sequence[ContactUpsert],
        actor: Actor,
        now: datetime,
        pointer_prefix: str = "/contacts",
        extra_tags: Sequence[str] = (),
        owner_id: int | None = None,
        catalog: FieldCatalog | None = None,
        audit_summary: bool = True,
    ) -> BatchUpsertResult:
        """Create or update up to a few thousand contacts in a handful of statements.

        A contact is found by its email, then by each identifying custom field; items that
        name the same contact within one batch are applied in order. Given values overwrite,
        tags are added. Invalid items fail alone and are reported with pointers.
        """
        actor.require("contacts", Perm.CREATE)
        catalog = catalog or await field_service.catalog(session)
        prepared = [
            prepare(item, catalog, pointer=f"{pointer_prefix}/{index}")
            for index, item in enumerate(items)
        ]
        outcome = await self.upsert_prepared(
            session,
            items=prepared,
            actor=actor,
            now=now,
            pointer_prefix=pointer_prefix,
            extra_tags=extra_tags,
            owner_id=owner_id,
            catalog=catalog,
            audit_summary=audit_summary,
        )
        return outcome.as_result()

    async def upsert_prepared(
        self,
        session: AsyncSession,
        *,
        items: Sequence[Prepared],
        actor: Actor,
        now: datetime,
        pointer_prefix: str = "/contacts",
        extra_tags: Sequence[str] = (),
        owner_id: int | None = None,
        catalog: FieldCatalog | None = None,
        audit_summary: bool = True,
        fill_only: frozenset[str] = frozenset(),
    ) -> UpsertOutcome:
        """:meth:`upsert_many` for items already checked and normalised (see :func:`prepare`),
        as plain values: the path for imports, where per-item models would cost more than
        the database work. Items that carry errors are reported as failed, items that match
        a contact the actor may not change as refused.

        ``fill_only``: fields (core or custom aliases) set on existing contacts only while
        they are empty, never replaced or cleared (anonymous form posts)."""
        actor.require("contacts", Perm.CREATE)
        catalog = catalog or await field_service.catalog(session)
        upserter = ContactUpserter(
            session, actor=actor, now=now, catalog=catalog, suppressions=self.suppressions
        )
        return await upserter.run(
            items,
            pointer_prefix=pointer_prefix,
            extra_tags=extra_tags,
            owner_id=owner_id,
            audit_summary=audit_summary,
            fill_only=fill_only,
        )

    # -- set-based changes for many contacts (campaign actions, bulk UI actions) -------------

    async def change_points(
        self,
        session: AsyncSession,
        *,
        contact_ids: Sequence[int],
        delta: int,
        reason: str,
        source_type: str | None,
        source_id: int | None,
        now: datetime,
    ) -> None:
        if delta and contact_ids:
            await ContactRepository(session).add_points(
                contact_ids,
                delta,
                reason=reason,
                source_type=source_type,
                source_id=source_id,
                now=now,
            )

    async def change_tags(
        self,
        session: AsyncSession,
        *,
        contact_ids: Sequence[int],
        add: Sequence[str] = (),
        remove: Sequence[str] = (),
        source_type: str | None,
        source_id: int | None,
        now: datetime,
        timeline: bool = True,
    ) -> None:
        repo = ContactRepository(session)
        if add:
            for tag_id in (await repo.ensure_tags(add, now)).values():
                await repo.tag_contacts(contact_ids, tag_id)
        if remove:
            await repo.remove_tags(contact_ids, await repo.tag_ids(remove))
        if add or remove:
            await repo.touch(contact_ids, now)
            if timeline:
                await repo.record_activity(
                    [
                        {
                            "contact_id": c,
                            "occurred_at": now,
                            "kind": "tags",
                            "details": {"added": list(add), "removed": list(remove)},
                            "source_type": source_type,
                            "source_id": source_id,
                            "actor_name": None,
                        }
                        for c in contact_ids
                    ]
                )

    async def add_dnc(
        self,
        session: AsyncSession,
        *,
        contact_ids: Sequence[int],
        channel: str,
        reason: str,
        comment: str = "",
        source_type: str | None,
        source_id: int | None,
        now: datetime,
        timeline: bool = True,
    ) -> None:
        repo = ContactRepository(session)
        await repo.add_dnc(
            [
                {
                    "contact_id": c,
                    "channel": channel,
                    "reason": reason,
                    "comment": comment,
                    "source_type": source_type,
                    "source_id": source_id,
                    "created_at": now,
                }
                for c in contact_ids
            ]
        )
        await repo.touch(contact_ids, now)
        if timeline:
            await repo.record_activity(
                [
                    {
                        "contact_id": c,
                        "occurred_at": now,
                        "kind": "dnc_added",
                        "details": {"channel": channel, "reason": reason, "comment": comment},
                        "source_type": source_type,
                        "source_id": source_id,
                        "actor_name": None,
                    }
                    for c in contact_ids
                ]
            )

    async def remove_dnc(
        self,
        session: AsyncSession,
        *,
        contact_ids: Sequence[int],
        channel: str,
        source_type: str | None,
        source_id: int | None,
        now: datetime,
        timeline: bool = True,
    ) -> None:
        repo = ContactRepository(session)
        removed = await repo.remove_dnc(contact_ids, channel)
        await repo.touch(removed, now)
        if timeline:
            await repo.record_activity(
                [
                    {
                        "contact_id": c,
                        "occurred_at": now,
                        "kind": "dnc_removed",
                        "details": {"channel": channel},
                        "source_type": source_type,
                        "source_id": source_id,
                        "actor_name": None,
                    }
                    for c in removed
                ]
            )

    async def set_company(
        self,
        session: AsyncSession,
        *,
        contact_ids: Sequence[int],
        company_id: int,
        primary: bool,
        now: datetime,
    ) -> None:
        repo = ContactRepository(session)
        await repo.link_company(contact_ids, company_id, primary=primary, now=now)
        await repo.touch(contact_ids, now)

    async def unset_company(
        self,
        session: AsyncSession,
        *,
        contact_ids: Sequence[int],
        company_id: int,
        now: datetime,
    ) -> None:
        repo = ContactRepository(session)
        await repo.unlink_company(contact_ids, company_id)
        await repo.touch(contact_ids, now)

    # -- single-contact helpers for the API -------------------------------------------------

    async def require_visible(
        self, session: AsyncSession, contact_id: int, *, actor: Actor
    ) -> Contact:
        contact = await self.load(session, contact_id)
        await self._visible(actor, contact)
        return contact

    async def require_editable(
        self, session: AsyncSession, contact_id: int, *, actor: Actor
    ) -> Contact:
        contact = await self.load(session, contact_id)
        await self._may(actor, contact, Perm.EDIT_OWN, Perm.EDIT_OTHERS)
        return contact

    async def bulk(
        self, session: AsyncSession, *, data: BulkAction, actor: Actor, now: datetime
    ) -> BulkResult:
        """A bulk action of the contacts list, as a few set-based statements, on the contacts
        the actor may change; those they may not see are missing, those they may see but not
        change are refused, and nothing happens to either."""
        deleting = data.action == "delete"
        own, others = (
            (Perm.DELETE_OWN, Perm.DELETE_OTHERS) if deleting else (Perm.EDIT_OWN, Perm.EDIT_OTHERS)
        )
        if not actor.can("contacts", own):
            actor.require("contacts", others)
        if data.action in ("add_tags", "remove_tags") and not data.tags:
            raise ValidationFailed("Name the tags.", [FieldError("/tags", "Required.", "required")])
        repo = ContactRepository(session)
        wanted = list(dict.fromkeys(data.contact_ids))
        found = await repo.existing_ids(wanted, where=visible_contacts(actor))
        allowed = None if actor.can("contacts", others) else Contact.owner_id == actor.user_id
        permitted = await repo.existing_ids([c for c in wanted if c in found], where=allowed)
        ids = [c for c in wanted if c in permitted]
        who, by = actor.type, actor.user_id
        if data.action == "add_tags":
            await self.change_tags(
                session, contact_ids=ids, add=data.tags, source_type=who, source_id=by, now=now
            )
        elif data.action == "remove_tags":
            await self.change_tags(
                session, contact_ids=ids, remove=data.tags, source_type=who, source_id=by, now=now
            )
        elif data.action == "add_dnc":
            await self.add_dnc(
                session,
                contact_ids=ids,
                channel=data.channel,
                reason="manual",
                source_type=who,
                source_id=by,
                now=now,
            )
        elif data.action == "remove_dnc":
            await self.remove_dnc(
                session,
                contact_ids=ids,
                channel=data.channel,
                source_type=who,
                source_id=by,
                now=now,
            )
        else:
            await repo.delete_ids(ids)
        await audit.record(
            session,
            actor=actor,
            action=AuditAction.DELETE if data.action == "delete" else AuditAction.UPDATE,
            entity_type="contact",
            entity_id=None,
            entity_name=f"Bulk {data.action}",
            changes={
                data.action: {"old": None, "new": {"contacts": len(ids), "tags": data.tags or None}}
            },
            now=now,
        )
        return BulkResult(
            affected=len(ids),
            missing=[c for c in wanted if c not in found],
            refused=[c for c in wanted if c in found and c not in permitted],
        )

    # -- merging ------------------------------------------------------------------------------

    async def merge(
        self,
        session: AsyncSession,
        *,
        winner_id: int,
        loser_id: int,
        actor: Actor,
        now: datetime,
    ) -> ContactRead:
        """Merge ``loser`` into ``winner``: history kept, tags unioned, points summed, empty
        fields filled from the loser; the loser's id keeps resolving to the winner."""
        if winner_id == loser_id:
            raise ValidationFailed(
                "A contact cannot be merged with itself.",
                [FieldError("/other_id", "Choose another contact.", "same_contact")],
            )
        winner = await self.require_editable(session, winner_id, actor=actor)
        loser = await ContactRepository(session).get(loser_id)
        if loser is None:
            raise NotFound(f"No contact with id {loser_id}.")
        await self._may(actor, loser, Perm.DELETE_OWN, Perm.DELETE_OTHERS)
        await merge_contacts(
            session, winner, loser, hooks=list(self.merge_hooks.values()), actor=actor, now=now
        )
        return (await self.read_many(session, [winner]))[0]

    async def timeline(
        self,
        session: AsyncSession,
        contact_id: int,
        *,
        actor: Actor,
        before: datetime | None,
        limit: int,
    ) -> ActivityPage:
        contact = await self.load(session, contact_id)
        await self._visible(actor, contact)
        return await timeline_of(
            session,
            contact,
            sources=list(self.timeline_sources.values()),
            before=before,
            limit=limit,
        )


contact_service = ContactService()
