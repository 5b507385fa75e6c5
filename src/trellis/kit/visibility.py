"""Who may see which rows: the permission model applied to queries.

A resource with owners grants ``view_others`` (every row) or ``view_own`` (the rows the actor
owns). Lists, counts, searches, exports and references all filter with the same clause, so
that nothing an actor may not open by id shows up anywhere else.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import false
from sqlalchemy.sql.elements import ColumnElement

from trellis.actor import Actor, Perm


def owned_rows(actor: Actor, resource: str, owner_column: Any) -> ColumnElement[bool] | None:
    """The clause that limits ``resource``'s rows to those ``actor`` may see: None for all of
    them, the actor's own rows with ``view_own`` only, and no rows with neither."""
    if actor.can(resource, Perm.VIEW_OTHERS):
        return None
    if actor.can(resource, Perm.VIEW_OWN) and actor.user_id is not None:
        owned: ColumnElement[bool] = owner_column == actor.user_id
        return owned
    return false()


def editable_rows(actor: Actor, resource: str, owner_column: Any) -> ColumnElement[bool] | None:
    """The rows ``actor`` may change: all with ``edit_others``, the own ones with ``edit_own``,
    none without either."""
    if actor.can(resource, Perm.EDIT_OTHERS):
        return None
    if actor.can(resource, Perm.EDIT_OWN) and actor.user_id is not None:
        owned: ColumnElement[bool] = owner_column == actor.user_id
        return owned
    return false()


def may_see(actor: Actor, resource: str, owner_id: int | None) -> bool:
    """The same rule for one row already loaded."""
    return actor.can_on(resource, Perm.VIEW_OWN, Perm.VIEW_OTHERS, owner_id)
