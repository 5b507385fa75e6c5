"""Segments: saved filters over contacts, their members, and the rebuild that keeps the two
in step.

Services only flush. A rebuild of a large segment commits in batches, so it is driven from
the edge (``tasks.py``, the CLI) through :meth:`SegmentService.plan_rebuild`,
:meth:`SegmentService.rebuild_slice` and :meth:`SegmentService.finish_rebuild`, each run in
its own unit of work.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from trellis.actor import Actor, Perm
from trellis.db.limits import statement_time_limit
from trellis.db.models import Segment
from trellis.db.pagination import Page, PageRequest
from trellis.domains.audit.service import AuditAction, audit
from trellis.domains.contacts.schemas import ActivityItem
from trellis.domains.contacts.service import visible_contacts
from trellis.domains.fields.service import field_service, slugify
from trellis.domains.projects.links import project_links
from trellis.domains.projects.schemas import ProjectRef
from trellis.domains.segments.filters import (
    BoundGroup,
    CompileContext,
    FilterRegistry,
    ValidationContext,
    bind_filters,
    compile_filters,
)
from trellis.domains.segments.repository import ContactWindow, SegmentRepository, Slice
from trellis.domains.segments.schemas import (
    EMPTY_FILTERS,
    ContactSegmentRead,
    FilterTypeRead,
    MemberRead,
    MembershipResult,
    SegmentCreate,
    SegmentRead,
    SegmentUpdate,
    parse_filters,
)
from trellis.domains.system.service import system_service
from trellis.domains.users.service import user_service
from trellis.errors import Conflict, FieldError, NotFound, ValidationFailed
from trellis.jobs.base import enqueue_job
from trellis.kit.crud import AuditedCrud, EntityKind
from trellis.naming import first_free
from trellis.wiring import Slot

DEFAULT_BATCH_SIZE = 100_000
MANUAL_CHUNK = 1000
REBUILD_JOB = "segments.rebuild"


def _snapshot(segment: Segment) -> dict[str, Any]:
    return {
        "name": segment.name,
        "alias": segment.alias,
        "description": segment.description,
        "is_public": segment.is_public,
        "is_published": segment.is_published,
        "filters": segment.filters,
    }


def iter_conditions(document: Any) -> Iterator[dict[str, Any]]:
    """Every condition of a stored filter document, however deeply nested."""
    if not isinstance(document, dict):
        return
    for item in document.get("conditions") or []:
        if isinstance(item, dict) and "conditions" in item:
            yield from iter_conditions(item)
        elif isinstance(item, dict):
            yield item


def segment_references(document: Any) -> set[int]:
    refs: set[int] = set()
    for condition in iter_conditions(document):
        if condition.get("type") == "segment" and isinstance(condition.get("value"), list):
            refs.update(v for v in condition["value"] if isinstance(v, int))
    return refs


def dependency_order(graph: dict[int, set[int]]) -> list[int]:
    """Segments before the segments whose filters refer to them (references outside the
    graph are ignored; a cycle, which saving refuses, is broken arbitrarily)."""
    order: list[int] = []
    state: dict[int, int] = {}

    def visit(node: int) -> None:
        if state.get(node) is not None:
            return
        state[node] = 1
        for ref in sorted(graph.get(node, ())):
            if ref in graph:
                visit(ref)
        state[node] = 2
        order.append(node)

    for node in sorted(graph):
        visit(node)
    return order


@dataclass
class RebuildPlan:
    """One segment's rebuild: its compiled condition and the contact slices to walk."""

    segment_id: int
    name: str
    condition: ColumnElement[bool] | None
    slices: list[Slice] = field(default_factory=list)
    error: str | None = None


@dataclass
class RebuildResult:
    segment_id: int
    name: str
    joined: int = 0
    left: int = 0
    total: int = 0
    seconds: float = 0.0
    error: str | None = None


def _private(actor: Actor) -> ColumnElement[bool] | None:
    """Private segments are their creator's (and the administrators')."""
    if actor.is_admin:
        return None
    shared: ColumnElement[bool] = or_(
        Segment.is_public.is_(True), Segment.created_by_id == actor.user_id
    )
    return shared


