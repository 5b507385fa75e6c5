"""Stages: the ordered lifecycle a business defines (lead, MQL, customer, ...)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from trellis.actor import Actor, Perm
from trellis.db.models import Stage
from trellis.domains.audit.service import AuditAction, audit, diff
from trellis.domains.stages.repository import StageRepository
from trellis.domains.stages.schemas import StageCreate, StageUpdate
from trellis.domains.users.service import check_version
from trellis.errors import Conflict, FieldError, NotFound


def _snapshot(stage: Stage) -> dict[str, Any]:
    return {"name": stage.name, "description": stage.description, "position": stage.position}


class StageService:
    async def list_all(self, session: AsyncSession, *, actor: Actor) -> list[Stage]:
        if not (actor.can("stages", Perm.VIEW_OTHERS) or actor.can_view_any("contacts")):
            actor.require("stages", Perm.VIEW_OTHERS)
        return await StageRepository(session).ordered()

    async def existing_ids(self, session: AsyncSession, ids: Sequence[int]) -> set[int]:
        return await StageRepository(session).existing_ids(ids)

    async def get(self, session: AsyncSession, stage_id: int, *, actor: Actor) -> Stage:
        if not (actor.can("stages", Perm.VIEW_OTHERS) or actor.can_view_any("contacts")):
            actor.require("stages", Perm.VIEW_OTHERS)
        stage = await StageRepository(session).get(stage_id)
        if stage is None:
            raise NotFound(f"No stage with id {stage_id}.")
        return stage

    async def _unique(self, repo: StageRepository, name: str, except_id: int | None = None) -> None:
        existing = await repo.by_name(name)
        if existing is not None and existing.id != except_id:
            raise Conflict(
                f"A stage named {name!r} exists.",
                [FieldError("/name", "This name is taken.", "duplicate")],
            )

    async def create(
        self, session: AsyncSession, *, data: StageCreate, actor: Actor, now: datetime
    ) -> Stage:
        actor.require("stages", Perm.CREATE)
        repo = StageRepository(session)
        await self._unique(repo, data.name)
        position = data.position if data.position is not None else await repo.next_position()
        stage = Stage(
            name=data.name,
            description=data.description,
            position=position,
            created_at=now,
            updated_at=now,
        )
        repo.add(stage)
        await session.flush()
        await audit.record(
            session,
            actor=actor,
            action=AuditAction.CREATE,
            entity_type="stage",
            entity_id=stage.id,
            entity_name=stage.name,
            changes=diff({}, _snapshot(stage)),
            now=now,
        )
        return stage

    async def update(
        self,
        session: AsyncSession,
        stage_id: int,
        *,
        data: StageUpdate,
        actor: Actor,
        now: datetime,
        expected_version: int | None,
    ) -> Stage:
        actor.require("stages", Perm.EDIT_OTHERS)
        repo = StageRepository(session)
        stage = await repo.get(stage_id)
        if stage is None:
            raise NotFound(f"No stage with id {stage_id}.")
        check_version(stage, expected_version)
        before = _snapshot(stage)
        changes = data.model_dump(exclude_unset=True, exclude_none=True)
        if "name" in changes:
            await self._unique(repo, changes["name"], stage.id)
        for name, value in changes.items():
            setattr(stage, name, value)
        after = _snapshot(stage)
        if after != before:
            stage.version += 1
            stage.updated_at = now
            await session.flush()
            await audit.record(
                session,
                actor=actor,
                action=AuditAction.UPDATE,
                entity_type="stage",
                entity_id=stage.id,
                entity_name=stage.name,
                changes=diff(before, after),
                now=now,
            )
        return stage

    async def delete(
        self, session: AsyncSession, stage_id: int, *, actor: Actor, now: datetime
    ) -> None:
        actor.require("stages", Perm.DELETE_OTHERS)
        repo = StageRepository(session)
        stage = await repo.get(stage_id)
        if stage is None:
            raise NotFound(f"No stage with id {stage_id}.")
        snapshot = _snapshot(stage)
        # Contacts in this stage keep existing with no stage (the foreign key sets NULL).
        await repo.delete(stage)
        await session.flush()
        await audit.record(
            session,
            actor=actor,
            action=AuditAction.DELETE,
            entity_type="stage",
            entity_id=stage_id,
            entity_name=snapshot["name"],
            changes=diff(snapshot, {}),
            now=now,
        )


stage_service = StageService()
