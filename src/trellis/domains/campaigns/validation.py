"""Checking a campaign document: the graph, each step's settings and references, timings
and sources, every problem pointing at the event and field it is about."""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any, Protocol

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from trellis.actor import Actor
from trellis.domains.assets.service import asset_service
from trellis.domains.campaigns.core import CAMPAIGNS, MIN_SELF_ADD_DELAY, CampaignCore, timing_of
from trellis.domains.campaigns.ports import resolve_field_types
from trellis.domains.campaigns.schemas import (
    CampaignWrite,
    SourceDoc,
)
from trellis.domains.companies.service import company_service
from trellis.domains.emails.service import email_service
from trellis.domains.fields.service import field_service
from trellis.domains.fields.types import FieldType
from trellis.domains.forms.service import form_service
from trellis.domains.landing_pages.service import page_service
from trellis.domains.segments.service import segment_service
from trellis.domains.stages.service import stage_service
from trellis.domains.users.service import user_service
from trellis.engine.graph import Graph, Node, Problem, TypeInfo, validate
from trellis.engine.timing import Mode, Timing
from trellis.errors import (
    FieldError,
    ValidationFailed,
    json_pointer,
)


class _ExistingIds(Protocol):
    async def existing_ids(self, session: AsyncSession, ids: Sequence[int]) -> set[int]: ...


class _VisibleIds(Protocol):
    async def existing_ids(
        self, session: AsyncSession, ids: Sequence[int], *, actor: Actor | None = None
    ) -> set[int]: ...


# The services that answer "do these exist?" for the kinds of entity steps refer to: those
# with owners answer for what the actor may see.
_VISIBLE_REFERENCES: Mapping[str, _VisibleIds] = {
    "segment": segment_service,
    "company": company_service,
    "email": email_service,
    "form": form_service,
    "page": page_service,
    "asset": asset_service,
}
_REFERENCED: Mapping[str, _ExistingIds] = {"user": user_service, "stage": stage_service}


