"""Contacts: who campaigns act on.

Single-contact operations serve the API and the UI; the ``*_many`` operations take lists of ids
and run as a few set-based statements, for imports, segment actions and campaign steps.
Every change bumps ``updated_at`` (segments rebuild incrementally from it) and lands on the
contact's timeline.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from trellis.actor import Actor, Perm
from trellis.db.models import Contact
from trellis.db.pagination import Page, PageRequest
from trellis.domains.audit.service import AuditAction, audit, diff
from trellis.domains.contacts.repository import ContactRepository
from trellis.domains.contacts.schemas import (
    ActivityItem,
    ActivityPage,
    BatchUpsertResult,
    BulkAction,
    BulkResult,
    CompanyLink,
    ContactCreate,
    ContactFields,
    ContactRead,
    ContactUpdate,
    ContactUpsert,
    DncEntry,
    ItemError,
    UpsertResult,
)
from trellis.domains.fields.service import FieldCatalog, field_service
from trellis.domains.fields.types import CORE_CONTACT_ALIASES, InvalidValue, coerce_core
from trellis.domains.stages.service import stage_service
from trellis.domains.users.service import user_service
from trellis.errors import (
    Conflict,
    FieldError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    json_pointer,
)
from trellis.kit.versions import check_version
from trellis.kit.visibility import editable_rows, may_see, owned_rows
from trellis.ports import Suppressions
from trellis.wiring import Slot

CORE_COLUMNS = tuple(sorted(CORE_CONTACT_ALIASES))
REFERENCE_COLUMNS = ("owner_id", "stage_id")

# -- extension points for other domains, filled by the composition root -------------------

# A stream of every contact's timeline (emails sent, pages visited, ...).
TimelineSource = Callable[[AsyncSession, int, datetime | None, int], Awaitable[list[ActivityItem]]]
# Called as ``hook(session, winner_id, loser_id, now)`` before the loser is deleted, so a
# domain can move its rows (memberships, logs) to the surviving contact.
MergeHook = Callable[[AsyncSession, int, int, datetime], Awaitable[None]]


UpsertStatus = Literal["created", "updated", "unchanged", "failed"]


@dataclass
class UpsertOutcome:
    """What :meth:`ContactService.upsert_prepared` did to each item, by index."""

    statuses: list[UpsertStatus]
    ids: list[int | None]
    errors: dict[int, list[ItemError]]
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0


@dataclass
class Prepared:
    """One contact's input, checked and normalised."""

    core: dict[str, Any] = field(default_factory=dict)
    custom: dict[str, Any] = field(default_factory=dict)
    references: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    errors: list[ItemError] = field(default_factory=list)
    # The person opted in with this input (a form's consent box): an address erased on
    # request may come back.
    opted_in: bool = False


def prepare(item: ContactFields, catalog: FieldCatalog, *, pointer: str = "") -> Prepared:
    given = item.model_dump(exclude_unset=True)
    result = Prepared()
    for alias in CORE_COLUMNS:
        if alias in given:
            try:
                result.core[alias] = coerce_core(alias, given[alias])
            except InvalidValue as exc:
                result.errors.append(ItemError(pointer=f"{pointer}/{alias}", detail=str(exc)))
    for alias in REFERENCE_COLUMNS:
        if alias in given:
            result.references[alias] = given[alias]
    for alias, value in (given.get("fields") or {}).items():
        spec = catalog.get(alias)
        where = json_pointer(*[p for p in pointer.split("/") if p], "fields", alias)
        if spec is None or spec.is_core:
            result.errors.append(
                ItemError(
                    pointer=where,
                    detail="No custom field has this alias."
                    + (" Core fields go at the top level." if spec is not None else ""),
                    code="unknown_field",
                )
            )
            continue
        try:
            result.custom[alias] = spec.coerce(value)
        except InvalidValue as exc:
            result.errors.append(ItemError(pointer=where, detail=str(exc)))
    tags = given.get("tags")
    if tags:
        result.tags = _clean_tags(tags)
    return result


def _clean_tags(names: Sequence[str]) -> list[str]:
    seen: dict[str, str] = {}
    for name in names:
        cleaned = " ".join(name.split())
        if cleaned:
            seen.setdefault(cleaned.lower(), cleaned)
    return list(seen.values())


