"""One audited path for every create, update and delete of a user-managed entity (emails,
forms, landing pages, assets, segments, campaigns, companies, stages, projects):

- who may see it: the visibility clause of :mod:`trellis.kit.visibility`, the same for one
  entity, a list, a count or a reference;
- who may change it: create, edit own/others, delete own/others, publish;
- the write itself: version check, the domain's changes and validation, projects, the version
  and ``updated_at``, and one audit entry naming what changed.

A domain describes its entity once (:class:`EntityKind`) and calls :class:`AuditedCrud`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import and_, false
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from trellis.actor import Actor, Perm
from trellis.db.pagination import Page, PageRequest
from trellis.domains.audit.service import AuditAction, audit, diff
from trellis.domains.projects.links import ProjectableType, project_links
from trellis.errors import NotFound
from trellis.kit.repository import EntityRepository
from trellis.kit.versions import check_version
from trellis.kit.visibility import owned_rows

M = TypeVar("M")

Snapshot = Callable[[Any], dict[str, Any]]


@dataclass(frozen=True)
class EntityKind(Generic[M]):
    resource: str  # the permission resource: "emails"
    entity_type: str  # the audit log's and the project links' name: "email"
    label: str  # in messages: "No email with id 5."
    repository: type[EntityRepository[M]]
    # What the audit log compares before and after a change.
    snapshot: Snapshot
    # The column naming the user who owns a row (None: the resource has no "own").
    owner: str | None = "created_by_id"
    projectable: bool = False
    publishable: bool = False
    # Rows hidden even from those who may view others' (a private segment): a clause over
    # the model and the same test for a loaded row.
    private: Callable[[Actor], ColumnElement[bool] | None] | None = None
    private_row: Callable[[Actor, Any], bool] | None = None
    # A snapshot that reads other rows (a campaign's steps), used instead of ``snapshot``.
    read_snapshot: Callable[[AsyncSession, Any], Awaitable[dict[str, Any]]] | None = None


class AuditedCrud(Generic[M]):
    def __init__(self, kind: EntityKind[M]) -> None:
        self.kind = kind

    def repository(self, session: AsyncSession) -> EntityRepository[M]:
        return self.kind.repository(session)

    # -- who may see what -----------------------------------------------------------------

    def owner_of(self, entity: M) -> int | None:
        if self.kind.owner is None:
            return None
        owner: int | None = getattr(entity, self.kind.owner)
        return owner

    def visible(self, actor: Actor) -> ColumnElement[bool] | None:
        """The rows ``actor`` may see, as a clause over the model (None: all)."""
        kind = self.kind
        if kind.owner is None:
            return None if actor.can_view_any(kind.resource) else false()
        owned = owned_rows(actor, kind.resource, getattr(kind.repository.model, kind.owner))
        private = kind.private(actor) if kind.private is not None else None
        if owned is None or private is None:
            return private if owned is None else owned
        return and_(owned, private)

    def may_see(self, actor: Actor, entity: M) -> bool:
        kind = self.kind
        if kind.private_row is not None and not kind.private_row(actor, entity):
            return False
        if kind.owner is None:
            return actor.can_view_any(kind.resource)
        return actor.can_on(kind.resource, Perm.VIEW_OWN, Perm.VIEW_OTHERS, self.owner_of(entity))

    def require_view_any(self, actor: Actor) -> None:
        actor.require_view_any(self.kind.resource)

    async def get(
        self, session: AsyncSession, entity_id: int, *, actor: Actor, lock: bool = False
    ) -> M:
        """The entity, if ``actor`` may see it; to anyone else it does not exist."""
        self.require_view_any(actor)
        repo = self.repository(session)
        entity = await (repo.lock(entity_id) if lock else repo.get(entity_id))
        if entity is None or not self.may_see(actor, entity):
            raise NotFound(f"No {self.kind.label} with id {entity_id}.")
        return entity

    async def for_edit(
        self, session: AsyncSession, entity_id: int, *, actor: Actor, lock: bool = False
    ) -> M:
        """The entity ``actor`` is about to change (locked against concurrent writers when
        the change reads other rows first)."""
        entity = await self.get(session, entity_id, actor=actor, lock=lock)
        actor.require_on(self.kind.resource, Perm.EDIT_OWN, Perm.EDIT_OTHERS, self.owner_of(entity))
        return entity

    async def for_delete(self, session: AsyncSession, entity_id: int, *, actor: Actor) -> M:
        entity = await self.get(session, entity_id, actor=actor)
        actor.require_on(
            self.kind.resource, Perm.DELETE_OWN, Perm.DELETE_OTHERS, self.owner_of(entity)
        )
        return entity

    async def list_page(
        self,
        session: AsyncSession,
        *,
        actor: Actor,
        page: PageRequest,
        q: str | None = None,
        project_id: int | None = None,
        where: Sequence[ColumnElement[bool] | None] = (),
    ) -> Page[M]:
        self.require_view_any(actor)
        return await self.repository(session).list_page(
            page=page, q=q, project_id=project_id, where=[self.visible(actor), *where]
        )

    async def existing_ids(
        self, session: AsyncSession, ids: Sequence[int], *, actor: Actor | None = None
    ) -> set[int]:
        """The ids that exist (and that ``actor`` may see, when given: a reference to what
        the actor cannot see is a reference to nothing)."""
        where = self.visible(actor) if actor is not None else None
        return await self.repository(session).existing_ids(ids, where=where)

    async def names(
        self, session: AsyncSession, ids: Sequence[int], actor: Actor | None = None
    ) -> dict[int, str]:
        """Names by id, of what ``actor`` may see when given (a picker, a project's page)."""
        where = self.visible(actor) if actor is not None else None
        return await self.repository(session).names(ids, where=where)

    def projectable(self, label: str) -> ProjectableType:
        """This entity as the projects see it."""
        return ProjectableType(self.kind.entity_type, label, self.kind.resource, self.names)

    # -- writes ---------------------------------------------------------------------------

    async def create(
        self,
        session: AsyncSession,
        entity: M,
        *,
        actor: Actor,
        now: datetime,
        projects: Sequence[int] | None = None,
        pointer: str = "/projects",
        after_insert: Callable[[M], Awaitable[None]] | None = None,
    ) -> M:
        """Insert ``entity``; ``after_insert`` adds what needs its id (a campaign's steps)
        before the audit entry is written."""
        kind = self.kind
        actor.require(kind.resource, Perm.CREATE)
        if kind.publishable and getattr(entity, "is_published", False):
            actor.require(kind.resource, Perm.PUBLISH)
        self.repository(session).add(entity)
        await session.flush()
        if after_insert is not None:
            await after_insert(entity)
        changes = diff({}, await self._snapshot(session, entity))
        if projects:
            old, new = await self._set_projects(session, entity, projects, actor, now, pointer)
            changes["projects"] = {"old": old, "new": new}
        await self._record(session, AuditAction.CREATE, entity, changes, actor=actor, now=now)
        return entity

    async def update(
        self,
        session: AsyncSession,
        entity: M,
        *,
        actor: Actor,
        now: datetime,
        expected_version: int | None,
        apply: Callable[[M], Awaitable[None]],
        projects: Sequence[int] | None = None,
    ) -> dict[str, Any]:
        """Change ``entity`` (loaded with :meth:`for_edit`) with ``apply``, which validates
        what it changes; returns the changes, audited and versioned when there are any."""
        kind = self.kind
        check_version(entity, expected_version)
        before = await self._snapshot(session, entity)
        was_published = getattr(entity, "is_published", None)
        await apply(entity)
        publishing = getattr(entity, "is_published", None) != was_published
        if kind.publishable and publishing and not actor.can(kind.resource, Perm.PUBLISH):
            # Nothing of the refused change stays in the session, whatever the caller does.
            session.expire(entity)
            actor.require(kind.resource, Perm.PUBLISH)
        changes = diff(before, await self._snapshot(session, entity))
        if projects is not None:
            old, new = await self._set_projects(session, entity, projects, actor, now, "/projects")
            if old != new:
                changes["projects"] = {"old": old, "new": new}
        if changes:
            action = AuditAction.UPDATE
            if kind.publishable and set(changes) == {"is_published"}:
                published = getattr(entity, "is_published", False)
                action = AuditAction.PUBLISH if published else AuditAction.UNPUBLISH
            await self.touch(session, entity, changes, actor=actor, now=now, action=action)
        return changes

    async def touch(
        self,
        session: AsyncSession,
        entity: M,
        changes: Mapping[str, Any],
        *,
        actor: Actor,
        now: datetime,
        action: AuditAction = AuditAction.UPDATE,
    ) -> None:
        """A change made outside :meth:`update` (publishing, say): versioned and audited."""
        entity.version += 1  # type: ignore[attr-defined]
        entity.updated_at = now  # type: ignore[attr-defined]
        await session.flush()
        await self._record(session, action, entity, dict(changes), actor=actor, now=now)

    async def delete(
        self,
        session: AsyncSession,
        entity: M,
        *,
        actor: Actor,
        now: datetime,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        """Delete ``entity`` (loaded with :meth:`for_delete`) and its project links."""
        kind = self.kind
        snapshot = await self._snapshot(session, entity)
        entity_id: int = entity.id  # type: ignore[attr-defined]
        name = self._name(entity)
        if kind.projectable:
            await project_links.forget_entity(
                session, entity_type=kind.entity_type, entity_id=entity_id
            )
        await self.repository(session).delete(entity)
        await session.flush()
        await audit.record(
            session,
            actor=actor,
            action=AuditAction.DELETE,
            entity_type=kind.entity_type,
            entity_id=entity_id,
            entity_name=name,
            changes={**diff(snapshot, {}), **(extra or {})},
            now=now,
        )

    # -- helpers ----------------------------------------------------------------------------

    async def _snapshot(self, session: AsyncSession, entity: M) -> dict[str, Any]:
        if self.kind.read_snapshot is not None:
            return await self.kind.read_snapshot(session, entity)
        return self.kind.snapshot(entity)

    async def _set_projects(
        self,
        session: AsyncSession,
        entity: M,
        projects: Sequence[int],
        actor: Actor,
        now: datetime,
        pointer: str,
    ) -> tuple[list[str], list[str]]:
        return await project_links.set_entity_projects(
            session,
            entity_type=self.kind.entity_type,
            entity_id=entity.id,  # type: ignore[attr-defined]
            project_ids=projects,
            actor=actor,
            now=now,
            pointer=pointer,
        )

    async def _record(
        self,
        session: AsyncSession,
        action: AuditAction,
        entity: M,
        changes: dict[str, Any],
        *,
        actor: Actor,
        now: datetime,
    ) -> None:
        await audit.record(
            session,
            actor=actor,
            action=action,
            entity_type=self.kind.entity_type,
            entity_id=entity.id,  # type: ignore[attr-defined]
            entity_name=self._name(entity),
            changes=changes,
            now=now,
        )

    @staticmethod
    def _name(entity: Any) -> str:
        return str(getattr(entity, "name", "") or "")
