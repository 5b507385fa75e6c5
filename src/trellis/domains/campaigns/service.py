"""Campaigns: the document, its validation, publishing, membership, and the trigger loop.

Execution is the runtime's (``trellis.runtime.runner``); this service decides what to run and
when, inside units of work it is handed, and keeps membership following Mautic's state machine:
active members, exits (left the source, or a step), removals by a person (never undone
automatically), rotations for re-entry and jumps.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, Protocol, cast

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from trellis.actor import Actor, Perm
from trellis.db.models import (
    Campaign,
    CampaignEvent,
    CampaignPublishPeriod,
    CampaignSource,
)
from trellis.db.pagination import Page, PageRequest
from trellis.domains.assets.service import asset_service
from trellis.domains.audit.service import AuditAction, audit
from trellis.domains.campaigns.ports import build_ports, resolve_field_types
from trellis.domains.campaigns.repository import CampaignRepository
from trellis.domains.campaigns.schemas import (
    CampaignRead,
    CampaignSave,
    CampaignSummary,
    CampaignWrite,
    CurrentStep,
    DeletedStepChoice,
    EdgeDoc,
    EventRead,
    EventStatsRead,
    FailureRead,
    Journey,
    JourneyStep,
    MemberRead,
    MembersChangeResult,
    PreviewSource,
    PublishPreview,
    SourceDoc,
    StepChange,
    TrackEvent,
    TrackResult,
)
from trellis.domains.companies.service import company_service
from trellis.domains.contacts.bulk import contact_bulk_service
from trellis.domains.contacts.schemas import ActivityItem
from trellis.domains.contacts.service import editable_contacts, visible_contacts
from trellis.domains.emails.service import email_service
from trellis.domains.fields.service import field_service
from trellis.domains.fields.types import FieldType
from trellis.domains.forms.service import form_service
from trellis.domains.landing_pages.service import page_service
from trellis.domains.projects.links import project_links
from trellis.domains.segments.service import segment_service
from trellis.domains.stages.service import stage_service
from trellis.domains.system.service import system_service
from trellis.domains.users.service import user_service
from trellis.engine.graph import Graph, Kind, Node, Problem, TypeInfo, validate
from trellis.engine.timing import Mode, Timing, Unit, describe
from trellis.errors import (
    Conflict,
    DomainError,
    FieldError,
    NotFound,
    ValidationFailed,
    json_pointer,
)
from trellis.events.base import Behaviour, HttpPort, HttpResult
from trellis.events.registry import Registry
from trellis.kit.crud import AuditedCrud, EntityKind
from trellis.kit.versions import check_version
from trellis.runtime.journal import (
    Status,
    cancel_open_steps,
    finished_without_next,
    revive_dead,
)
from trellis.runtime.runner import LoadedCampaign, RetryPolicy, Runner
from trellis.wiring import Slot

log = logging.getLogger(__name__)

STATUS_NAMES = {s.value: s.name.lower() for s in Status}
MIN_SELF_ADD_DELAY = timedelta(minutes=30)


@dataclass(frozen=True)
class EnginePolicy:
    """Execution settings the composition root reads from configuration."""

    batch_size: int = 20000
    # Batches of a segment's first intake run side by side on PostgreSQL (one transaction
    # each), so that the server works on one while Python prepares the other.
    parallel_batches: int = 2
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    lease_s: int = 300
    # Pause a campaign when this share of finished steps died, over at least min_volume.
    failure_rate: float = 0.2
    failure_min_volume: int = 100


class _RefusingHttp(HttpPort):
    async def send(self, **_: Any) -> HttpResult:
        return HttpResult(status=None, error="Outgoing HTTP is not configured.")


def timing_of(doc: Mapping[str, Any]) -> Timing:
    def hour(value: Any) -> time | None:
        if value in (None, ""):
            return None
        return value if isinstance(value, time) else time.fromisoformat(str(value))

    at = doc.get("at")
    return Timing(
        mode=Mode(doc.get("mode", "immediate")),
        amount=int(doc.get("amount") or 0),
        unit=Unit(doc.get("unit") or "day"),
        at_hour=hour(doc.get("at_hour")),
        window_start=hour(doc.get("window_start")),
        window_end=hour(doc.get("window_end")),
        weekdays=frozenset(int(d) for d in doc.get("weekdays") or []),
        at=datetime.fromisoformat(at) if isinstance(at, str) else at,
        field=doc.get("field"),
        offset_days=int(doc.get("offset_days") or 0),
    )


def _timing_json(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Only the parts of a timing that matter for its mode, stored as JSON."""
    mode = doc.get("mode", "immediate")
    stored: dict[str, Any] = {"mode": mode}
    if mode == "interval":
        stored.update(amount=doc.get("amount", 0), unit=doc.get("unit", "day"))
        for key in ("at_hour", "window_start", "window_end"):
            if doc.get(key) is not None:
                stored[key] = doc[key].strftime("%H:%M") if isinstance(doc[key], time) else doc[key]
        if doc.get("weekdays"):
            stored["weekdays"] = sorted(doc["weekdays"])
    elif mode == "date":
        at = doc.get("at")
        stored["at"] = at.isoformat() if isinstance(at, datetime) else at
    elif mode == "relative":
        stored.update(field=doc.get("field"), offset_days=doc.get("offset_days", 0))
        if doc.get("at_hour") is not None:
            value = doc["at_hour"]
            stored["at_hour"] = value.strftime("%H:%M") if isinstance(value, time) else value
    return stored


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


async def _audited_snapshot(session: AsyncSession, campaign: Campaign) -> dict[str, Any]:
    """Settings, sources and steps, as the audit log compares them (projects apart)."""
    snapshot = campaign_service.snapshot(await campaign_service.read(session, campaign))
    snapshot.pop("projects", None)
    return snapshot


CAMPAIGNS: AuditedCrud[Campaign] = AuditedCrud(
    EntityKind(
        resource="campaigns",
        entity_type="campaign",
        label="campaign",
        repository=CampaignRepository,
        snapshot=lambda campaign: {},
        read_snapshot=_audited_snapshot,
        projectable=True,
    )
)