class CampaignValidation(CampaignCore):
    async def problems(
        self, session: AsyncSession, data: CampaignWrite, *, actor: Actor | None = None
    ) -> list[FieldError]:
        """Every problem with a campaign document, each pointing at the event and field; with
        ``actor``, a reference to what they may not see is a reference to nothing."""
        index_of: dict[str, int] = {}
        errors: list[FieldError] = []
        for index, event in enumerate(data.events):
            if event.key in index_of:
                errors.append(
                    FieldError(f"/events/{index}/key", "Two steps have this key.", "duplicate")
                )
            index_of[event.key] = index
        configs: dict[str, Any] = {}
        types: dict[str, TypeInfo] = {}
        errors += await self._step_problems(session, data, configs, types, actor=actor)
        edge_errors, parent = self._edge_problems(data, index_of)
        errors += edge_errors
        errors += self._graph_problems(data, index_of, configs, types, parent)
        errors.extend(await self._source_problems(session, data.sources, actor=actor))
        if data.default_timezone and data.default_timezone not in zoneinfo.available_timezones():
            errors.append(FieldError("/default_timezone", "Not an IANA timezone.", "invalid"))
        if data.publish_up and data.publish_down and data.publish_down <= data.publish_up:
            errors.append(FieldError("/publish_down", "Must be after publish_up.", "invalid"))
        return errors

    async def _step_problems(
        self,
        session: AsyncSession,
        data: CampaignWrite,
        configs: dict[str, Any],
        types: dict[str, TypeInfo],
        *,
        actor: Actor | None,
    ) -> list[FieldError]:
        """Each step's type, settings and timing; fills ``configs`` and ``types`` for the
        steps that have a known type and valid settings."""
        errors: list[FieldError] = []
        for index, event in enumerate(data.events):
            event_type = self.registry.get(event.type)
            if event_type is None:
                errors.append(
                    FieldError(
                        f"/events/{index}/type",
                        f"Unknown event type {event.type!r}.",
                        "unknown_type",
                    )
                )
                continue
            try:
                config = event_type.config.model_validate(event.config)
            except ValidationError as exc:
                errors += [
                    FieldError(
                        json_pointer("events", index, "config", *err["loc"]),
                        err["msg"],
                        err["type"],
                    )
                    for err in exc.errors()
                ]
                continue
            configs[event.key] = config
            types[event.key] = self.registry.info(event_type, config)
            errors.extend(
                await self._config_problems(session, index, event_type, config, actor=actor)
            )
            errors.extend(await self._timing_problems(session, index, event.timing.model_dump()))
        return errors

    @staticmethod
    def _edge_problems(
        data: CampaignWrite, index_of: Mapping[str, int]
    ) -> tuple[list[FieldError], dict[str, tuple[str | None, str | None]]]:
        """Connections between known steps, one into each step; and each step's parent."""
        errors: list[FieldError] = []
        incoming: dict[str, int] = {}
        parent: dict[str, tuple[str | None, str | None]] = {}
        for index, edge in enumerate(data.edges):
            if edge.target not in index_of:
                errors.append(
                    FieldError(f"/edges/{index}/target", "No step has this key.", "not_found")
                )
                continue
            if edge.source is not None and edge.source not in index_of:
                errors.append(
                    FieldError(f"/edges/{index}/source", "No step has this key.", "not_found")
                )
                continue
            if edge.target in incoming:
                errors.append(
                    FieldError(
                        f"/edges/{index}/target",
                        "A step has a single incoming connection; use jump to "
                        "step to join branches.",
                        "two_parents",
                    )
                )
                continue
            incoming[edge.target] = index
            parent[edge.target] = (edge.source, edge.path)
        errors += [
            FieldError(f"/events/{index}", "This step is not connected to anything.", "orphan")
            for key, index in index_of.items()
            if key not in incoming
        ]
        return errors, parent

    def _graph_problems(
        self,
        data: CampaignWrite,
        index_of: Mapping[str, int],
        configs: Mapping[str, Any],
        types: Mapping[str, TypeInfo],
        parent: Mapping[str, tuple[str | None, str | None]],
    ) -> list[FieldError]:
        """The journey as a whole (the engine's rules), and campaigns that add contacts
        back to themselves too quickly."""
        nodes = {
            e.key: Node(
                key=e.key,
                type=e.type,
                kind=self.registry.get(e.type).kind,  # type: ignore[union-attr]
                parent=parent.get(e.key, (None, None))[0],
                path=parent.get(e.key, (None, None))[1],
                timing=timing_of(e.timing.model_dump()),
                config=e.config,
            )
            for e in data.events
            if e.key in types
        }
        jumps = {
            key: getattr(configs[key], "target", None) for key, info in types.items() if info.jumps
        }
        errors = [
            self._pointer(problem, index_of)
            for problem in validate(Graph(nodes), dict(types), jump_targets=jumps)
        ]
        for key, config in configs.items():
            if (
                nodes[key].type == "campaign.change_campaigns"
                and "this" in config.add
                and _shorter_than(nodes[key].timing, MIN_SELF_ADD_DELAY)
            ):
                errors.append(
                    FieldError(
                        f"/events/{index_of[key]}/timing",
                        "Adding a contact back to this campaign needs a delay of at least 30 "
                        "minutes, or it would loop.",
                        "loop_guard",
                    )
                )
        return errors

    def _pointer(self, problem: Problem, index_of: Mapping[str, int]) -> FieldError:
        if problem.event is None or problem.event not in index_of:
            return FieldError("/events", problem.detail, problem.code)
        return FieldError(
            f"/events/{index_of[problem.event]}/{problem.field}", problem.detail, problem.code
        )

    async def _config_problems(
        self,
        session: AsyncSession,
        index: int,
        event_type: Any,
        config: Any,
        *,
        actor: Actor | None,
    ) -> list[FieldError]:
        errors: list[FieldError] = []
        base = f"/events/{index}/config"
        if event_type.to_filter is not None:
            catalog = await field_service.catalog(session)
            document = resolve_field_types(event_type.to_filter(config), catalog.get)
            try:
                await segment_service.bind(session, document, pointer=base, actor=actor)
            except ValidationFailed as exc:
                single = event_type.key != "condition.group"
                for err in exc.errors:
                    pointer = err.pointer
                    if single:
                        pointer = pointer.replace(f"{base}/conditions/0", base)
                    elif pointer.startswith(base):
                        pointer = base + "/filters" + pointer[len(base) :]
                    errors.append(FieldError(pointer, err.detail, err.code))
        for name, kind in event_type.references.items():
            value = getattr(config, name, None)
            ids = [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, int)]
            if not ids:
                continue
            missing = set(ids) - await self._existing(session, kind, ids, actor)
            for item in sorted(missing):
                errors.append(
                    FieldError(f"{base}/{name}", f"No {kind} with id {item}.", "not_found")
                )
        return errors

    async def _existing(
        self, session: AsyncSession, kind: str, ids: Sequence[int], actor: Actor | None
    ) -> set[int]:
        if kind == "campaign":
            return await CAMPAIGNS.existing_ids(session, ids, actor=actor)
        if kind in _VISIBLE_REFERENCES:
            return await _VISIBLE_REFERENCES[kind].existing_ids(session, ids, actor=actor)
        service = _REFERENCED.get(kind)
        return await service.existing_ids(session, ids) if service is not None else set(ids)

    async def existing_ids(
        self, session: AsyncSession, ids: Sequence[int], *, actor: Actor | None = None
    ) -> set[int]:
        return await CAMPAIGNS.existing_ids(session, ids, actor=actor)

    async def _timing_problems(
        self, session: AsyncSession, index: int, timing: Mapping[str, Any]
    ) -> list[FieldError]:
        base = f"/events/{index}/timing"
        mode = timing.get("mode")
        if mode == "date" and timing.get("at") is None:
            return [FieldError(f"{base}/at", "Choose the date and time.", "required")]
        if mode == "relative":
            field = timing.get("field")
            if not field:
                return [FieldError(f"{base}/field", "Choose a date field.", "required")]
            spec = (await field_service.catalog(session)).get(field)
            if spec is None or spec.type not in (FieldType.DATE, FieldType.DATETIME):
                return [FieldError(f"{base}/field", "Choose a contact date field.", "not_a_date")]
        if mode == "interval" and (timing.get("window_start") is None) != (
            timing.get("window_end") is None
        ):
            return [FieldError(f"{base}/window_end", "Give both ends of the window.", "required")]
        return []

    async def _source_problems(
        self, session: AsyncSession, sources: Sequence[SourceDoc], *, actor: Actor | None
    ) -> list[FieldError]:
        errors = []
        segment_ids = [s.id for s in sources if s.kind == "segment"]
        known = await segment_service.existing_ids(session, segment_ids, actor=actor)
        for index, source in enumerate(sources):
            if source.kind == "segment" and source.id not in known:
                errors.append(
                    FieldError(
                        f"/sources/{index}/id", f"No segment with id {source.id}.", "not_found"
                    )
                )
        form_ids = [s.id for s in sources if s.kind == "form"]
        if form_ids:
            known_forms = await form_service.existing_ids(session, form_ids, actor=actor)
            for index, source in enumerate(sources):
                if source.kind == "form" and source.id not in known_forms:
                    errors.append(
                        FieldError(
                            f"/sources/{index}/id", f"No form with id {source.id}.", "not_found"
                        )
                    )
        return errors

    async def validate(
        self, session: AsyncSession, data: CampaignWrite, *, actor: Actor | None = None
    ) -> None:
        errors = await self.problems(session, data, actor=actor)
        if errors:
            raise ValidationFailed("The campaign has problems; see errors.", errors)


def _shorter_than(timing: Timing, delay: timedelta) -> bool:
    if timing.mode in (Mode.DATE, Mode.RELATIVE):
        return False
    if timing.mode is Mode.IMMEDIATE:
        return True
    seconds = {
        "minute": 60,
        "hour": 3600,
        "day": 86400,
        "week": 604800,
        "month": 2419200,
        "year": 31536000,
    }[timing.unit.value]
    return timing.amount * seconds < delay.total_seconds()
