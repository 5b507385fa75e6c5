"""Create or update many contacts at once, in phases: admit, check references and owners,
match, authorise, merge, write, report.

Every phase works on the whole batch with a few set-based statements. An item that fails a
phase is dropped from the ones after it, so nothing is written for it: invalid input
``failed``, a contact the actor may not change ``refused`` (ADR 0015).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from trellis.actor import Actor, Perm
from trellis.db.models import Contact
from trellis.domains.audit.service import AuditAction, audit
from trellis.domains.contacts.repository import ContactRepository
from trellis.domains.contacts.schemas import BatchUpsertResult, ItemError, UpsertResult
from trellis.domains.contacts.values import (
    CORE_COLUMNS,
    ERASED,
    Prepared,
    clean_tags,
    is_anonymous,
    merge_fields,
)
from trellis.domains.fields.service import FieldCatalog
from trellis.domains.stages.service import stage_service
from trellis.domains.users.service import user_service
from trellis.ports import Suppressions

UpsertStatus = Literal["created", "updated", "unchanged", "refused", "failed"]

# A batch-local key for a contact the batch creates: ``new:<index of its first item>``.
NewKey = str
Target = int | NewKey | None

REFUSED = "This contact exists and you may not change it; nothing was changed."
NOT_YOURS = "You may only make contacts of your own."


@dataclass
class UpsertOutcome:
    """What an upsert did to each item, by index."""

    statuses: list[UpsertStatus]
    ids: list[int | None]
    errors: dict[int, list[ItemError]]
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: int = 0
    failed: int = 0

    def as_result(self) -> BatchUpsertResult:
        """The API's answer: a result per item, in order, and the counts."""
        results = [
            UpsertResult(
                index=index, status=status, id=contact_id, errors=self.errors.get(index, [])
            )
            for index, (status, contact_id) in enumerate(zip(self.statuses, self.ids, strict=True))
        ]
        return BatchUpsertResult(
            results=results,
            created=self.created,
            updated=self.updated,
            unchanged=self.unchanged,
            refused=self.refused,
            failed=self.failed,
        )


@dataclass
class _Batch:
    """The items still in play, and what happened to those dropped on the way."""

    items: list[Prepared | None]
    statuses: list[UpsertStatus]
    errors: dict[int, list[ItemError]]
    pointer_prefix: str
    targets: list[Target] = field(default_factory=list)
    # The identifier each item was matched by, to point a refusal at it.
    matched_by: dict[int, str] = field(default_factory=dict)

    def live(self) -> list[tuple[int, Prepared]]:
        return [(i, item) for i, item in enumerate(self.items) if item is not None]

    def drop(self, index: int, status: UpsertStatus, error: ItemError) -> None:
        self.statuses[index] = status
        self.errors[index] = [error]
        self.items[index] = None
        if self.targets:
            self.targets[index] = None

    def pointer(self, index: int, name: str) -> str:
        return f"{self.pointer_prefix}/{index}/{name}"


@dataclass
class _Merged:
    """The rows to write: new contacts by batch key, and the changes to existing ones."""

    new_rows: dict[NewKey, dict[str, Any]] = field(default_factory=dict)
    new_tags: dict[NewKey, list[str]] = field(default_factory=dict)
    updates: dict[int, dict[str, Any]] = field(default_factory=dict)
    changes: dict[int, dict[str, Any]] = field(default_factory=dict)
    tags_added: dict[int, list[str]] = field(default_factory=dict)
    changed: set[int] = field(default_factory=set)