class CampaignService:
    registry: Slot[Registry] = Slot()

    def __init__(self) -> None:
        self.http: HttpPort = _RefusingHttp()
        self._loaded: dict[tuple[str, int], LoadedCampaign] = {}
        self.policy = EnginePolicy()

    def configure(
        self,
        *,
        registry: Registry | None = None,
        http: HttpPort | None = None,
        policy: EnginePolicy | None = None,
    ) -> None:
        """The composition root wires the event types, outside I/O and settings in."""
        if registry is not None:
            self.registry = registry
        if http is not None:
            self.http = http
        if policy is not None:
            self.policy = policy

    # -- loading ------------------------------------------------------------------------------

    async def load(self, session: AsyncSession, campaign: Campaign) -> LoadedCampaign:
        """The campaign's graph, ready to run. Parsed graphs are kept per campaign version
        (every save and publication bumps it), so real-time decisions do not rebuild them."""
        default_timezone = (
            campaign.default_timezone or (await system_service.settings(session)).default_timezone
        )
        key = (campaign.uuid, campaign.version)
        cached = self._loaded.get(key)
        if cached is None:
            cached = await self._build(session, campaign)
            if len(self._loaded) >= 256:
                self._loaded.pop(next(iter(self._loaded)))
            self._loaded[key] = cached
        return dataclasses.replace(cached, default_timezone=default_timezone)

    async def _build(self, session: AsyncSession, campaign: Campaign) -> LoadedCampaign:
        events = await CampaignRepository(session).events(campaign.id)
        by_id = {e.id: e for e in events}
        nodes: dict[str, Node] = {}
        types: dict[str, TypeInfo] = {}
        event_types = {}
        configs: dict[str, Any] = {}
        for event in events:
            event_type = self.registry.get(event.type)
            if event_type is None:
                raise DomainError(
                    f"Campaign {campaign.id} uses an unknown event type {event.type}."
                )
            config = event_type.config.model_validate(event.config)
            parent = by_id.get(event.parent_id) if event.parent_id else None
            nodes[event.uuid] = Node(
                key=event.uuid,
                type=event.type,
                kind=Kind(event.kind),
                parent=parent.uuid if parent else None,
                path=event.path,
                timing=timing_of(event.timing),
                config=event.config,
                name=event.name,
            )
            types[event.uuid] = self.registry.info(event_type, config)
            event_types[event.uuid] = event_type
            configs[event.uuid] = config
        return LoadedCampaign(
            id=campaign.id,
            graph=Graph(nodes),
            types=types,
            event_types=event_types,
            configs=configs,
            ids={e.uuid: e.id for e in events},
            names={e.uuid: e.name for e in events},
            default_timezone=campaign.default_timezone
            or (await system_service.settings(session)).default_timezone,
        )

    def runner(self, session: AsyncSession, loaded: LoadedCampaign, now: datetime) -> Runner:
        return Runner(
            session,
            campaign=loaded,
            now=now,
            retry=self.policy.retry,
            ports=lambda runner: build_ports(
                runner,
                http=self.http,
                add_members=self._step_adds,
                remove_members=self._step_removes,
            ),
        )

    # -- reading ------------------------------------------------------------------------------

    async def get(self, session: AsyncSession, campaign_id: int, *, actor: Actor) -> Campaign:
        return await CAMPAIGNS.get(session, campaign_id, actor=actor)

    async def read(self, session: AsyncSession, campaign: Campaign) -> CampaignRead:
        repo = CampaignRepository(session)
        events = await repo.events(campaign.id)
        by_id = {e.id: e for e in events}
        projects = (await project_links.projects_of(session, "campaign", [campaign.id]))[
            campaign.id
        ]
        read = CampaignRead.model_validate(campaign)
        read.projects = [p.id for p in projects]
        read.sources = [
            SourceDoc.model_validate(
                {
                    "kind": s.kind,
                    "id": s.source_id,
                    "audience": s.audience,
                    "locked_at": s.locked_at,
                }
            )
            for s in await repo.sources(campaign.id)
        ]
        read.events = [
            EventRead(
                key=e.uuid,
                id=e.id,
                type=e.type,
                kind=e.kind,
                name=e.name,
                description=e.description,
                config=e.config,
                timing=e.timing,
                timing_label=describe(timing_of(e.timing)),
            )
            for e in events
        ]
        read.edges = [
            EdgeDoc(
                source=by_id[e.parent_id].uuid if e.parent_id in by_id else None,
                target=e.uuid,
                path=e.path,
            )
            for e in events
        ]
        read.members = (await repo.member_counts([campaign.id])).get(campaign.id, 0)
        return read

    async def list_page(
        self,
        session: AsyncSession,
        *,
        actor: Actor,
        page: PageRequest,
        q: str | None,
        project_id: int | None,
        published: bool | None,
    ) -> Page[CampaignSummary]:
        repo = CampaignRepository(session)
        result = await CAMPAIGNS.list_page(
            session,
            actor=actor,
            page=page,
            q=q,
            project_id=project_id,
            where=[Campaign.is_published.is_(published) if published is not None else None],
        )
        ids = [c.id for c in result.items]
        counts = await repo.member_counts(ids)
        projects = await project_links.projects_of(session, "campaign", ids)
        items = [
            CampaignSummary(
                id=c.id,
                uuid=c.uuid,
                name=c.name,
                description=c.description,
                is_published=c.is_published,
                paused_reason=c.paused_reason,
                members=counts.get(c.id, 0),
                projects=[p.id for p in projects[c.id]],
                updated_at=c.updated_at,
                version=c.version,
            )
            for c in result.items
        ]
        return Page(items=items, total=result.total, number=result.number, size=result.size)

    async def stats(
        self, session: AsyncSession, campaign_id: int, *, actor: Actor
    ) -> dict[str, EventStatsRead]:
        campaign = await self.get(session, campaign_id, actor=actor)
        repo = CampaignRepository(session)
        keys = {e.id: e.uuid for e in await repo.events(campaign.id)}
        return {
            keys[event_id]: EventStatsRead.model_validate(row, from_attributes=True)
            for event_id, row in (await repo.stats(campaign.id)).items()
            if event_id in keys
        }

    # -- validation ---------------------------------------------------------------------------

    async def problems(
        self, session: AsyncSession, data: CampaignWrite, *, actor: Actor | None = None
    ) -> list[FieldError]:
        """Every problem of a campaign document; with ``actor``, a reference to what they
        may not see is a reference to nothing."""
        """Every problem with a campaign document, each pointing at the event and field."""
        errors: list[FieldError] = []
        index_of: dict[str, int] = {}
        for index, event in enumerate(data.events):
            if event.key in index_of:
                errors.append(
                    FieldError(f"/events/{index}/key", "Two steps have this key.", "duplicate")
                )
            index_of[event.key] = index
        configs: dict[str, Any] = {}
        types: dict[str, TypeInfo] = {}
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
                for err in exc.errors():
                    errors.append(
                        FieldError(
                            json_pointer("events", index, "config", *err["loc"]),
                            err["msg"],
                            err["type"],
                        )
                    )
                continue
            configs[event.key] = config
            types[event.key] = self.registry.info(event_type, config)
            errors.extend(
                await self._config_problems(session, index, event_type, config, actor=actor)
            )
            errors.extend(await self._timing_problems(session, index, event.timing.model_dump()))
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
        for key, index in index_of.items():
            if key not in incoming:
                errors.append(
                    FieldError(
                        f"/events/{index}", "This step is not connected to anything.", "orphan"
                    )
                )
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
        for problem in validate(Graph(nodes), types, jump_targets=jumps):
            errors.append(self._pointer(problem, index_of))
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
        errors.extend(await self._source_problems(session, data.sources, actor=actor))
        if data.default_timezone and data.default_timezone not in zoneinfo.available_timezones():
            errors.append(FieldError("/default_timezone", "Not an IANA timezone.", "invalid"))
        if data.publish_up and data.publish_down and data.publish_down <= data.publish_up:
            errors.append(FieldError("/publish_down", "Must be after publish_up.", "invalid"))
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

    # -- saving -------------------------------------------------------------------------------

    def snapshot(self, read: CampaignRead) -> dict[str, Any]:
        """What the audit log compares: settings, sources, and steps keyed by their key."""
        events = {e.key: e for e in read.events}
        parents = {edge.target: edge for edge in read.edges}
        return {
            "name": read.name,
            "description": read.description,
            "projects": read.projects,
            "publish_up": read.publish_up.isoformat() if read.publish_up else None,
            "publish_down": read.publish_down.isoformat() if read.publish_down else None,
            "allow_restart": read.allow_restart,
            "reactivation": read.reactivation,
            "exit_on_source_leave": read.exit_on_source_leave,
            "default_timezone": read.default_timezone,
            "sources": [s.model_dump(mode="json") for s in read.sources],
            "events": [
                {
                    "key": key,
                    "name": e.name,
                    "type": e.type,
                    "config": e.config,
                    "timing": e.timing,
                    "after": parents[key].source if key in parents else None,
                    "path": parents[key].path if key in parents else None,
                }
                for key, e in sorted(events.items())
            ],
        }

    async def create(
        self, session: AsyncSession, *, data: CampaignWrite, actor: Actor, now: datetime
    ) -> Campaign:
        actor.require("campaigns", Perm.CREATE)
        await self.validate(session, data, actor=actor)
        campaign = Campaign(
            uuid=str(uuid.uuid4()),
            name=data.name,
            description=data.description,
            is_published=False,
            publish_up=data.publish_up,
            publish_down=data.publish_down,
            allow_restart=data.allow_restart,
            reactivation=data.reactivation,
            exit_on_source_leave=data.exit_on_source_leave,
            default_timezone=data.default_timezone,
            canvas=data.canvas,
            created_by_id=actor.user_id,
            created_at=now,
            updated_at=now,
        )

        async def write_steps(campaign: Campaign) -> None:
            await self._write_graph(session, campaign, data, now=now, existing={})
            await self._write_sources(session, campaign, data.sources)

        return await CAMPAIGNS.create(
            session,
            campaign,
            actor=actor,
            now=now,
            projects=data.projects,
            after_insert=write_steps,
        )

    async def _write_graph(
        self,
        session: AsyncSession,
        campaign: Campaign,
        data: CampaignWrite,
        *,
        now: datetime,
        existing: dict[str, CampaignEvent],
    ) -> list[CampaignEvent]:
        """Insert new steps and update kept ones; returns the new steps."""
        repo = CampaignRepository(session)
        rows: dict[str, CampaignEvent] = {}
        created: list[CampaignEvent] = []
        for event in data.events:
            event_type = self.registry.get(event.type)
            assert event_type is not None
            config = event_type.config.model_validate(event.config).model_dump(mode="json")
            row = existing.get(event.key)
            if row is None:
                row = CampaignEvent(campaign_id=campaign.id, uuid=event.key, created_at=now)
                repo.add(row)
                created.append(row)
            row.name, row.description = event.name, event.description
            row.kind, row.type, row.config = event_type.kind.value, event.type, config
            row.timing = _timing_json(event.timing.model_dump())
            rows[event.key] = row
        await session.flush()
        for edge in data.edges:
            row = rows[edge.target]
            row.parent_id = rows[edge.source].id if edge.source else None
            row.path = edge.path
        await session.flush()
        await repo.ensure_stats(campaign.id, [r.id for r in rows.values()])
        return created

    async def _write_sources(
        self, session: AsyncSession, campaign: Campaign, sources: Sequence[SourceDoc]
    ) -> None:
        repo = CampaignRepository(session)
        old = {(s.kind, s.source_id): s for s in await repo.sources(campaign.id)}
        await repo.delete_sources(campaign.id)
        for source in sources:
            previous = old.get((source.kind, source.id))
            repo.add(
                CampaignSource(
                    campaign_id=campaign.id,
                    kind=source.kind,
                    source_id=source.id,
                    audience=source.audience,
                    locked_at=source.locked_at or (previous.locked_at if previous else None),
                    cursor=previous.cursor if previous else 0,
                )
            )
        await session.flush()

    async def update(
        self,
        session: AsyncSession,
        campaign_id: int,
        *,
        data: CampaignSave,
        actor: Actor,
        now: datetime,
        expected_version: int | None,
    ) -> Campaign:
        repo = CampaignRepository(session)
        campaign = await CAMPAIGNS.for_edit(session, campaign_id, actor=actor, lock=True)
        check_version(campaign, expected_version)
        await self.validate(session, data, actor=actor)
        existing = {e.uuid: e for e in await repo.events(campaign.id)}
        keys = {e.key for e in data.events}
        for event in data.events:
            row = existing.get(event.key)
            if row is not None and row.type != event.type:
                raise ValidationFailed(
                    "A step cannot change its type; remove it and add another.",
                    [
                        FieldError(
                            f"/events/{[e.key for e in data.events].index(event.key)}/type",
                            "Changed type.",
                            "type_changed",
                        )
                    ],
                )
        removed = [row for key, row in existing.items() if key not in keys]
        waiting = await repo.open_counts([r.id for r in removed])
        undecided = {
            r.uuid: waiting[r.id]
            for r in removed
            if waiting.get(r.id) and r.uuid not in data.on_delete
        }
        if undecided:
            raise Conflict(
                "Contacts are waiting on steps you removed; redirect them to another step or "
                "cancel their steps (on_delete).",
                [
                    FieldError(f"/on_delete/{key}", f"{count} contact(s) wait here.", "waiting")
                    for key, count in undecided.items()
                ],
                extra={"waiting": undecided},
            )
        for key, choice in data.on_delete.items():
            if choice.redirect_to is not None and choice.redirect_to not in keys:
                raise ValidationFailed(
                    "Redirect to a step that stays.",
                    [FieldError(f"/on_delete/{key}/redirect_to", "No such step.", "not_found")],
                )

        async def apply(campaign: Campaign) -> None:
            for attribute in (
                "name",
                "description",
                "publish_up",
                "publish_down",
                "allow_restart",
                "reactivation",
                "exit_on_source_leave",
                "default_timezone",
                "canvas",
            ):
                setattr(campaign, attribute, getattr(data, attribute))
            created = await self._write_graph(session, campaign, data, now=now, existing=existing)
            await self._write_sources(session, campaign, data.sources)
            # The graph just changed under the same version: build it, not the cached one.
            loaded = await self._build(session, campaign)
            runner = self.runner(session, loaded, now)
            for row in removed:
                await self._retire_step(session, runner, row, data.on_delete.get(row.uuid), now)
            await session.flush()
            if campaign.is_published and created:
                await self._resume_stuck(session, runner, created)
            await runner.flush()

        await CAMPAIGNS.update(
            session,
            campaign,
            actor=actor,
            now=now,
            expected_version=None,
            apply=apply,
            projects=data.projects,
        )
        return campaign

    async def _retire_step(
        self,
        session: AsyncSession,
        runner: Runner,
        row: CampaignEvent,
        decided: DeletedStepChoice | None,
        now: datetime,
    ) -> None:
        """A step removed by an edit: the contacts waiting there are cancelled or moved on."""
        steps = await CampaignRepository(session).open_steps(row.id)
        if steps:
            await cancel_open_steps(
                session,
                campaign_id=runner.campaign.id,
                contact_ids=[c for c, _ in steps],
                now=now,
                reason="step deleted",
                stats=runner.stats,
                event_ids=[row.id],
            )
            if decided is not None and decided.redirect_to is not None:
                row.redirect_to_id = runner.campaign.ids[decided.redirect_to]
                await runner.jump(decided.redirect_to, dict(steps))
        row.deleted_at = now
        row.parent_id = None

    async def _resume_stuck(
        self, session: AsyncSession, runner: Runner, created: Sequence[CampaignEvent]
    ) -> None:
        """Steps added to a live campaign after a step contacts already finished: contacts whose
        journey ended there continue into the new step (Mautic's resume-stuck, done at once)."""
        for row in created:
            if row.parent_id is None:
                continue
            node = runner.campaign.graph.get(row.uuid)
            if node.kind is Kind.DECISION:
                continue
            ready = await finished_without_next(
                session,
                campaign_id=runner.campaign.id,
                parent_id=row.parent_id,
                path=row.path,
                event_id=row.id,
            )
            if ready:
                await runner.jump(row.uuid, ready)

    async def delete(
        self, session: AsyncSession, campaign_id: int, *, actor: Actor, now: datetime
    ) -> None:
        campaign = await CAMPAIGNS.for_delete(session, campaign_id, actor=actor)
        await CAMPAIGNS.delete(session, campaign, actor=actor, now=now)

    async def clone(
        self, session: AsyncSession, campaign_id: int, *, actor: Actor, now: datetime
    ) -> Campaign:
        source = await self.get(session, campaign_id, actor=actor)
        read = await self.read(session, source)
        keys = {e.key: str(uuid.uuid4()) for e in read.events}
        events = []
        for e in read.events:
            config = dict(e.config)
            if "target" in config and config["target"] in keys:
                config["target"] = keys[config["target"]]
            events.append(
                {
                    "key": keys[e.key],
                    "type": e.type,
                    "name": e.name,
                    "description": e.description,
                    "config": config,
                    "timing": e.timing,
                }
            )
        data = CampaignWrite.model_validate(
            {
                "name": f"Copy of {read.name}"[:200],
                "description": read.description,
                "projects": read.projects,
                "allow_restart": read.allow_restart,
                "reactivation": read.reactivation,
                "exit_on_source_leave": read.exit_on_source_leave,
                "default_timezone": read.default_timezone,
                "sources": [s.model_dump() for s in read.sources],
                "events": events,
                "edges": [
                    {
                        "source": keys[e.source] if e.source else None,
                        "target": keys[e.target],
                        "path": e.path,
                    }
                    for e in read.edges
                ],
                "canvas": {
                    "nodes": {
                        keys.get(k, k): v for k, v in (read.canvas.get("nodes") or {}).items()
                    }
                },
            }
        )
        return await self.create(session, data=data, actor=actor, now=now)

    # -- publishing ---------------------------------------------------------------------------

    async def set_published(
        self,
        session: AsyncSession,
        campaign_id: int,
        *,
        published: bool,
        actor: Actor,
        now: datetime,
    ) -> Campaign:
        repo = CampaignRepository(session)
        campaign = await CAMPAIGNS.get(session, campaign_id, actor=actor, lock=True)
        actor.require("campaigns", Perm.PUBLISH)
        if campaign.is_published == published:
            return campaign
        if published:
            loaded = await self.load(session, campaign)
            if not loaded.graph.nodes:
                raise Conflict("Add at least one step before publishing.")
            campaign.is_published = True
            campaign.paused_reason = None
            campaign.last_published_at = now
            repo.add(CampaignPublishPeriod(campaign_id=campaign.id, started_at=now))
            for source in await repo.sources(campaign.id):
                if source.audience == "locked" and source.locked_at is None:
                    source.locked_at = now
        else:
            campaign.is_published = False
            period = await repo.open_period(campaign.id)
            if period is not None:
                period.ended_at = now
        await CAMPAIGNS.touch(
            session,
            campaign,
            {"is_published": {"old": not published, "new": published}},
            actor=actor,
            now=now,
            action=AuditAction.PUBLISH if published else AuditAction.UNPUBLISH,
        )
        return campaign

    # -- membership ---------------------------------------------------------------------------

    async def add_members(
        self,
        session: AsyncSession,
        campaign: Campaign,
        contact_ids: Sequence[int],
        *,
        manual: bool,
        now: datetime,
        runner: Runner | None = None,
    ) -> MembersChangeResult:
        """Mautic's membership rules: new contacts join; active ones restart only when manually
        re-added to a campaign that allows restarts; removal by a person is undone only by a
        person; exited contacts come back automatically only when restarts are allowed."""
        repo = CampaignRepository(session)
        result = MembersChangeResult()
        wanted = list(dict.fromkeys(contact_ids))
        scope = await self._contact_scope(session, campaign)
        if scope is not None:
            allowed = await repo.existing_contacts(wanted, where=scope)
            for contact_id in wanted:
                if contact_id not in allowed:
                    result.rejected[contact_id] = "not one of the campaign owner's contacts"
            wanted = [c for c in wanted if c in allowed]
        # The insert is the check: it adds the contacts that were never members (and only
        # those, even with another worker at it), so only the rest, usually none, are read.
        fresh = await repo.insert_members(campaign.id, wanted, manual=manual, now=now)
        result.added = fresh
        added = set(fresh)
        current = await repo.members(campaign.id, [c for c in wanted if c not in added])
        restart: list[int] = []
        for contact_id, member in current.items():
            if member.status == "active":
                if manual and campaign.allow_restart:
                    restart.append(contact_id)
                else:
                    result.rejected[contact_id] = "already in the campaign"
            elif member.status == "removed" and not manual:
                result.rejected[contact_id] = "removed by a person"
            elif member.status == "exited" and not manual and not campaign.allow_restart:
                result.rejected[contact_id] = "already went through; restarts are not allowed"
            else:
                restart.append(contact_id)
        if not fresh and not restart:
            return result
        own_runner = runner is None
        if runner is None:
            runner = self.runner(session, await self.load(session, campaign), now)
        # Read before the update below, which refreshes these objects in the session.
        next_rotation = {c: current[c].rotation + 1 for c in restart}
        if restart:
            active = [c for c in restart if current[c].status == "active"]
            if active:
                await cancel_open_steps(
                    session,
                    campaign_id=campaign.id,
                    contact_ids=active,
                    now=now,
                    reason="restarted",
                    stats=runner.stats,
                )
            await repo.restart_members(campaign.id, restart, manual=manual or None, now=now)
            result.restarted = restart
        rotations = {c: 1 for c in fresh}
        rotations.update(next_rotation)
        await runner.start(rotations)
        if own_runner:
            await runner.flush()
        return result

    async def _contact_scope(
        self, session: AsyncSession, campaign: Campaign
    ) -> ColumnElement[bool] | None:
        """A campaign acts only on contacts its owner may change (ADR 0015): a user who may
        change only their own contacts runs campaigns on their own contacts."""
        owner = await user_service.acting_as(session, campaign.created_by_id)
        return editable_contacts(owner) if owner is not None else None

    async def enter_campaigns(
        self,
        session: AsyncSession,
        campaign_ids: Sequence[int],
        contact_ids: Sequence[int],
        *,
        now: datetime,
    ) -> None:
        """Contacts enter the campaigns at once (a form's "add to campaigns" action): only
        running campaigns, under the automatic membership rules."""
        if not campaign_ids or not contact_ids:
            return
        repo = CampaignRepository(session)
        for campaign in await repo.published(now=now, campaign_ids=sorted(set(campaign_ids))):
            await self.add_members(session, campaign, contact_ids, manual=False, now=now)

    async def enter_from_source(
        self,
        session: AsyncSession,
        *,
        kind: str,
        source_id: int,
        contact_ids: Sequence[int],
        now: datetime,
    ) -> None:
        """Contacts who submitted form F enter, at once, every running campaign that has F
        as a source."""
        if not contact_ids:
            return
        campaigns = await CampaignRepository(session).with_source(kind, source_id)
        await self.enter_campaigns(session, [c.id for c in campaigns], contact_ids, now=now)

    async def campaigns_with_source(
        self, session: AsyncSession, kind: str, source_id: int
    ) -> list[tuple[int, str]]:
        return [
            (c.id, c.name) for c in await CampaignRepository(session).with_source(kind, source_id)
        ]

    async def remove_members(
        self,
        session: AsyncSession,
        campaign: Campaign,
        contact_ids: Sequence[int],
        *,
        manual: bool,
        now: datetime,
        stats_runner: Runner | None = None,
        reason: str | None = None,
    ) -> MembersChangeResult:
        """Take contacts out; their open steps are cancelled with ``reason`` (by default: who
        took them out, a person or the campaign)."""
        repo = CampaignRepository(session)
        active = sorted(await repo.active_member_ids(campaign.id, contact_ids))
        result = MembersChangeResult(removed=active)
        if not active:
            return result
        runner = stats_runner or self.runner(session, await self.load(session, campaign), now)
        await repo.leave(campaign.id, active, status="removed" if manual else "exited", now=now)
        await cancel_open_steps(
            session,
            campaign_id=campaign.id,
            contact_ids=active,
            now=now,
            reason=reason or ("removed from the campaign" if manual else "exited"),
            stats=runner.stats,
        )
        if stats_runner is None:
            await runner.flush()
        return result

    async def _step_adds(
        self, session: AsyncSession, campaign_id: int, contact_ids: Sequence[int], now: datetime
    ) -> None:
        campaign = await CampaignRepository(session).get(campaign_id)
        if campaign is not None:
            await self.add_members(session, campaign, contact_ids, manual=True, now=now)

    async def _step_removes(
        self, session: AsyncSession, campaign_id: int, contact_ids: Sequence[int], now: datetime
    ) -> None:
        campaign = await CampaignRepository(session).get(campaign_id)
        if campaign is not None:
            await self.remove_members(session, campaign, contact_ids, manual=False, now=now)

    async def change_members(
        self,
        session: AsyncSession,
        campaign_id: int,
        *,
        contact_ids: Sequence[int],
        add: bool,
        actor: Actor,
        now: datetime,
    ) -> MembersChangeResult:
        campaign = await CAMPAIGNS.for_edit(session, campaign_id, actor=actor)
        repo = CampaignRepository(session)
        # A contact the actor may not see does not exist for them.
        known = await repo.existing_contacts(contact_ids, where=visible_contacts(actor))
        missing = [c for c in contact_ids if c not in known]
        if missing:
            raise ValidationFailed(
                "Some contacts do not exist.",
                [
                    FieldError(
                        f"/contact_ids/{contact_ids.index(c)}", "No such contact.", "not_found"
                    )
                    for c in missing
                ],
            )
        editable = await repo.existing_contacts(contact_ids, where=editable_contacts(actor))
        refused = {c: "you may not change this contact" for c in contact_ids if c not in editable}
        chosen = [c for c in contact_ids if c in editable]
        if add:
            result = await self.add_members(session, campaign, chosen, manual=True, now=now)
        else:
            result = await self.remove_members(session, campaign, chosen, manual=True, now=now)
        result.rejected.update(refused)
        await audit.record(
            session,
            actor=actor,
            action=AuditAction.MEMBERSHIP,
            entity_type="campaign",
            entity_id=campaign.id,
            entity_name=campaign.name,
            changes={
                "added" if add else "removed": {
                    "old": None,
                    "new": result.added + result.restarted if add else result.removed,
                }
            },
            now=now,
        )
        return result

    async def members_page(
        self,
        session: AsyncSession,
        campaign_id: int,
        *,
        actor: Actor,
        page: PageRequest,
        status: str | None,
    ) -> Page[MemberRead]:
        campaign = await self.get(session, campaign_id, actor=actor)
        repo = CampaignRepository(session)
        result = await repo.members_page(campaign.id, page=page, status=status)
        ids = [row[0].contact_id for row in result.items]
        detailed = await repo.open_steps_detail(campaign.id, ids)
        open_steps = {cid: [e for e, _, _ in steps] for cid, steps in detailed.items()}
        events = {e.id: e for e in await repo.events(campaign.id, include_deleted=True)}
        names = {e.id: e.name or e.type for e in events.values()}
        items = [
            MemberRead(
                contact_id=m.contact_id,
                email=email,
                name=" ".join(p for p in (first, last) if p),
                rotation=m.rotation,
                status=m.status,
                manually_added=m.manually_added,
                joined_at=m.joined_at,
                left_at=m.left_at,
                current_steps=[names.get(e, str(e)) for e in open_steps.get(m.contact_id, [])],
                waiting_on=[
                    CurrentStep(
                        event_key=events[e].uuid,
                        event_name=events[e].name,
                        type=events[e].type,
                        status=STATUS_NAMES[status],
                        due_at=due,
                    )
                    for e, status, due in detailed.get(m.contact_id, [])
                    if e in events
                ],
            )
            for m, email, first, last in result.items
        ]
        return Page(items=items, total=result.total, number=result.number, size=result.size)

    async def contact_campaigns(
        self, session: AsyncSession, contact_id: int, *, actor: Actor
    ) -> list[MemberRead]:
        """The campaigns a contact is or was in (those the actor may see), with the steps it
        waits on."""
        actor.require_view_any("campaigns")
        repo = CampaignRepository(session)
        if not await repo.existing_contacts([contact_id], where=visible_contacts(actor)):
            raise NotFound(f"No contact with id {contact_id}.")
        memberships = await repo.contact_memberships(contact_id)
        visible = await CAMPAIGNS.existing_ids(
            session, [m.campaign_id for m, _ in memberships], actor=actor
        )
        result = []
        for member, name in memberships:
            if member.campaign_id not in visible:
                continue
            events = {e.id: e.name or e.type for e in await repo.events(member.campaign_id)}
            open_steps = await repo.open_steps_of(member.campaign_id, [contact_id])
            result.append(
                MemberRead(
                    contact_id=contact_id,
                    campaign_id=member.campaign_id,
                    email=None,
                    name=name,
                    rotation=member.rotation,
                    status=member.status,
                    manually_added=member.manually_added,
                    joined_at=member.joined_at,
                    left_at=member.left_at,
                    current_steps=[events.get(e, str(e)) for e in open_steps.get(contact_id, [])],
                )
            )
        return result

    async def journey(
        self, session: AsyncSession, campaign_id: int, contact_id: int, *, actor: Actor
    ) -> Journey:
        campaign = await self.get(session, campaign_id, actor=actor)
        repo = CampaignRepository(session)
        events = {e.id: e for e in await repo.events(campaign.id, include_deleted=True)}
        member = (await repo.members(campaign.id, [contact_id])).get(contact_id)
        steps = [
            JourneyStep(
                event_key=events[s.event_id].uuid,
                event_name=events[s.event_id].name,
                type=events[s.event_id].type,
                rotation=s.rotation,
                status=STATUS_NAMES[s.status],
                due_at=s.due_at,
                reached_at=s.reached_at,
                done_at=s.done_at,
                attempts=s.attempts,
                detail=s.detail,
            )
            for s in await repo.journey(campaign.id, contact_id)
        ]
        read = None
        if member is not None:
            read = MemberRead(
                contact_id=contact_id,
                email=None,
                name="",
                rotation=member.rotation,
                status=member.status,
                manually_added=member.manually_added,
                joined_at=member.joined_at,
                left_at=member.left_at,
            )
        return Journey(campaign_id=campaign.id, contact_id=contact_id, member=read, steps=steps)

    async def change_step(
        self,
        session: AsyncSession,
        campaign_id: int,
        contact_id: int,
        event_key: str,
        *,
        change: StepChange,
        actor: Actor,
        now: datetime,
    ) -> Journey:
        """Reschedule or cancel a contact's waiting step, or retry a dead one."""
        campaign = await self.get(session, campaign_id, actor=actor)
        actor.require_on("campaigns", Perm.EDIT_OWN, Perm.EDIT_OTHERS, campaign.created_by_id)
        repo = CampaignRepository(session)
        member = (await repo.members(campaign.id, [contact_id])).get(contact_id)
        event = next((e for e in await repo.events(campaign.id) if e.uuid == event_key), None)
        if member is None or event is None:
            raise NotFound("No such step for this contact.")
        step = await repo.step(event.id, contact_id, member.rotation)
        if step is None:
            raise NotFound("The contact has not reached this step in its current pass.")
        runner = self.runner(session, await self.load(session, campaign), now)
        status = Status(step.status)
        if change.action == "reschedule":
            if status not in (Status.SCHEDULED, Status.WAITING):
                raise Conflict(
                    f"Only scheduled or waiting steps can be rescheduled (this one is "
                    f"{STATUS_NAMES[step.status]})."
                )
            if change.due_at is None:
                raise ValidationFailed(
                    "Give the new time.",
                    [FieldError("/due_at", "Required to reschedule.", "required")],
                )
            await repo.update_step(event.id, contact_id, member.rotation, {"due_at": change.due_at})
        elif change.action == "cancel":
            if status not in (Status.SCHEDULED, Status.WAITING):
                raise Conflict("Only scheduled or waiting steps can be cancelled.")
            await cancel_open_steps(
                session,
                campaign_id=campaign.id,
                contact_ids=[contact_id],
                now=now,
                reason=f"cancelled by {actor.name}",
                stats=runner.stats,
                event_ids=[event.id],
            )
        else:
            if status is not Status.DEAD:
                raise Conflict("Only failed (dead) steps can be retried.")
            await repo.update_step(
                event.id,
                contact_id,
                member.rotation,
                {"status": int(Status.SCHEDULED), "due_at": now, "attempts": 0},
            )
            runner.stats.add(event.id, "dead", -1)
            runner.stats.entered(event.id, Status.SCHEDULED, 1)
        await runner.flush()
        await audit.record(
            session,
            actor=actor,
            action=AuditAction.UPDATE,
            entity_type="campaign",
            entity_id=campaign.id,
            entity_name=campaign.name,
            changes={
                "step": {
                    "old": None,
                    "new": {"contact_id": contact_id, "event": event_key, "action": change.action},
                }
            },
            now=now,
        )
        return await self.journey(session, campaign.id, contact_id, actor=actor)

    async def retry_dead(
        self, session: AsyncSession, campaign_id: int, *, actor: Actor, now: datetime
    ) -> int:
        """Put every dead step of a campaign back in the schedule."""
        campaign = await self.get(session, campaign_id, actor=actor)
        actor.require_on("campaigns", Perm.EDIT_OWN, Perm.EDIT_OTHERS, campaign.created_by_id)
        runner = self.runner(session, await self.load(session, campaign), now)
        revived = await revive_dead(session, campaign_id=campaign.id, now=now, stats=runner.stats)
        await runner.flush()
        return revived

    # -- behaviour ----------------------------------------------------------------------------

    async def track(
        self, session: AsyncSession, *, events: Sequence[TrackEvent], now: datetime
    ) -> list[TrackResult | DomainError]:
        """Record what contacts did and let their waiting decisions react at once: a batch of
        events in a few statements (the track endpoint groups concurrent requests). An event
        naming no existing contact gets its error in its place; the others go ahead."""
        repo = CampaignRepository(session)
        by_email = await repo.contacts_by_email(
            [e.email.strip().lower() for e in events if e.contact_id is None and e.email]
        )
        existing = await repo.existing_contacts(
            [e.contact_id for e in events if e.contact_id is not None]
        )
        results: list[TrackResult | DomainError] = []
        accepted: list[tuple[int, TrackEvent]] = []
        for data in events:
            contact_id = data.contact_id
            if contact_id is None and data.email:
                contact_id = by_email.get(data.email.strip().lower())
            elif contact_id not in existing:
                contact_id = None
            if contact_id is None:
                results.append(
                    ValidationFailed(
                        "Name an existing contact by contact_id or email.",
                        [
                            FieldError(
                                "/contact_id" if data.contact_id else "/email",
                                "No such contact.",
                                "not_found",
                            )
                        ],
                    )
                )
                continue
            results.append(TrackResult(contact_id=contact_id, decisions_taken=0))
            accepted.append((len(results) - 1, data))
        if not accepted:
            return results
        contact_ids = [cast(TrackResult, results[i]).contact_id for i, _ in accepted]
        await repo.add_contact_events(
            [
                {
                    "contact_id": contact_id,
                    "name": data.name,
                    "properties": data.properties,
                    "occurred_at": data.occurred_at or now,
                }
                for contact_id, (_, data) in zip(contact_ids, accepted, strict=True)
            ]
        )
        await contact_bulk_service.touch_activity(
            session, contact_ids=sorted(set(contact_ids)), now=now
        )
        taken = await self.offer_many(
            session,
            offers=[
                (contact_id, Behaviour(kind="event", name=data.name, properties=data.properties))
                for contact_id, (_, data) in zip(contact_ids, accepted, strict=True)
            ],
            now=now,
        )
        for (index, _), count in zip(accepted, taken, strict=True):
            cast(TrackResult, results[index]).decisions_taken = count
        return results

    async def offer(
        self, session: AsyncSession, *, contact_id: int, behaviour: Behaviour, now: datetime
    ) -> int:
        """Offer a behaviour to every decision the contact waits on (any channel calls this)."""
        return (await self.offer_many(session, offers=[(contact_id, behaviour)], now=now))[0]

    async def offer_many(
        self,
        session: AsyncSession,
        *,
        offers: Sequence[tuple[int, Behaviour]],
        now: datetime,
    ) -> list[int]:
        """Offer behaviours (contact, what it did) to the decisions those contacts wait on,
        campaign by campaign, each campaign's offers decided together. Returns, per offer, how
        many decisions it took."""
        kinds = {behaviour.kind for _, behaviour in offers}
        types = [t.key for t in self.registry if t.behaviour in kinds]
        taken = [0] * len(offers)
        if not types:
            return taken
        repo = CampaignRepository(session)
        pending = await repo.waiting_decisions(sorted({c for c, _ in offers}), types)
        waiting: dict[int, dict[int, list[tuple[int, int, datetime]]]] = {}
        for contact_id, campaign_id, event_id, rotation, reached in pending:
            waiting.setdefault(campaign_id, {}).setdefault(contact_id, []).append(
                (event_id, rotation, reached)
            )
        for campaign_id, by_contact in waiting.items():
            campaign = await repo.get(campaign_id)
            if campaign is None or not campaign.is_published:
                continue
            indexes = [i for i, (contact_id, _) in enumerate(offers) if contact_id in by_contact]
            runner = self.runner(session, await self.load(session, campaign), now)
            took = await runner.decide(
                [(offers[i][0], offers[i][1], by_contact[offers[i][0]]) for i in indexes]
            )
            await runner.flush()
            for index, decided in zip(indexes, took, strict=True):
                taken[index] += int(decided)
        return taken

    # -- the campaign pages -------------------------------------------------------------------

    async def publish_preview(
        self, session: AsyncSession, campaign_id: int, *, actor: Actor, now: datetime
    ) -> PublishPreview:
        """Who would enter if the campaign were published now: what the publish dialog says.

        A locked audience without a lock time would be locked now, so it counts the segment as
        it is; one with a lock time counts those who were in it then. Outside the publish
        window nobody enters now."""
        campaign = await self.get(session, campaign_id, actor=actor)
        repo = CampaignRepository(session)
        sources = [s for s in await repo.sources(campaign.id) if s.kind == "segment"]
        # Only what the viewer may see is named and counted; the count is of the contacts the
        # campaign may act on.
        names = await segment_service.visible_names(session, [s.source_id for s in sources], actor)
        scope = await self._contact_scope(session, campaign)
        audiences = [
            (s.source_id, s.locked_at if s.audience == "locked" else None) for s in sources
        ]
        previews = [
            PreviewSource(
                kind="segment",
                id=s.source_id,
                name=names.get(s.source_id, "A segment you cannot see"),
                audience="locked" if s.audience == "locked" else "live",
                count=(
                    await repo.audience_count(segment_id, locked, contacts=scope)
                    if segment_id in names
                    else 0
                ),
            )
            for s, (segment_id, locked) in zip(sources, audiences, strict=True)
        ]
        in_window = (campaign.publish_up is None or campaign.publish_up <= now) and (
            campaign.publish_down is None or campaign.publish_down > now
        )
        entering = (
            await repo.entering_count(
                campaign.id, audiences, allow_restart=campaign.allow_restart, contacts=scope
            )
            if in_window
            else 0
        )
        return PublishPreview(entering_now=entering, sources=previews)

    async def failures_page(
        self,
        session: AsyncSession,
        campaign_id: int,
        *,
        actor: Actor,
        page: PageRequest,
        status: str | None,
    ) -> Page[FailureRead]:
        campaign = await self.get(session, campaign_id, actor=actor)
        result = await CampaignRepository(session).failures_page(
            campaign.id, page=page, status=status
        )
        items = []
        for step, key, event_name, event_type, email, first, last in result.items:
            detail = step.detail or {}
            is_dead = step.status == Status.DEAD
            reason = detail.get("error") if is_dead else detail.get("last_error")
            # A dead step's attempts are in its detail: a retry resets the column.
            attempts = int(detail.get("attempts", step.attempts)) if is_dead else step.attempts
            items.append(
                FailureRead(
                    contact_id=step.contact_id,
                    email=email,
                    name=" ".join(p for p in (first, last) if p),
                    event_key=key,
                    event_name=event_name,
                    type=event_type,
                    rotation=step.rotation,
                    status="dead" if is_dead else "failed",
                    attempts=attempts,
                    reason=str(reason) if reason is not None else None,
                    reached_at=step.reached_at,
                    failed_at=step.done_at if is_dead else None,
                    next_attempt_at=None if is_dead else step.due_at,
                )
            )
        return Page(items=items, total=result.total, number=result.number, size=result.size)


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


