"""Stages: the ordered lifecycle a business defines (lead, MQL, customer, ...)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from trellis.actor import Actor, Perm
from trellis.db.models import Stage
from trellis.domains.stages.repository import StageRepository
from trellis.domains.stages.schemas import StageCreate, StageUpdate
from trellis.errors import Conflict, FieldError, NotFound
from trellis.kit.crud import AuditedCrud, EntityKind


def _snapshot(stage: Stage) -> dict[str, Any]:
    return {"name": stage.name, "description": stage.description, "position": stage.position}


STAGES: AuditedCrud[Stage] = AuditedCrud(
    EntityKind(
        resource="stages",
        entity_type="stage",
        label="stage",
        repository=StageRepository,
        snapshot=_snapshot,
        owner=None,
    )
)


class StageService:
    crud = STAGES

    @staticmethod
    def _require_view(actor: Actor) -> None:
        # Whoever may see contacts sees the names of their stages.
        if not (actor.can("stages", Perm.VIEW_OTHERS) or actor.can_view_any("contacts")):
            actor.require("stages", Perm.VIEW_OTHERS)

    async def list_all(self, session: AsyncSession, *, actor: Actor) -> list[Stage]:
        self._require_view(actor)
        return await StageRepository(session).ordered()

    async def existing_ids(self, session: AsyncSession, ids: Sequence[int]) -> set[int]:
        return await self.crud.existing_ids(session, ids)

    async def get(self, session: AsyncSession, stage_id: int, *, actor: Actor) -> Stage:
        self._require_view(actor)
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
        return await self.crud.create(session, stage, actor=actor, now=now)

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
        stage = await self.crud.for_edit(session, stage_id, actor=actor)

        async def apply(stage: Stage) -> None:
            changes = data.model_dump(exclude_unset=True, exclude_none=True)
            if "name" in changes:
                await self._unique(StageRepository(session), changes["name"], stage.id)
            for name, value in changes.items():
                setattr(stage, name, value)

        await self.crud.update(
            session, stage, actor=actor, now=now, expected_version=expected_version, apply=apply
        )
        return stage

    async def delete(
        self, session: AsyncSession, stage_id: int, *, actor: Actor, now: datetime
    ) -> None:
        # Contacts in this stage keep existing with no stage (the foreign key sets NULL).
        stage = await self.crud.for_delete(session, stage_id, actor=actor)
        await self.crud.delete(session, stage, actor=actor, now=now)


stage_service = StageService()
