"""The audit log: an append-only record of every write that goes through a service."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from trellis.actor import Actor, Perm
from trellis.db.models import AuditEntry
from trellis.db.pagination import Page, PageRequest
from trellis.domains.audit.repository import AuditFilter, AuditRepository


class AuditAction(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    PUBLISH = "publish"
    UNPUBLISH = "unpublish"
    IMPORT = "import"
    EXPORT = "export"
    MEMBERSHIP = "membership"
    LOGIN = "login"


# Keys that identify an item inside a nested list, in order of preference.
_ITEM_KEYS = ("uuid", "key", "id")
_REDACTED = "[redacted]"


def _item_key(item: Any) -> Any:
    if isinstance(item, Mapping):
        for key in _ITEM_KEYS:
            if key in item:
                return item[key]
    return None


def _is_keyed_list(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(_item_key(item) is not None for item in value)
    )


def diff(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    *,
    redact: Sequence[str] = (),
) -> dict[str, Any]:
    """Field-by-field changes between two snapshots of an entity.

    Plain fields give ``{"old", "new"}``. Lists of keyed items (a campaign's events, say) give
    ``{"added", "removed", "changed": [{"key", "changes"}]}``; nested mappings recurse.
    Redacted fields say that they changed without saying what to.
    """
    changes: dict[str, Any] = {}
    for field in sorted(set(old) | set(new)):
        before, after = old.get(field), new.get(field)
        if before == after:
            continue
        if field in redact:
            changes[field] = {"old": _REDACTED, "new": _REDACTED}
        elif (
            (_is_keyed_list(before) or before in (None, []))
            and (_is_keyed_list(after) or after in (None, []))
            and (_is_keyed_list(before) or _is_keyed_list(after))
        ):
            changes[field] = _diff_items(before or [], after or [])
        elif isinstance(before, Mapping) and isinstance(after, Mapping):
            changes[field] = {"changes": diff(before, after)}
        else:
            changes[field] = {"old": before, "new": after}
    return changes


def _diff_items(before: list[Any], after: list[Any]) -> dict[str, Any]:
    old_by_key = {_item_key(i): i for i in before}
    new_by_key = {_item_key(i): i for i in after}
    result: dict[str, Any] = {
        "added": [new_by_key[k] for k in new_by_key if k not in old_by_key],
        "removed": [old_by_key[k] for k in old_by_key if k not in new_by_key],
        "changed": [
            {"key": k, "changes": diff(old_by_key[k], new_by_key[k])}
            for k in new_by_key
            if k in old_by_key and old_by_key[k] != new_by_key[k]
        ],
    }
    return {k: v for k, v in result.items() if v}


class AuditService:
    async def record(
        self,
        session: AsyncSession,
        *,
        actor: Actor,
        action: AuditAction | str,
        entity_type: str,
        entity_id: int | None,
        entity_name: str = "",
        changes: Mapping[str, Any] | None = None,
        now: datetime,
    ) -> AuditEntry:
        entry = AuditEntry(
            occurred_at=now,
            actor_type=actor.type,
            actor_id=actor.user_id,
            actor_name=actor.name[:320],
            action=str(action),
            entity_type=entity_type,
            entity_id=entity_id,
            entity_name=entity_name[:320],
            changes=dict(changes or {}),
            ip=actor.ip,
            user_agent=(actor.user_agent or "")[:512] or None,
        )
        AuditRepository(session).add(entry)
        await session.flush()
        return entry

    async def list_page(
        self, session: AsyncSession, *, actor: Actor, filters: AuditFilter, page: PageRequest
    ) -> Page[AuditEntry]:
        actor.require("audit_log", Perm.VIEW_OTHERS)
        return await AuditRepository(session).list_page(filters=filters, page=page)


audit = AuditService()