class ContactUpserter:
    """One upsert of one batch, by one actor."""

    def __init__(
        self,
        session: AsyncSession,
        *,
        actor: Actor,
        now: datetime,
        catalog: FieldCatalog,
        suppressions: Suppressions,
    ) -> None:
        self.session = session
        self.repo = ContactRepository(session)
        self.actor = actor
        self.now = now
        self.catalog = catalog
        self.suppressions = suppressions

    async def run(
        self,
        items: Sequence[Prepared],
        *,
        pointer_prefix: str,
        extra_tags: Sequence[str],
        owner_id: int | None,
        audit_summary: bool,
        fill_only: frozenset[str] = frozenset(),
    ) -> UpsertOutcome:
        """``fill_only``: fields (core or custom aliases) set on existing contacts only while
        they are empty (anonymous form posts)."""
        batch = self._admit(items, pointer_prefix, extra_tags, owner_id)
        await self._check_references(batch)
        self._authorise_owners(batch)
        await self._match(batch)
        current = await self._authorise_targets(batch)
        merged = _Merged()
        self._merge_new(batch, merged)
        await self._merge_existing(batch, current, merged, fill_only)
        new_ids = await self._write(merged, current)
        outcome = self._report(batch, new_ids, merged.changed)
        if audit_summary:
            await self._audit(outcome)
        return outcome

    # -- admit: the items that arrived valid, with the batch's owner and tags ----------------

    def _admit(
        self,
        items: Sequence[Prepared],
        pointer_prefix: str,
        extra_tags: Sequence[str],
        owner_id: int | None,
    ) -> _Batch:
        batch = _Batch(items=[], statuses=[], errors={}, pointer_prefix=pointer_prefix)
        extra = clean_tags(extra_tags) if extra_tags else []
        for index, ready in enumerate(items):
            if owner_id is not None and "owner_id" not in ready.references:
                ready.references["owner_id"] = owner_id
            if extra or ready.tags:
                ready.tags = clean_tags([*ready.tags, *extra])
            if ready.errors:
                batch.statuses.append("failed")
                batch.errors[index] = ready.errors
                batch.items.append(None)
            else:
                batch.statuses.append("unchanged")
                batch.items.append(ready)
        return batch

    async def _check_references(self, batch: _Batch) -> None:
        for column, kind in (("owner_id", "user"), ("stage_id", "stage")):
            wanted = sorted(
                {p.references[column] for _, p in batch.live() if p.references.get(column)}
            )
            if not wanted:
                continue
            if kind == "user":
                known = await user_service.existing_ids(self.session, wanted)
            else:
                known = await stage_service.existing_ids(self.session, wanted)
            for index, item in batch.live():
                value = item.references.get(column)
                if value is not None and value not in known:
                    batch.drop(
                        index,
                        "failed",
                        ItemError(
                            pointer=batch.pointer(index, column),
                            detail=f"No {kind} with id {value}.",
                            code="not_found",
                        ),
                    )

    # -- authorise: who the contacts go to ----------------------------------------------------

    def _authorise_owners(self, batch: _Batch) -> None:
        """Giving a contact to another user is a change to others' contacts."""
        if self.actor.can("contacts", Perm.EDIT_OTHERS):
            return
        for index, item in batch.live():
            owner = item.references.get("owner_id")
            if owner is not None and owner != self.actor.user_id:
                batch.drop(
                    index,
                    "refused",
                    ItemError(
                        pointer=batch.pointer(index, "owner_id"),
                        detail="You may only choose yourself.",
                        code="forbidden",
                    ),
                )

    # -- match: each item to an existing contact or to a contact the batch creates ------------

    async def _hold_back_erased(self, batch: _Batch, by_email: Mapping[str, int]) -> None:
        """Items that would bring back an address erased on request fail, unless the person
        opted in again with them (then the address comes off the suppression list)."""
        live = batch.live()
        candidates = sorted(
            {p.core["email"] for _, p in live if p.core.get("email")} - set(by_email)
        )
        erased = (
            await self.suppressions.suppressed(self.session, candidates) if candidates else set()
        )
        if not erased:
            return
        opted_in = {p.core["email"] for _, p in live if p.opted_in} & erased
        if opted_in:
            await self.suppressions.lift(self.session, sorted(opted_in), now=self.now)
        for index, item in live:
            email = item.core.get("email")
            if email in erased and email not in opted_in:
                batch.drop(
                    index,
                    "failed",
                    ItemError(pointer=batch.pointer(index, "email"), detail=ERASED, code="erased"),
                )

    async def _match(self, batch: _Batch) -> None:
        live = batch.live()
        emails = sorted({p.core["email"] for _, p in live if p.core.get("email")})
        by_email = await self.repo.ids_by_email(emails)
        await self._hold_back_erased(batch, by_email)
        live = batch.live()
        by_field: dict[str, dict[str, int]] = {}
        for spec in self.catalog.identifiers:
            if spec.is_core:
                continue
            values = sorted(
                {
                    str(p.custom[spec.alias])
                    for _, p in live
                    if p.custom.get(spec.alias) not in (None, "")
                }
            )
            by_field[spec.alias] = (
                await self.repo.ids_by_field(spec.alias, values) if values else {}
            )

        # Items that repeat a contact the batch creates are folded into it, in order.
        pending: dict[str, NewKey] = {}
        batch.targets = [None] * len(batch.items)
        for index, item in live:
            keys: list[tuple[str, str]] = []
            target: Target = None
            if item.core.get("email"):
                keys.append(("email", f"email:{item.core['email']}"))
                target = by_email.get(item.core["email"])
                if target is not None:
                    batch.matched_by[index] = "email"
            for alias, found in by_field.items():
                value = item.custom.get(alias)
                if value in (None, ""):
                    continue
                keys.append((alias, f"{alias}:{value}"))
                if target is None:
                    target = found.get(str(value))
                    if target is not None:
                        batch.matched_by[index] = alias
            if target is None:
                target = next((pending[k] for _, k in keys if k in pending), f"new:{index}")
                for _, key in keys:
                    pending.setdefault(key, target)
            batch.targets[index] = target

    # -- authorise: the existing contacts the actor may change --------------------------------

    async def _authorise_targets(self, batch: _Batch) -> dict[int, Contact]:
        """Load the matched contacts and refuse every item whose contact the actor may not
        change: seeing it is not enough, and not seeing it does not make it a new contact."""
        existing = sorted({t for t in batch.targets if isinstance(t, int)})
        current = await self.repo.rows_by_ids(existing)
        for index, target in enumerate(batch.targets):
            if not isinstance(target, int) or target not in current:
                continue
            owner = current[target].owner_id
            if not self.actor.can_on("contacts", Perm.EDIT_OWN, Perm.EDIT_OTHERS, owner):
                name = batch.matched_by.get(index, "email")
                where = name if name == "email" else f"fields/{name}"
                batch.drop(
                    index,
                    "refused",
                    ItemError(
                        pointer=batch.pointer(index, where), detail=REFUSED, code="forbidden"
                    ),
                )
        kept = {t for t in batch.targets if isinstance(t, int)}
        return {cid: contact for cid, contact in current.items() if cid in kept}

    # -- merge: fold each item into the row it writes ------------------------------------------

    def _merge_new(self, batch: _Batch, merged: _Merged) -> None:
        defaults = {
            s.alias: s.default_value for s in self.catalog.custom if s.default_value is not None
        }
        # Whoever sees only their own contacts makes contacts of their own.
        own = None if self.actor.can("contacts", Perm.VIEW_OTHERS) else self.actor.user_id
        blank = {
            **{c: None for c in CORE_COLUMNS},
            "owner_id": own,
            "stage_id": None,
            "points": 0,
            "is_anonymous": True,
            "created_at": self.now,
            "updated_at": self.now,
            "last_active_at": None,
            "version": 1,
        }
        for index, item in batch.live():
            target = batch.targets[index]
            if not isinstance(target, str):
                continue
            row = merged.new_rows.get(target)
            if row is None:
                row = merged.new_rows[target] = {**blank, "fields": dict(defaults)}
            row.update(item.core)
            row.update(
                {k: v for k, v in item.references.items() if v is not None or k != "owner_id"}
            )
            if item.custom:
                row["fields"] = merge_fields(row["fields"], item.custom)
            if item.tags:
                merged.new_tags.setdefault(target, []).extend(item.tags)
        for row in merged.new_rows.values():
            row["is_anonymous"] = is_anonymous(row, row["fields"], self.catalog)

    async def _merge_existing(
        self,
        batch: _Batch,
        current: dict[int, Contact],
        merged: _Merged,
        fill_only: frozenset[str],
    ) -> None:
        """What really changes on each existing contact: columns, custom fields, new tags."""
        tags_now = {
            cid: {t.lower() for t in names}
            for cid, names in (await self.repo.tags_of(sorted(current))).items()
        }
        for index, item in batch.live():
            target = batch.targets[index]
            if not isinstance(target, int) or target not in current:
                continue
            contact = current[target]
            row = merged.updates.setdefault(target, {})
            changes = merged.changes.setdefault(target, {})
            if _merge_columns(contact, item, row, changes, fill_only) | _merge_custom(
                contact, item, row, changes, fill_only
            ):
                merged.changed.add(index)
            have = tags_now.setdefault(target, set())
            for name in item.tags:
                if name.lower() not in have:
                    have.add(name.lower())
                    merged.tags_added.setdefault(target, []).append(name)
                    merged.changed.add(index)
        for contact_id, names in merged.tags_added.items():
            merged.changes[contact_id]["tags_added"] = sorted(names, key=str.lower)

    # -- write: inserts, updates, tags and timeline, each in bulk ------------------------------

    async def _write(self, merged: _Merged, current: dict[int, Contact]) -> dict[NewKey, int]:
        new_ids = dict(
            zip(
                merged.new_rows,
                await self.repo.insert_many(list(merged.new_rows.values())),
                strict=True,
            )
        )
        update_rows = []
        for contact_id, row in merged.updates.items():
            if not row:
                continue
            contact = current[contact_id]
            state = {c: row.get(c, getattr(contact, c)) for c in CORE_COLUMNS}
            row["is_anonymous"] = is_anonymous(
                state, row.get("fields", contact.fields), self.catalog
            )
            update_rows.append(
                {"id": contact_id, **row, "updated_at": self.now, "version": contact.version + 1}
            )
        await self.repo.update_many(update_rows)

        all_tags = {
            n for names in [*merged.new_tags.values(), *merged.tags_added.values()] for n in names
        }
        tag_ids = await self.repo.ensure_tags(all_tags, self.now) if all_tags else {}
        pairs = [
            (new_ids[key], tag_ids[n.lower()])
            for key, names in merged.new_tags.items()
            for n in names
        ]
        pairs += [
            (cid, tag_ids[n.lower()]) for cid, names in merged.tags_added.items() for n in names
        ]
        await self.repo.add_tags(pairs)
        updated = {r["id"] for r in update_rows}
        await self.repo.touch(sorted(set(merged.tags_added) - updated), self.now)
        await self.repo.record_activity(
            [
                {
                    "contact_id": cid,
                    "occurred_at": self.now,
                    "kind": "updated",
                    "details": {"changes": changes},
                    "source_type": self.actor.type,
                    "source_id": self.actor.user_id,
                    "actor_name": self.actor.name,
                }
                for cid, changes in merged.changes.items()
                if changes
            ]
        )
        return new_ids

    # -- report ------------------------------------------------------------------------------

    def _report(
        self, batch: _Batch, new_ids: dict[NewKey, int], changed: set[int]
    ) -> UpsertOutcome:
        statuses = batch.statuses
        outcome = UpsertOutcome(statuses=statuses, ids=[None] * len(statuses), errors=batch.errors)
        for index, target in enumerate(batch.targets):
            if isinstance(target, str):
                outcome.ids[index] = new_ids[target]
                statuses[index] = "created" if target == f"new:{index}" else "updated"
            elif target is not None:
                outcome.ids[index] = target
                statuses[index] = "updated" if index in changed else "unchanged"
        counts = Counter(statuses)
        outcome.created, outcome.updated = counts["created"], counts["updated"]
        outcome.unchanged, outcome.refused = counts["unchanged"], counts["refused"]
        outcome.failed = counts["failed"]
        return outcome

    async def _audit(self, outcome: UpsertOutcome) -> None:
        if not (outcome.created or outcome.updated):
            return
        await audit.record(
            self.session,
            actor=self.actor,
            action=AuditAction.IMPORT,
            entity_type="contact",
            entity_id=None,
            entity_name="Batch upsert",
            changes={
                "created": {"old": None, "new": outcome.created},
                "updated": {"old": None, "new": outcome.updated},
            },
            now=self.now,
        )


def _merge_columns(
    contact: Contact,
    item: Prepared,
    row: dict[str, Any],
    changes: dict[str, Any],
    fill_only: frozenset[str],
) -> bool:
    changed = False
    for column, value in {**item.core, **item.references}.items():
        now_value = row.get(column, getattr(contact, column))
        if column in fill_only and now_value not in (None, ""):
            continue
        if now_value != value:
            row[column] = value
            changes[column] = {"old": getattr(contact, column), "new": value}
            changed = True
    return changed


def _merge_custom(
    contact: Contact,
    item: Prepared,
    row: dict[str, Any],
    changes: dict[str, Any],
    fill_only: frozenset[str],
) -> bool:
    base = row.get("fields", contact.fields)
    custom = {
        alias: value
        for alias, value in item.custom.items()
        if alias not in fill_only or base.get(alias) in (None, "")
    }
    merged = merge_fields(base, custom)
    if merged == base:
        return False
    for alias in custom:
        if base.get(alias) != merged.get(alias):
            changes[f"fields.{alias}"] = {
                "old": contact.fields.get(alias),
                "new": merged.get(alias),
            }
    row["fields"] = merged
    return True
