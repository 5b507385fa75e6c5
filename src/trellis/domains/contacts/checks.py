"""What a single contact write must satisfy before it happens: valid fields, references that
exist, an owner the actor may give the contact to, and identifiers no other contact has."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from trellis.actor import Actor, Perm
from trellis.domains.contacts.repository import ContactRepository
from trellis.domains.contacts.schemas import ItemError
from trellis.domains.fields.service import FieldCatalog
from trellis.domains.stages.service import stage_service
from trellis.domains.users.service import user_service
from trellis.errors import Conflict, FieldError, PermissionDenied, ValidationFailed
from trellis.kit.visibility import may_see


def raise_item_errors(errors: Sequence[ItemError], message: str) -> None:
    """The per-field problems of a prepared contact, as one ValidationFailed."""
    if errors:
        raise ValidationFailed(message, [FieldError(e.pointer, e.detail, e.code) for e in errors])


async def _existing(session: AsyncSession, kind: str, ids: Sequence[int]) -> set[int]:
    if kind == "user":
        return await user_service.existing_ids(session, ids)
    return await stage_service.existing_ids(session, ids)


def check_owner(actor: Actor, owner_id: int | None) -> None:
    """Giving a contact to another user is a change to others' contacts."""
    mine = owner_id is None or owner_id == actor.user_id
    if not mine and not actor.can("contacts", Perm.EDIT_OTHERS):
        raise PermissionDenied(
            "Only who may edit others' contacts can give a contact to another user.",
            [FieldError("/owner_id", "You may only choose yourself.", "forbidden")],
        )


async def check_references(
    session: AsyncSession, references: Mapping[str, Any], pointer: str = ""
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


async def ensure_unique_identifiers(
    session: AsyncSession,
    catalog: FieldCatalog,
    core: Mapping[str, Any],
    custom: Mapping[str, Any],
    *,
    except_id: int | None,
    actor: Actor,
) -> None:
    repo = ContactRepository(session)
    taken: list[tuple[int, str, FieldError]] = []
    if core.get("email"):
        found = (await repo.ids_by_email([core["email"]])).get(core["email"])
        if found is not None and found != except_id:
            error = FieldError("/email", "Another contact has this email.", "duplicate")
            taken.append((found, f"the email {core['email']}", error))
    for spec in catalog.identifiers:
        if taken or spec.is_core or custom.get(spec.alias) in (None, ""):
            continue
        value = str(custom[spec.alias])
        found = (await repo.ids_by_field(spec.alias, [value])).get(value)
        if found is not None and found != except_id:
            error = FieldError(
                f"/fields/{spec.alias}", "Another contact has this value.", "duplicate"
            )
            taken.append((found, f"{spec.label} {value}", error))
    if not taken:
        return
    found, what, error = taken[0]
    # The other contact's id only for whoever may open it: to anyone else the id would
    # name a contact they may not see (and a handle to probe it with).
    holder = (await repo.rows_by_ids([found])).get(found)
    if holder is not None and may_see(actor, "contacts", holder.owner_id):
        raise Conflict(
            f"Contact {found} already has {what}.", [error], extra={"existing_id": found}
        )
    raise Conflict(f"Another contact already has {what}.", [error])
