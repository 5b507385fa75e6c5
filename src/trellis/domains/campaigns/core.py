"""The campaign as the other use cases share it: engine settings, timings, the parsed graph
(cached per version), reading a campaign as its document, and the audited CRUD kind."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from trellis.actor import Actor
from trellis.db.models import Campaign
from trellis.domains.campaigns.repository import CampaignRepository
from trellis.domains.campaigns.schemas import (
    CampaignRead,
    EdgeDoc,
    EventRead,
    SourceDoc,
)
from trellis.domains.projects.links import project_links
from trellis.domains.system.service import system_service
from trellis.engine.graph import Graph, Kind, Node, TypeInfo
from trellis.engine.timing import Mode, Timing, Unit, describe
from trellis.errors import DomainError
from trellis.events.base import HttpPort, HttpResult
from trellis.events.registry import Registry
from trellis.kit.crud import AuditedCrud, EntityKind
from trellis.runtime.journal import Status
from trellis.runtime.runner import LoadedCampaign, RetryPolicy
from trellis.wiring import Slot

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
    # Outside calls (webhooks) on the wire at once per batch: also the most a crash can repeat.
    calls_in_flight: int = 10
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


def timing_json(doc: Mapping[str, Any]) -> dict[str, Any]:
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


async def read_campaign(session: AsyncSession, campaign: Campaign) -> CampaignRead:
    repo = CampaignRepository(session)
    events = await repo.events(campaign.id)
    by_id = {e.id: e for e in events}
    projects = (await project_links.projects_of(session, "campaign", [campaign.id]))[campaign.id]
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


def campaign_snapshot(read: CampaignRead) -> dict[str, Any]:
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


async def _audited_snapshot(session: AsyncSession, campaign: Campaign) -> dict[str, Any]:
    """Settings, sources and steps, as the audit log compares them (projects apart)."""
    snapshot = campaign_snapshot(await read_campaign(session, campaign))
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


class CampaignCore:
    """Wiring and loading; each use case builds on it (see :mod:`.service`)."""

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

    # -- reading ------------------------------------------------------------------------------

    async def get(self, session: AsyncSession, campaign_id: int, *, actor: Actor) -> Campaign:
        return await CAMPAIGNS.get(session, campaign_id, actor=actor)

    async def read(self, session: AsyncSession, campaign: Campaign) -> CampaignRead:
        return await read_campaign(session, campaign)

    def snapshot(self, read: CampaignRead) -> dict[str, Any]:
        """What the audit log compares: settings, sources, and steps keyed by their key."""
        return campaign_snapshot(read)
