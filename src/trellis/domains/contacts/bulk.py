"""Changes to many contacts in a few statements: what campaign steps do to contact data.

Values are checked once for the whole batch (they are the same for every contact), then written
set-based. Every change bumps ``updated_at`` and lands on each contact's timeline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from trellis.domains.contacts.bulk_repository import ContactBulkRepository
from trellis.domains.contacts.repository import ContactRepository
from trellis.domains.contacts.values import CORE_COLUMNS
from trellis.domains.fields.service import field_service
from trellis.domains.fields.types import InvalidValue, coerce_core


class ContactBulkService:
    async def update_fields(
        self,
        session: AsyncSession,
        *,
        contact_ids: Sequence[int],
        values: Mapping[str, Any],
        source_type: str,
        source_id: int | None,
        now: datetime,
        timeline: bool = True,
    ) -> dict[int, str]:
        """Set the same field values on many contacts. Returns a warning per contact for values
        that could not be applied (an unknown alias, a value of the wrong type); the valid
        values are still written. Email, which identifies a contact, cannot be set in bulk."""
        catalog = await field_service.catalog(session)
        core: dict[str, Any] = {}
        custom: dict[str, Any] = {}
        clear: list[str] = []
        problems: list[str] = []
        for alias, value in values.items():
            spec = catalog.get(alias)
            if spec is None:
                problems.append(f"{alias}: no such field")
                continue
            if alias == "email":
                problems.append("email: identifies the contact and cannot be set by a step")
                continue
            try:
                coerced = coerce_core(alias, value) if spec.is_core else spec.coerce(value)
            except InvalidValue as exc:
                problems.append(f"{alias}: {exc}")
                continue
            if spec.is_core:
                core[alias] = coerced
            elif coerced is None:
                clear.append(alias)
            else:
                custom[alias] = coerced
        repo = ContactBulkRepository(session)
        if core:
            await repo.set_columns(contact_ids, core, now=now)
        if custom or clear:
            await repo.set_custom(contact_ids, custom, clear, now=now)
        if (core or custom or clear) and timeline:
            await ContactRepository(session).record_activity(
                [
                    {
                        "contact_id": c,
                        "occurred_at": now,
                        "kind": "updated",
                        "details": {
                            "changes": {
                                **{k: {"new": v} for k, v in core.items()},
                                **{f"fields.{k}": {"new": v} for k, v in custom.items()},
                                **{f"fields.{k}": {"new": None} for k in clear},
                            }
                        },
                        "source_type": source_type,
                        "source_id": source_id,
                        "actor_name": None,
                    }
                    for c in contact_ids
                ]
            )
        warning = "; ".join(problems)
        return dict.fromkeys(contact_ids, warning) if warning else {}

    async def set_reference(
        self,
        session: AsyncSession,
        *,
        contact_ids: Sequence[int],
        column: str,
        value: int | None,
        source_type: str,
        source_id: int | None,
        now: datetime,
        timeline: bool = True,
    ) -> None:
        assert column in ("owner_id", "stage_id")
        await ContactBulkRepository(session).set_columns(contact_ids, {column: value}, now=now)
        kind = "owner_changed" if column == "owner_id" else "stage_changed"
        if timeline:
            await ContactRepository(session).record_activity(
                [
                    {
                        "contact_id": c,
                        "occurred_at": now,
                        "kind": kind,
                        "details": {column: value},
                        "source_type": source_type,
                        "source_id": source_id,
                        "actor_name": None,
                    }
                    for c in contact_ids
                ]
            )

    async def delete(self, session: AsyncSession, *, contact_ids: Sequence[int]) -> None:
        await ContactBulkRepository(session).delete(contact_ids)

    async def anonymise(
        self,
        session: AsyncSession,
        *,
        contact_ids: Sequence[int],
        fields: Sequence[str],
        source_type: str,
        source_id: int | None,
        now: datetime,
        timeline: bool = True,
    ) -> None:
        """Erase fields (GDPR): core fields become NULL, custom values are removed. Erasing the
        email makes the contact anonymous; its history stays, detached from the identity."""
        catalog = await field_service.catalog(session)
        core = {f: None for f in fields if f in CORE_COLUMNS}
        custom = [f for f in fields if f not in CORE_COLUMNS and catalog.get(f) is not None]
        repo = ContactBulkRepository(session)
        if core:
            if "email" in core:
                core_values: dict[str, Any] = {**core, "is_anonymous": True}
            else:
                core_values = dict(core)
            await repo.set_columns(contact_ids, core_values, now=now)
        if custom:
            await repo.set_custom(contact_ids, {}, custom, now=now)
        if timeline:
            await ContactRepository(session).record_activity(
                [
                    {
                        "contact_id": c,
                        "occurred_at": now,
                        "kind": "anonymised",
                        "details": {"fields": sorted(fields)},
                        "source_type": source_type,
                        "source_id": source_id,
                        "actor_name": None,
                    }
                    for c in contact_ids
                ]
            )

    async def touch_activity(
        self, session: AsyncSession, *, contact_ids: Sequence[int], now: datetime
    ) -> None:
        """The contact just did something: last active now (not a change of its data)."""
        await ContactBulkRepository(session).set_last_active(contact_ids, now=now)

    async def values(
        self, session: AsyncSession, *, contact_ids: Sequence[int]
    ) -> dict[int, dict[str, Any]]:
        """Every core and custom value of each contact, by alias (for tokens)."""
        return await ContactBulkRepository(session).values(contact_ids)


contact_bulk_service = ContactBulkService()