def is_anonymous(core: Mapping[str, Any], custom: Mapping[str, Any], catalog: FieldCatalog) -> bool:
    if core.get("email"):
        return False
    return not any(
        custom.get(spec.alias) not in (None, "") for spec in catalog.identifiers if not spec.is_core
    )


def _merge_fields(current: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(current)
    for alias, value in changes.items():
        if value is None:
            merged.pop(alias, None)
        else:
            merged[alias] = value
    return merged


def _raise_errors(errors: Sequence[ItemError], message: str) -> None:
    if errors:
        raise ValidationFailed(message, [FieldError(e.pointer, e.detail, e.code) for e in errors])


async def _existing(session: AsyncSession, kind: str, ids: Sequence[int]) -> set[int]:
    if kind == "user":
        return await user_service.existing_ids(session, ids)
    return await stage_service.existing_ids(session, ids)


def _check_owner(actor: Actor, owner_id: int | None) -> None:
    """Giving a contact to another user is a change to others' contacts."""
    mine = owner_id is None or owner_id == actor.user_id
    if not mine and not actor.can("contacts", Perm.EDIT_OTHERS):
        raise PermissionDenied(
            "Only who may edit others' contacts can give a contact to another user.",
            [FieldError("/owner_id", "You may only choose yourself.", "forbidden")],
        )


def visible_contacts(actor: Actor) -> ColumnElement[bool] | None:
    """The contacts ``actor`` may see (None: all), as a clause over ``contacts``."""
    return owned_rows(actor, "contacts", Contact.owner_id)


def editable_contacts(actor: Actor) -> ColumnElement[bool] | None:
    """The contacts ``actor`` may change (None: all)."""
    return editable_rows(actor, "contacts", Contact.owner_id)


ERASED = (
    "This person asked to be erased; they come back only by opting in again (a consent, or "
    "the suppression list's lift)."
)


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

    async def _check_references(
        self, session: AsyncSession, references: Mapping[str, Any], pointer: str = ""
    ) -> None:
        errors = []
        for column, value in references.items():
            if value is None:
                continue
            kind = "user" if column == "owner_id" else "stage"
            if value not in await _existing(session, kind, [value]):
                errors.append(
                    FieldError(f"{pointer}/{column}", f"No {kind} with id {value}.", "not_found")
                )
        if errors:
            raise ValidationFailed("Some references do not exist.", errors)

    async def _ensure_unique_identifiers(
        self,
        session: AsyncSession,
        catalog: FieldCatalog,
        core: Mapping[str, Any],
        custom: Mapping[str, Any],
        *,
        except_id: int | None,
    ) -> None:
        repo = ContactRepository(session)
        if core.get("email"):
            found = (await repo.ids_by_email([core["email"]])).get(core["email"])
            if found is not None and found != except_id:
                raise Conflict(
                    f"Contact {found} already has the email {core['email']}.",
                    [FieldError("/email", "Another contact has this email.", "duplicate")],
                    extra={"existing_id": found},
                )
        for spec in catalog.identifiers:
            if spec.is_core or custom.get(spec.alias) in (None, ""):
                continue
            value = str(custom[spec.alias])
            found = (await repo.ids_by_field(spec.alias, [value])).get(value)
            if found is not None and found != except_id:
                raise Conflict(
                    f"Contact {found} already has {spec.label} {value}.",
                    [
                        FieldError(
                            f"/fields/{spec.alias}", "Another contact has this value.", "duplicate"
                        )
                    ],
                    extra={"existing_id": found},
                )

    async def create(
        self, session: AsyncSession, *, data: ContactCreate, actor: Actor, now: datetime
    ) -> ContactRead:
        actor.require("contacts", Perm.CREATE)
        catalog = await field_service.catalog(session)
        prepared = prepare(data, catalog)
        _raise_errors(prepared.errors, "Some fields are invalid.")
        await self._check_references(session, prepared.references)
        _check_owner(actor, prepared.references.get("owner_id"))
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
        await self._ensure_unique_identifiers(
            session, catalog, prepared.core, custom, except_id=None
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
        _raise_errors(prepared.errors, "Some fields are invalid.")
        await self._check_references(session, prepared.references)
        if prepared.references.get("owner_id") != contact.owner_id:
            _check_owner(actor, prepared.references.get("owner_id"))
        new_fields = _merge_fields(contact.fields, prepared.custom)
        await self._ensure_unique_identifiers(
            session, catalog, prepared.core, prepared.custom, except_id=contact.id
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
            wanted = {t.lower(): t for t in _clean_tags(given["tags"])}
        for name in _clean_tags(data.add_tags):
            wanted.setdefault(name.lower(), name)
        for name in _clean_tags(data.remove_tags):
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
        results = [
            UpsertResult(
                index=index, status=status, id=contact_id, errors=outcome.errors.get(index, [])
            )
            for index, (status, contact_id) in enumerate(
                zip(outcome.statuses, outcome.ids, strict=True)
            )
        ]
        return BatchUpsertResult(
            results=results,
            created=outcome.created,
            updated=outcome.updated,
            unchanged=outcome.unchanged,
            failed=outcome.failed,
        )

    async def _hold_back_erased(
        self,
        session: AsyncSession,
        prepared: list[Prepared | None],
        statuses: list[UpsertStatus],
        errors: dict[int, list[ItemError]],
        by_email: Mapping[str, int],
        pointer_prefix: str,
        now: datetime,
    ) -> None:
        """Items that would bring back an address erased on request fail, unless the person
        opted in again with them (then the address comes off the suppression list)."""
        candidates = sorted(
            {p.core["email"] for p in prepared if p and p.core.get("email")} - set(by_email)
        )
        erased = await self.suppressions.suppressed(session, candidates) if candidates else set()
        if not erased:
            return
        opted_in = {p.core["email"] for p in prepared if p and p.opted_in} & erased
        if opted_in:
            await self.suppressions.lift(session, sorted(opted_in), now=now)
        for index, item in enumerate(prepared):
            email = item.core.get("email") if item else None
            if email in erased and email not in opted_in:
                statuses[index] = "failed"
                errors[index] = [
                    ItemError(
                        pointer=f"{pointer_prefix}/{index}/email", detail=ERASED, code="erased"
                    )
                ]
                prepared[index] = None

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
    ) -> UpsertOutcome:
        """:meth:`upsert_many` for items already checked and normalised (see :func:`prepare`),
        as plain values: the path for imports, where per-item models would cost more than
        the database work. Items that carry errors are reported as failed."""
        actor.require("contacts", Perm.CREATE)
        catalog = catalog or await field_service.catalog(session)
        repo = ContactRepository(session)
        statuses: list[UpsertStatus] = []
        errors: dict[int, list[ItemError]] = {}
        prepared: list[Prepared | None] = []
        extra = _clean_tags(extra_tags) if extra_tags else []
        for index, ready in enumerate(items):
            if owner_id is not None and "owner_id" not in ready.references:
                ready.references["owner_id"] = owner_id
            if extra or ready.tags:
                ready.tags = _clean_tags([*ready.tags, *extra])
            if ready.errors:
                statuses.append("failed")
                errors[index] = ready.errors
                prepared.append(None)
            else:
                statuses.append("unchanged")
                prepared.append(ready)
        await self._check_batch_references(session, prepared, statuses, errors, pointer_prefix)

        # Find existing contacts by every identifier present in the batch.
        emails = sorted({p.core["email"] for p in prepared if p and p.core.get("email")})
        by_email = await repo.ids_by_email(emails)
        await self._hold_back_erased(
            session, prepared, statuses, errors, by_email, pointer_prefix, now
        )
        by_field: dict[str, dict[str, int]] = {}
        for spec in catalog.identifiers:
            if spec.is_core:
                continue
            values = sorted(
                {
                    str(p.custom[spec.alias])
                    for p in prepared
                    if p and p.custom.get(spec.alias) not in (None, "")
                }
            )
            by_field[spec.alias] = await repo.ids_by_field(spec.alias, values) if values else {}

        # Resolve each item to an existing id, or to the batch-local new contact it repeats.
        targets: list[int | str | None] = []
        pending_keys: dict[str, str] = {}
        for index, item_ready in enumerate(prepared):
            if item_ready is None:
                targets.append(None)
                continue
            ready = item_ready
            target: int | str | None = None
            keys = []
            if ready.core.get("email"):
                keys.append(f"email:{ready.core['email']}")
                target = by_email.get(ready.core["email"])
            for alias, found in by_field.items():
                value = ready.custom.get(alias)
                if value not in (None, ""):
                    keys.append(f"{alias}:{value}")
                    if target is None:
                        target = found.get(str(value))
            if target is None:
                target = next((pending_keys[k] for k in keys if k in pending_keys), None)
                if target is None:
                    target = f"new:{index}"
                for key in keys:
                    pending_keys.setdefault(key, target)
            targets.append(target)

        # New contacts: fold repeated items into one row, then insert in bulk.
        new_rows: dict[str, dict[str, Any]] = {}
        new_tags: dict[str, list[str]] = {}
        defaults = {s.alias: s.default_value for s in catalog.custom if s.default_value is not None}
        blank = {
            **{c: None for c in CORE_COLUMNS},
            "owner_id": None,
            "stage_id": None,
            "points": 0,
            "is_anonymous": True,
            "created_at": now,
            "updated_at": now,
            "last_active_at": None,
            "version": 1,
        }
        for maybe_new, target in zip(prepared, targets, strict=True):
            if maybe_new is None or not isinstance(target, str):
                continue
            ready = maybe_new
            row = new_rows.get(target)
            if row is None:
                row = new_rows[target] = {**blank, "fields": dict(defaults)}
            row.update(ready.core)
            if ready.references:
                row.update(ready.references)
            if ready.custom:
                row["fields"] = _merge_fields(row["fields"], ready.custom)
            if ready.tags:
                new_tags.setdefault(target, []).extend(ready.tags)
        for row in new_rows.values():
            row["is_anonymous"] = is_anonymous(row, row["fields"], catalog)
        new_ids = dict(zip(new_rows, await repo.insert_many(list(new_rows.values())), strict=True))

        # Existing contacts: compute what really changes, then update in bulk.
        existing_ids = sorted({t for t in targets if isinstance(t, int)})
        current = await repo.rows_by_ids(existing_ids)
        tags_now = {
            cid: {t.lower() for t in names}
            for cid, names in (await repo.tags_of(existing_ids)).items()
        }
        updates: dict[int, dict[str, Any]] = {}
        changes_by_id: dict[int, dict[str, Any]] = {}
        tags_added: dict[int, list[str]] = {}
        item_changed = [False] * len(prepared)
        for index, (maybe_old, target) in enumerate(zip(prepared, targets, strict=True)):
            if maybe_old is None or not isinstance(target, int) or target not in current:
                continue
            ready = maybe_old
            contact = current[target]
            row = updates.setdefault(target, {})
            changes = changes_by_id.setdefault(target, {})
            for column, value in {**ready.core, **ready.references}.items():
                if row.get(column, getattr(contact, column)) != value:
                    row[column] = value
                    changes[column] = {"old": getattr(contact, column), "new": value}
                    item_changed[index] = True
            base = row.get("fields", contact.fields)
            merged = _merge_fields(base, ready.custom)
            if merged != base:
                for alias in ready.custom:
                    if base.get(alias) != merged.get(alias):
                        changes[f"fields.{alias}"] = {
                            "old": contact.fields.get(alias),
                            "new": merged.get(alias),
                        }
                row["fields"] = merged
                item_changed[index] = True
            have = tags_now.setdefault(target, set())
            for name in ready.tags:
                if name.lower() not in have:
                    have.add(name.lower())
                    tags_added.setdefault(target, []).append(name)
                    item_changed[index] = True
        for contact_id, names in tags_added.items():
            changes_by_id[contact_id]["tags_added"] = sorted(names, key=str.lower)
        update_rows = []
        for contact_id, row in updates.items():
            if not row:
                continue
            contact = current[contact_id]
            state = {c: row.get(c, getattr(contact, c)) for c in CORE_COLUMNS}
            row["is_anonymous"] = is_anonymous(state, row.get("fields", contact.fields), catalog)
            update_rows.append(
                {"id": contact_id, **row, "updated_at": now, "version": contact.version + 1}
            )
        await repo.update_many(update_rows)

        # Tags for everyone, in one pass.
        all_tags = {n for names in [*new_tags.values(), *tags_added.values()] for n in names}
        tag_ids = await repo.ensure_tags(all_tags, now) if all_tags else {}
        pairs = [
            (new_ids[key], tag_ids[n.lower()]) for key, names in new_tags.items() for n in names
        ]
        pairs += [(cid, tag_ids[n.lower()]) for cid, names in tags_added.items() for n in names]
        await repo.add_tags(pairs)
        await repo.touch(sorted(set(tags_added) - {r["id"] for r in update_rows}), now)

        activity = [
            {
                "contact_id": cid,
                "occurred_at": now,
                "kind": "updated",
                "details": {"changes": changes},
                "source_type": actor.type,
                "source_id": actor.user_id,
                "actor_name": actor.name,
            }
            for cid, changes in changes_by_id.items()
            if changes
        ]
        await repo.record_activity(activity)

        outcome = UpsertOutcome(statuses=statuses, ids=[None] * len(statuses), errors=errors)
        for index, target in enumerate(targets):
            if statuses[index] == "failed":
                outcome.failed += 1
                continue
            if isinstance(target, str):
                outcome.ids[index] = new_ids[target]
                first = int(target.split(":")[1]) == index
                statuses[index] = "created" if first else "updated"
            elif target is not None:
                outcome.ids[index] = target
                statuses[index] = "updated" if item_changed[index] else "unchanged"
            if statuses[index] == "created":
                outcome.created += 1
            elif statuses[index] == "updated":
                outcome.updated += 1
            else:
                outcome.unchanged += 1
        if audit_summary and (outcome.created or outcome.updated):
            await audit.record(
                session,
                actor=actor,
                action=AuditAction.IMPORT,
                entity_type="contact",
                entity_id=None,
                entity_name="Batch upsert",
                changes={
                    "created": {"old": None, "new": outcome.created},
                    "updated": {"old": None, "new": outcome.updated},
                },
                now=now,
            )
        return outcome

    async def _check_batch_references(
        self,
        session: AsyncSession,
        prepared: list[Prepared | None],
        statuses: list[UpsertStatus],
        errors: dict[int, list[ItemError]],
        pointer_prefix: str,
    ) -> None:
        for column, kind in (("owner_id", "user"), ("stage_id", "stage")):
            wanted = {
                p.references[column] for p in prepared if p and p.references.get(column) is not None
            }
            if not wanted:
                continue
            known = await _existing(session, kind, sorted(wanted))
            for index, candidate in enumerate(prepared):
                value = candidate.references.get(column) if candidate else None
                if candidate is not None and value is not None and value not in known:
                    statuses[index] = "failed"
                    errors[index] = [
                        ItemError(
                            pointer=f"{pointer_prefix}/{index}/{column}",
                            detail=f"No {kind} with id {value}.",
                            code="not_found",
                        )
                    ]
                    prepared[index] = None

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

    # -- tags -------------------------------------------------------------------------------

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
        repo = ContactRepository(session)
        winner = await self.require_editable(session, winner_id, actor=actor)
        loser = await repo.get(loser_id)
        if loser is None:
            raise NotFound(f"No contact with id {loser_id}.")
        await self._may(actor, loser, Perm.DELETE_OWN, Perm.DELETE_OTHERS)
        filled: dict[str, Any] = {}
        loser_email = loser.email
        for column in (*CORE_COLUMNS, *REFERENCE_COLUMNS):
            if column == "email":
                continue
            if getattr(winner, column) in (None, "") and getattr(loser, column) not in (None, ""):
                filled[column] = getattr(loser, column)
        fields = dict(loser.fields)
        fields.update(winner.fields)
        points = loser.points
        for hook in self.merge_hooks.values():
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
        return (await self.read_many(session, [winner]))[0]

    # -- the timeline -------------------------------------------------------------------------

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
        repo = ContactRepository(session)
        items: list[ActivityItem] = []
        for row in await repo.activity(contact.id, before=before, limit=limit):
            items.append(
                ActivityItem(
                    occurred_at=row.occurred_at,
                    kind=row.kind,
                    summary=_summarise(row.kind, row.details),
                    details=row.details,
                    source_type=row.source_type,
                    source_id=row.source_id,
                    actor_name=row.actor_name,
                )
            )
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
        for source in self.timeline_sources.values():
            items.extend(await source(session, contact.id, before, limit))
        if before is None or contact.created_at < before:
            items.append(
                ActivityItem(
                    occurred_at=contact.created_at, kind="created", summary="Contact created"
                )
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


contact_service = ContactService()