def _private_row(actor: Actor, segment: Segment) -> bool:
    return segment.is_public or actor.is_admin or segment.created_by_id == actor.user_id


SEGMENTS: AuditedCrud[Segment] = AuditedCrud(
    EntityKind(
        resource="segments",
        entity_type="segment",
        label="segment",
        repository=SegmentRepository,
        snapshot=_snapshot,
        projectable=True,
        publishable=True,
        private=_private,
        private_row=_private_row,
    )
)


class SegmentService:
    filters: Slot[FilterRegistry] = Slot()
    # A count runs while someone edits a filter: it answers fast or not at all (the
    # composition root sets this from database.interactive_query_timeout_s).
    count_timeout_s: float = 5.0

    def configure(self, *, filters: FilterRegistry, count_timeout_s: float = 5.0) -> None:
        self.filters = filters
        self.count_timeout_s = count_timeout_s

    # -- filters ----------------------------------------------------------------------------

    async def validation_context(
        self, session: AsyncSession, actor: Actor | None = None
    ) -> ValidationContext:
        """What binding needs; with ``actor``, only the segments they may see can be named."""
        visible = SEGMENTS.visible(actor) if actor is not None else None
        return ValidationContext(
            session=session,
            types=self.filters,
            contact_fields=await field_service.catalog(session, "contact"),
            company_fields=await field_service.catalog(session, "company"),
            segment_ids=await SegmentRepository(session).ids(where=visible),
        )

    async def bind(
        self,
        session: AsyncSession,
        document: Any,
        *,
        pointer: str = "/filters",
        actor: Actor | None = None,
    ) -> BoundGroup:
        """Check a filter document (shape, then every condition) and return it bound."""
        group = parse_filters(document, pointer=pointer)
        context = await self.validation_context(session, actor)
        return await bind_filters(context, group, pointer=pointer)

    async def compile(
        self,
        session: AsyncSession,
        bound: BoundGroup,
        *,
        now: datetime,
        default_timezone: str | None = None,
        scope: ColumnElement[bool] | None = None,
    ) -> ColumnElement[bool]:
        if default_timezone is None:
            default_timezone = (await system_service.settings(session)).default_timezone
        zones: list[str] = []
        if bound.needs_timezones:
            zones = await SegmentRepository(session).timezones(scope)
        context = CompileContext(now=now, default_timezone=default_timezone, timezones=zones)
        return compile_filters(context, bound)

    def filter_types(self, *, actor: Actor) -> list[FilterTypeRead]:
        self._require_view_any(actor)
        return [kind.describe() for kind in self.filters]

    async def count(
        self,
        session: AsyncSession,
        *,
        filters: Any,
        actor: Actor,
        now: datetime,
        default_timezone: str | None = None,
    ) -> int:
        """How many of the contacts ``actor`` may see a filter document matches now, without
        saving anything (counting others' contacts would answer questions about them)."""
        self._require_view_any(actor)
        bound = await self.bind(session, filters, actor=actor)
        condition = await self.compile(session, bound, now=now, default_timezone=default_timezone)
        scope = visible_contacts(actor)
        if scope is not None:
            condition = and_(condition, scope)
        async with statement_time_limit(
            session, self.count_timeout_s, what="Counting the contacts of this filter"
        ):
            return await SegmentRepository(session).count_matching(condition)

    # -- segments ---------------------------------------------------------------------------

    @staticmethod
    def _require_view_any(actor: Actor) -> None:
        SEGMENTS.require_view_any(actor)

    async def get(self, session: AsyncSession, segment_id: int, *, actor: Actor) -> Segment:
        return await SEGMENTS.get(session, segment_id, actor=actor)

    async def read(self, session: AsyncSession, segment: Segment) -> SegmentRead:
        return (await self.read_many(session, [segment]))[0]

    async def read_many(
        self, session: AsyncSession, segments: Sequence[Segment]
    ) -> list[SegmentRead]:
        projects = await project_links.projects_of(session, "segment", [s.id for s in segments])
        out = []
        for segment in segments:
            item = SegmentRead.model_validate(segment)
            item.projects = [ProjectRef(id=p.id, name=p.name) for p in projects[segment.id]]
            out.append(item)
        return out

    async def list_page(
        self,
        session: AsyncSession,
        *,
        actor: Actor,
        page: PageRequest,
        q: str | None = None,
        project_id: int | None = None,
        is_published: bool | None = None,
    ) -> Page[Segment]:
        published = Segment.is_published.is_(is_published) if is_published is not None else None
        return await SEGMENTS.list_page(
            session, actor=actor, page=page, q=q, project_id=project_id, where=[published]
        )

    async def _alias(
        self, repo: SegmentRepository, name: str, wanted: str | None, *, except_id: int | None
    ) -> str:
        if wanted is not None:
            existing = await repo.by_alias(wanted)
            if existing is not None and existing.id != except_id:
                raise Conflict(
                    f"A segment with the alias {wanted!r} exists.",
                    [FieldError("/alias", "This alias is taken.", "duplicate")],
                )
            return wanted
        base = slugify(name).replace("_", "-")[:90] or "segment"
        return first_free(base, await repo.aliases_like(base))

    async def _check_cycles(
        self, session: AsyncSession, segment_id: int | None, bound: BoundGroup
    ) -> None:
        """Refuse filters that would make a segment depend on itself."""
        if segment_id is None:
            return  # nothing refers to a segment that does not exist yet
        graph = {
            sid: segment_references(filters)
            for sid, _, _, filters in await SegmentRepository(session).all_filters()
        }
        graph[segment_id] = bound.segment_refs
        errors = []
        for condition in bound.conditions():
            for index, ref in enumerate(condition.segment_refs):
                if self._reaches(graph, ref, segment_id):
                    errors.append(
                        FieldError(
                            f"{condition.pointer}/value/{index}",
                            "This would make the segment depend on itself "
                            + ("directly." if ref == segment_id else "through other segments."),
                            "cycle",
                        )
                    )
        if errors:
            raise ValidationFailed("Segments cannot refer to each other in a circle.", errors)

    @staticmethod
    def _reaches(graph: dict[int, set[int]], start: int, target: int) -> bool:
        seen: set[int] = set()
        stack = [start]
        while stack:
            node = stack.pop()
            if node == target:
                return True
            if node in seen:
                continue
            seen.add(node)
            stack.extend(graph.get(node, ()))
        return False

    async def create(
        self, session: AsyncSession, *, data: SegmentCreate, actor: Actor, now: datetime
    ) -> Segment:
        actor.require("segments", Perm.CREATE)
        repo = SegmentRepository(session)
        bound = await self.bind(session, data.filters, actor=actor)
        segment = Segment(
            name=data.name,
            alias=await self._alias(repo, data.name, data.alias, except_id=None),
            description=data.description,
            is_public=data.is_public,
            is_published=data.is_published,
            filters=bound.stored(),
            created_by_id=actor.user_id,
            member_count=0,
            created_at=now,
            updated_at=now,
        )
        await SEGMENTS.create(session, segment, actor=actor, now=now, projects=data.projects)
        if segment.is_published:
            _build_soon(segment.id)
        return segment

    async def update(
        self,
        session: AsyncSession,
        segment_id: int,
        *,
        data: SegmentUpdate,
        actor: Actor,
        now: datetime,
        expected_version: int | None,
    ) -> Segment:
        repo = SegmentRepository(session)
        segment = await SEGMENTS.for_edit(session, segment_id, actor=actor)
        given = data.model_dump(exclude_unset=True)

        async def apply(segment: Segment) -> None:
            if given.get("filters") is not None:
                bound = await self.bind(session, given["filters"], actor=actor)
                await self._check_cycles(session, segment.id, bound)
                segment.filters = bound.stored()
            if given.get("alias") is not None:
                segment.alias = await self._alias(
                    repo, segment.name, given["alias"], except_id=segment.id
                )
            for name in ("name", "description", "is_public", "is_published"):
                if given.get(name) is not None:
                    setattr(segment, name, given[name])

        changes = await SEGMENTS.update(
            session,
            segment,
            actor=actor,
            now=now,
            expected_version=expected_version,
            apply=apply,
            projects=data.projects,
        )
        if segment.is_published and ("filters" in changes or "is_published" in changes):
            _build_soon(segment.id)
        return segment

    async def delete(
        self, session: AsyncSession, segment_id: int, *, actor: Actor, now: datetime
    ) -> None:
        repo = SegmentRepository(session)
        segment = await SEGMENTS.for_delete(session, segment_id, actor=actor)
        users = [
            name
            for sid, name, _, filters in await repo.all_filters()
            if sid != segment_id and segment_id in segment_references(filters)
        ]
        if users:
            raise Conflict(
                f"The segment is used by the filters of: {', '.join(users)}. Change those first.",
                extra={"used_by": users},
            )
        await SEGMENTS.delete(session, segment, actor=actor, now=now)

    # -- members ----------------------------------------------------------------------------

    async def members_page(
        self, session: AsyncSession, segment_id: int, *, actor: Actor, page: PageRequest
    ) -> Page[MemberRead]:
        await self.get(session, segment_id, actor=actor)
        found = await SegmentRepository(session).members_page(
            segment_id, page=page, contacts=visible_contacts(actor)
        )
        items = [
            MemberRead(
                contact_id=row.contact_id,
                email=row.email,
                first_name=row.first_name,
                last_name=row.last_name,
                added_at=row.added_at,
                manually_added=row.manually_added,
            )
            for row in found.items
        ]
        return Page(items=items, total=found.total, number=found.number, size=found.size)

    async def segments_of_contact(
        self, session: AsyncSession, contact_id: int, *, actor: Actor
    ) -> list[ContactSegmentRead]:
        actor.require_view_any("contacts")
        repo = SegmentRepository(session)
        if not await repo.existing_contacts([contact_id], where=visible_contacts(actor)):
            raise NotFound(f"No contact with id {contact_id}.")
        return [
            ContactSegmentRead(
                id=row.id,
                name=row.name,
                alias=row.alias,
                is_public=row.is_public,
                is_published=row.is_published,
                added_at=row.added_at,
                manually_added=row.manually_added,
            )
            for row in await repo.segments_of_contact(contact_id, where=SEGMENTS.visible(actor))
        ]

    async def add_members(
        self,
        session: AsyncSession,
        segment_id: int,
        *,
        contact_ids: Sequence[int],
        actor: Actor,
        now: datetime,
    ) -> MembershipResult:
        """Add contacts by hand (the API, a UI bulk action, "apply a segment" in an import).

        They stay members whatever the filters say, until removed by hand.
        """
        return await self._change_members(
            session, segment_id, contact_ids=contact_ids, actor=actor, now=now, add=True
        )

    async def remove_members(
        self,
        session: AsyncSession,
        segment_id: int,
        *,
        contact_ids: Sequence[int],
        actor: Actor,
        now: datetime,
    ) -> MembershipResult:
        """Remove contacts by hand; no rebuild adds them back (until they are added by hand)."""
        return await self._change_members(
            session, segment_id, contact_ids=contact_ids, actor=actor, now=now, add=False
        )

    async def _change_members(
        self,
        session: AsyncSession,
        segment_id: int,
        *,
        contact_ids: Sequence[int],
        actor: Actor,
        now: datetime,
        add: bool,
    ) -> MembershipResult:
        repo = SegmentRepository(session)
        segment = await SEGMENTS.for_edit(session, segment_id, actor=actor)
        ids = list(dict.fromkeys(contact_ids))
        changed = 0
        missing: list[int] = []
        for start in range(0, len(ids), MANUAL_CHUNK):
            chunk = ids[start : start + MANUAL_CHUNK]
            # A contact the actor may not see is, for them, a contact that does not exist.
            existing = await repo.existing_contacts(chunk, where=visible_contacts(actor))
            missing.extend(i for i in chunk if i not in existing)
            present = [i for i in chunk if i in existing]
            if not present:
                continue
            if add:
                changed += await repo.add_manually(segment_id, present, now=now)
            else:
                changed += await repo.remove_manually(segment_id, present, now=now)
        before = segment.member_count
        total = await repo.count_members(segment_id)
        await repo.set_built(segment_id, member_count=total, now=None)
        await session.refresh(segment)
        if changed:
            changes: dict[str, Any] = {
                "member_count": {"old": before, "new": total},
                "members_added" if add else "members_removed": {"old": None, "new": changed},
            }
            await audit.record(
                session,
                actor=actor,
                action=AuditAction.MEMBERSHIP,
                entity_type="segment",
                entity_id=segment_id,
                entity_name=segment.name,
                changes=changes,
                now=now,
            )
        return MembershipResult(
            changed=changed,
            unchanged=len(ids) - len(missing) - changed,
            not_found=missing,
            member_count=total,
        )

    async def request_rebuild(
        self, session: AsyncSession, segment_id: int, *, actor: Actor
    ) -> None:
        segment = await self.get(session, segment_id, actor=actor)
        actor.require_on("segments", Perm.EDIT_OWN, Perm.EDIT_OTHERS, segment.created_by_id)
        _build_soon(segment_id)

    # -- the rebuild, in batches driven by the edge -------------------------------------------

    async def plan_rebuild(
        self,
        session: AsyncSession,
        *,
        now: datetime,
        segment_ids: Sequence[int] | None = None,
        updated_after: datetime | None = None,
        default_timezone: str | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> list[RebuildPlan]:
        """What to rebuild, in dependency order: the given segments, or every published one.

        With ``updated_after`` only contacts updated since then are looked at (the
        incremental pass). A segment whose stored filters no longer check out gets a plan
        with ``error`` set instead of a condition.
        """
        repo = SegmentRepository(session)
        everything = await repo.all_filters()
        if segment_ids is None:
            chosen = {sid: (name, f) for sid, name, published, f in everything if published}
        else:
            known = {sid: (name, f) for sid, name, _, f in everything}
            for sid in segment_ids:
                if sid not in known:
                    raise NotFound(f"No segment with id {sid}.")
            chosen = {sid: known[sid] for sid in segment_ids}
        order = dependency_order({sid: segment_references(f) for sid, (_, f) in chosen.items()})
        window = await repo.contact_window(updated_after=updated_after)
        slices = self._slices(window, batch_size, updated_after)
        if default_timezone is None:
            default_timezone = (await system_service.settings(session)).default_timezone
        scope = slices[0].contacts() if updated_after is not None and slices else None
        owners = await self._owner_scopes(session, order)
        plans = []
        for sid in order:
            name, filters = chosen[sid]
            try:
                bound = await self.bind(session, filters or EMPTY_FILTERS)
                condition = await self.compile(
                    session, bound, now=now, default_timezone=default_timezone, scope=scope
                )
                owner_scope = owners.get(sid)
                if owner_scope is not None:
                    condition = and_(condition, owner_scope)
            except ValidationFailed as exc:
                first = exc.errors[0] if exc.errors else None
                reason = f"{first.pointer}: {first.detail}" if first else exc.detail
                if len(exc.errors) > 1:
                    reason += f" (and {len(exc.errors) - 1} more)"
                plans.append(RebuildPlan(sid, name, None, error=f"invalid filters at {reason}"))
                continue
            plans.append(RebuildPlan(sid, name, condition, list(slices)))
        return plans

    async def _owner_scopes(
        self, session: AsyncSession, segment_ids: Sequence[int]
    ) -> dict[int, ColumnElement[bool] | None]:
        """A segment holds only contacts its creator may see: a user who sees only their own
        contacts builds segments of their own contacts (ADR 0015)."""
        creators = await SegmentRepository(session).creators(segment_ids)
        actors: dict[int, Actor | None] = {}
        scopes: dict[int, ColumnElement[bool] | None] = {}
        for sid in segment_ids:
            creator = creators.get(sid)
            if creator is not None and creator not in actors:
                actors[creator] = await user_service.acting_as(session, creator)
            owner = actors.get(creator) if creator is not None else None
            scopes[sid] = visible_contacts(owner) if owner is not None else None
        return scopes

    @staticmethod
    def _slices(
        window: ContactWindow, batch_size: int, updated_after: datetime | None
    ) -> list[Slice]:
        if window.count == 0:
            return []
        size = max(1, batch_size)
        return [
            Slice(low, min(low + size, window.high), updated_after)
            for low in range(window.low, window.high, size)
        ]

    async def rebuild_slice(
        self, session: AsyncSession, plan: RebuildPlan, part: Slice, *, now: datetime
    ) -> tuple[int, int]:
        """Joins and leaves for one slice of contacts; returns (joined, left)."""
        assert plan.condition is not None
        repo = SegmentRepository(session)
        left = await repo.apply_leaves(plan.segment_id, plan.condition, part, now=now)
        joined = await repo.apply_joins(plan.segment_id, plan.condition, part, now=now)
        return joined, left

    async def finish_rebuild(
        self, session: AsyncSession, segment_id: int, *, now: datetime | None
    ) -> int:
        """Store the member count (and, after a full rebuild, when it was built)."""
        repo = SegmentRepository(session)
        total = await repo.count_members(segment_id)
        await repo.set_built(segment_id, member_count=total, now=now)
        return total

    async def refresh_statistics(self, session: AsyncSession) -> None:
        await SegmentRepository(session).refresh_statistics()

    async def changed_contacts(self, session: AsyncSession, *, after: datetime) -> ContactWindow:
        return await SegmentRepository(session).contact_window(updated_after=after)

    # -- hooks for other domains ------------------------------------------------------------

    async def existing_ids(
        self, session: AsyncSession, ids: Sequence[int], *, actor: Actor | None = None
    ) -> set[int]:
        """Which of these segment ids exist (and ``actor`` may see, when given)."""
        return await SEGMENTS.existing_ids(session, ids, actor=actor)

    async def visible_names(
        self, session: AsyncSession, ids: Sequence[int], actor: Actor
    ) -> dict[int, str]:
        return await SEGMENTS.names(session, ids, actor)

    async def fields_in_use(self, session: AsyncSession, object_: str, alias: str) -> list[str]:
        kind = "custom_field" if object_ == "contact" else "company_field"
        return [
            f"segment {name!r}"
            for _, name, _, filters in await SegmentRepository(session).all_filters()
            if any(
                c.get("type") == kind and c.get("field") == alias for c in iter_conditions(filters)
            )
        ]

    async def timeline(
        self, session: AsyncSession, contact_id: int, before: datetime | None, limit: int
    ) -> list[ActivityItem]:
        rows = await SegmentRepository(session).membership_log(
            contact_id, limit=limit, before=before
        )
        return [
            ActivityItem(
                occurred_at=row.occurred_at,
                kind=f"segment.{row.change}",
                summary=("Joined" if row.change == "joined" else "Left")
                + f" segment {row.name}"
                + (" (by hand)" if row.manual else ""),
                details={"segment_id": row.segment_id, "manual": row.manual},
                source_type="segment",
                source_id=row.segment_id,
            )
            for row in rows
        ]

    async def merge_contacts(
        self, session: AsyncSession, winner_id: int, loser_id: int, now: datetime
    ) -> None:
        await SegmentRepository(session).move_memberships(loser_id=loser_id, winner_id=winner_id)


segment_service = SegmentService()

PROJECTABLE = SEGMENTS.projectable("Segments")


def _build_soon(segment_id: int) -> None:
    """A new or changed segment is built right after the commit, not at the next full pass:
    the incremental pass only looks at contacts that changed, and these did not."""
    enqueue_job(REBUILD_JOB, {"segment_id": segment_id}, dedupe_key=f"{REBUILD_JOB}:{segment_id}")