async def contact_timeline(
    session: AsyncSession, contact_id: int, before: datetime | None, limit: int
) -> list[ActivityItem]:
    """Campaign entries, exits and the steps taken, on the contact's timeline (read from the
    journal, so campaign steps write their record once)."""
    repo = CampaignRepository(session)
    items = []
    names: dict[int, str] = {}
    for member, name in await repo.contact_memberships(contact_id):
        names[member.campaign_id] = name
        if before is None or member.joined_at < before:
            items.append(
                ActivityItem(
                    occurred_at=member.joined_at,
                    kind="campaign_joined",
                    summary=f"Entered campaign {name}"
                    + (f" (pass {member.rotation})" if member.rotation > 1 else ""),
                    details={"campaign_id": member.campaign_id, "rotation": member.rotation},
                    source_type="campaign",
                    source_id=member.campaign_id,
                )
            )
        if member.left_at is not None and (before is None or member.left_at < before):
            verb = "Removed from" if member.status == "removed" else "Left"
            items.append(
                ActivityItem(
                    occurred_at=member.left_at,
                    kind="campaign_left",
                    summary=f"{verb} campaign {name}",
                    details={"campaign_id": member.campaign_id, "status": member.status},
                    source_type="campaign",
                    source_id=member.campaign_id,
                )
            )
    for step, event_name, event_type in await repo.finished_steps(
        contact_id, before=before, limit=limit
    ):
        status = STATUS_NAMES[step.status]
        items.append(
            ActivityItem(
                occurred_at=step.done_at or step.reached_at,
                kind="campaign_step",
                summary=f"{names.get(step.campaign_id, 'Campaign')}: {event_name or event_type} "
                f"({status})",
                details={
                    "campaign_id": step.campaign_id,
                    "type": event_type,
                    "status": status,
                    **(step.detail or {}),
                },
                source_type="campaign",
                source_id=step.campaign_id,
            )
        )
    items.sort(key=lambda i: i.occurred_at, reverse=True)
    return items[:limit]


async def merge_contacts(
    session: AsyncSession, winner_id: int, loser_id: int, now: datetime
) -> None:
    """The surviving contact keeps the loser's journeys where it has none of its own."""
    await CampaignRepository(session).move_contact(loser_id=loser_id, winner_id=winner_id)


campaign_service = CampaignService()
PROJECTABLE = CAMPAIGNS.projectable("Campaigns")
