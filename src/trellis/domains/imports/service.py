"""CSV imports of contacts: check the options, plan the work, apply it batch by batch.

The plan (format, header mapping, what to apply to every contact) is made once, when the
import is created, and made again when it starts, against the fields as they are then. Rows
are read and checked outside any transaction (:mod:`trellis.domains.imports.reader`,
:mod:`trellis.domains.imports.mapping`); each batch of checked rows is then one short
transaction (:meth:`ImportService.apply_batch`), which also records the progress, so the
SQLite write lock is never held for long and the API shows the import moving.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from trellis.actor import Actor, Perm
from trellis.csv_output import SafeCsvWriter
from trellis.db.models import ContactImport
from trellis.db.pagination import Page, PageRequest
from trellis.domains.audit.service import AuditAction, audit
from trellis.domains.contacts.service import contact_service
from trellis.domains.contacts.values import Prepared
from trellis.domains.fields.service import FieldCatalog, field_service
from trellis.domains.imports.mapping import (
    CellError,
    HeaderMapping,
    MappingInvalid,
    RowConverter,
    map_headers,
)
from trellis.domains.imports.reader import (
    DELIMITER_NAMES,
    Format,
    UnreadableFile,
    file_size,
    normalise_delimiter,
    normalise_encoding,
    read_head,
    sniff,
)
from trellis.domains.imports.repository import ImportRepository
from trellis.domains.imports.schemas import (
    CellErrorRead,
    ImportOptions,
    ImportPreview,
    ImportRead,
    PreviewColumn,
)
from trellis.domains.segments.service import segment_service
from trellis.domains.users.service import user_service
from trellis.errors import FieldError, NotFound, ValidationFailed
from trellis.files import open_private, private_dir
from trellis.jobs.base import enqueue_job
from trellis.kit.visibility import may_see

ERRORS_KEPT = 100
BATCH_ROWS = 5000
PREVIEW_ROWS = 10


@dataclass
class ImportPlan:
    """Everything needed to read the file and apply its rows."""

    path: Path
    format: Format
    mapping: HeaderMapping
    catalog: FieldCatalog
    actor: Actor
    tags: list[str] = field(default_factory=list)
    owner_id: int | None = None
    segment_id: int | None = None
    import_id: int | None = None
    errors_file: Path | None = None
    size_bytes: int = 0

    def converter(self) -> RowConverter:
        return RowConverter(self.mapping, self.catalog)

    def describe(self) -> dict[str, Any]:
        return {
            "encoding": self.format.encoding,
            "delimiter": self.format.delimiter,
            "mapping": self.mapping.targets,
            "notes": self.mapping.notes(),
        }


@dataclass
class Tallies:
    """Running totals of an import; what the progress bar and the report show."""

    size_bytes: int = 0
    bytes_read: int = 0
    rows_read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    error_count: int = 0
    first_errors: list[dict[str, Any]] = field(default_factory=list)

    def values(self) -> dict[str, Any]:
        return {
            "bytes_read": self.bytes_read,
            "rows_read": self.rows_read,
            "created_count": self.created,
            "updated_count": self.updated,
            "unchanged_count": self.unchanged,
            "failed_count": self.failed,
            "errors": self.first_errors,
        }


class ErrorSink:
    """Every error to a CSV file (line, column, reason, value); the first few kept in memory."""

    HEADER = ("line", "column", "reason", "value")

    def __init__(self, path: Path | None, tallies: Tallies, *, keep: int = ERRORS_KEPT) -> None:
        self.path = path
        self.tallies = tallies
        self.keep = keep
        self._handle: Any = None
        self._writer: Any = None

    def __enter__(self) -> ErrorSink:
        if self.path is not None:
            private_dir(self.path.parent)
            self._handle = open_private(self.path, "w", encoding="utf-8", newline="")
            self._writer = SafeCsvWriter(self._handle)
            self._writer.writerow(self.HEADER)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._handle is not None:
            self._handle.close()

    def add(self, errors: Iterable[CellError]) -> None:
        for error in errors:
            self.tallies.error_count += 1
            if len(self.tallies.first_errors) < self.keep:
                self.tallies.first_errors.append(error.as_dict())
            if self._writer is not None:
                self._writer.writerow((error.line, error.column, error.reason, error.value))


def _requested_by(actor: Actor) -> dict[str, Any]:
    return {
        "type": actor.type,
        "name": actor.name,
        "user_id": actor.user_id,
        "token_id": actor.token_id,
        "scopes": list(actor.scopes),
    }


async def _acting_for(session: AsyncSession, snapshot: dict[str, Any]) -> Actor:
    """The actor a background import acts as: who asked for it, with their permissions as
    they are when it runs (ADR 0015), narrowed by the token's scopes if a token asked. An
    import no user asked for (the command line) acts as the system."""
    owner = await user_service.acting_as(session, snapshot.get("user_id"))
    if owner is None:
        return Actor.system(snapshot.get("name", "import"))
    if snapshot.get("type") == "token":
        return replace(
            owner,
            type="token",
            name=snapshot.get("name", owner.name),
            token_id=snapshot.get("token_id"),
            scopes=tuple(snapshot.get("scopes") or ()),
        )
    return owner


def to_read(item: ContactImport) -> ImportRead:
    options = {k: v for k, v in item.options.items() if k not in {"requested_by", "errors_file"}}
    return ImportRead(
        id=item.id,
        status=item.status,
        filename=item.filename,
        size_bytes=item.size_bytes,
        bytes_read=item.bytes_read,
        progress=min(1.0, item.bytes_read / item.size_bytes) if item.size_bytes else 1.0,
        rows_read=item.rows_read,
        created=item.created_count,
        updated=item.updated_count,
        unchanged=item.unchanged_count,
        failed=item.failed_count,
        errors=[CellErrorRead.model_validate(e) for e in item.errors],
        message=item.message,
        options=options,
        created_by_id=item.created_by_id,
        created_at=item.created_at,
        started_at=item.started_at,
        finished_at=item.finished_at,
    )


class ImportService:
    # -- planning -----------------------------------------------------------------------------

    def check_can_import(self, actor: Actor) -> None:
        """Refuse early, before an upload is stored, when the caller may not import."""
        actor.require("imports", Perm.CREATE)
        actor.require("contacts", Perm.CREATE)

    async def plan(
        self,
        session: AsyncSession,
        *,
        path: Path,
        options: ImportOptions,
        actor: Actor,
        pointer: str = "/options",
        check_rights: bool = True,
    ) -> ImportPlan:
        """Check the options against the file and the database; 422 with pointers if wrong."""
        if check_rights:
            actor.require("imports", Perm.CREATE)
            actor.require("contacts", Perm.CREATE)
        errors: list[FieldError] = []
        encoding = delimiter = None
        if options.encoding:
            try:
                encoding = normalise_encoding(options.encoding)
            except ValueError as exc:
                errors.append(FieldError(f"{pointer}/encoding", str(exc), "unsupported"))
        if options.delimiter:
            try:
                delimiter = normalise_delimiter(options.delimiter)
            except ValueError as exc:
                errors.append(FieldError(f"{pointer}/delimiter", str(exc), "unsupported"))
        if options.owner_id is not None and not await user_service.existing_ids(
            session, [options.owner_id]
        ):
            errors.append(
                FieldError(
                    f"{pointer}/owner_id", f"No user with id {options.owner_id}.", "not_found"
                )
            )
        elif (
            check_rights
            and options.owner_id not in (None, actor.user_id)
            and not actor.can("contacts", Perm.EDIT_OTHERS)
        ):
            errors.append(
                FieldError(f"{pointer}/owner_id", "You may only choose yourself.", "forbidden")
            )
        if options.segment_id is not None:
            try:
                segment = await segment_service.get(session, options.segment_id, actor=actor)
                actor.require_on("segments", Perm.EDIT_OWN, Perm.EDIT_OTHERS, segment.created_by_id)
            except NotFound:
                errors.append(
                    FieldError(
                        f"{pointer}/segment_id",
                        f"No segment with id {options.segment_id}.",
                        "not_found",
                    )
                )
        if errors:
            raise ValidationFailed("Some import options are invalid.", errors)
        try:
            fmt = sniff(path, encoding=encoding, delimiter=delimiter)
            headers, _ = read_head(path, fmt, 0)
        except UnreadableFile as exc:
            raise ValidationFailed(
                str(exc), [FieldError("/file", str(exc), "unreadable")]
            ) from None
        catalog = await field_service.catalog(session)
        try:
            mapping = map_headers(headers, catalog, options.mapping, pointer=f"{pointer}/mapping")
        except MappingInvalid as exc:
            raise ValidationFailed(str(exc), exc.errors) from None
        return ImportPlan(
            path=path,
            format=fmt,
            mapping=mapping,
            catalog=catalog,
            actor=actor,
            tags=list(options.tags),
            owner_id=options.owner_id,
            segment_id=options.segment_id,
            size_bytes=file_size(path) or 0,
        )

    async def preview(
        self,
        session: AsyncSession,
        *,
        path: Path,
        options: ImportOptions,
        actor: Actor,
        rows: int = PREVIEW_ROWS,
    ) -> ImportPreview:
        """The detected format, the automatic mapping and the first rows, for the wizard."""
        actor.require("imports", Perm.CREATE)
        try:
            plan = await self.plan(session, path=path, options=options, actor=actor)
            mapping = plan.mapping
            notes = mapping.notes()
        except ValidationFailed as exc:
            # Show the file even when no identifier is mapped yet: that is what the wizard
            # is for. Other problems (encoding, bad overrides) are the caller's to fix.
            if not any(e.code == "no_identifier" for e in exc.errors):
                raise
            fmt = sniff(path, encoding=None, delimiter=None)
            headers, _ = read_head(path, fmt, 0)
            catalog = await field_service.catalog(session)
            mapping = HeaderMapping(headers=[h.strip() for h in headers], columns=[])
            plan = ImportPlan(path, fmt, mapping, catalog, actor)
            notes = [exc.errors[0].detail]
        headers, records = read_head(path, plan.format, rows)
        found: list[CellError] = []
        converter = plan.converter() if mapping.columns else None
        for record in records:
            if record.problem is not None:
                found.append(CellError(record.line, "", record.problem))
            elif converter is not None:
                result = converter.convert(record.line, record.values)
                if isinstance(result, list):
                    found.extend(result)
        targets = mapping.targets
        columns = [
            PreviewColumn(
                header=header.strip(),
                target=targets.get(header.strip()),
                samples=[r.values[i] for r in records if i < len(r.values)][:5],
            )
            for i, header in enumerate(headers)
        ]
        return ImportPreview(
            encoding=plan.format.encoding,
            delimiter=plan.format.delimiter,
            headers=[h.strip() for h in headers],
            mapping=targets,
            columns=columns,
            rows=[r.values for r in records],
            notes=notes,
            errors=[CellErrorRead.model_validate(e.as_dict()) for e in found],
        )

    # -- the import job row ---------------------------------------------------------------------

    async def create(
        self,
        session: AsyncSession,
        *,
        path: Path,
        filename: str,
        options: ImportOptions,
        errors_file: Path,
        actor: Actor,
        now: datetime,
        enqueue: bool = True,
    ) -> tuple[ContactImport, ImportPlan]:
        """Record an import of the file at ``path``; with ``enqueue`` its job starts after the
        commit, otherwise the caller runs it (the CLI)."""
        plan = await self.plan(session, path=path, options=options, actor=actor)
        stored = options.model_dump(mode="json")
        stored.update(
            detected={
                "encoding": plan.format.encoding,
                "delimiter": DELIMITER_NAMES[plan.format.delimiter],
            },
            columns=plan.mapping.targets,
            notes=plan.mapping.notes(),
            requested_by=_requested_by(actor),
            errors_file=str(errors_file),
        )
        item = ContactImport(
            status="queued",
            filename=filename[:255],
            path=str(path),
            size_bytes=plan.size_bytes,
            options=stored,
            rows_read=0,
            created_count=0,
            updated_count=0,
            unchanged_count=0,
            failed_count=0,
            bytes_read=0,
            errors=[],
            message="",
            created_by_id=actor.user_id,
            created_at=now,
        )
        ImportRepository(session).add(item)
        await session.flush()
        plan.import_id = item.id
        plan.errors_file = errors_file
        if enqueue:
            enqueue_job("imports.run", {"import_id": item.id})
        return item, plan

    async def start(self, session: AsyncSession, import_id: int, *, now: datetime) -> ImportPlan:
        """Claim a queued import and plan it again against the fields as they are now.

        Raises NotFound when there is no such queued import (it ran, or another worker has
        it); ValidationFailed when it can no longer run (the file or a field went away)."""
        repo = ImportRepository(session)
        item = await repo.get(import_id)
        if item is None or not await repo.claim(import_id, {"started_at": now}):
            raise NotFound(f"No queued import with id {import_id}.")
        stored = dict(item.options)
        options = ImportOptions.model_validate(
            {k: stored.get(k) for k in ImportOptions.model_fields if stored.get(k) is not None}
        )
        actor = await _acting_for(session, stored.get("requested_by") or {})
        path = Path(item.path)
        if file_size(path) is None:
            raise ValidationFailed("The uploaded file is gone.")
        plan = await self.plan(session, path=path, options=options, actor=actor, check_rights=False)
        plan.import_id = import_id
        plan.errors_file = Path(stored["errors_file"]) if stored.get("errors_file") else None
        return plan

    async def apply_batch(
        self,
        session: AsyncSession,
        plan: ImportPlan,
        *,
        items: list[Prepared],
        lines: list[int],
        tallies: Tallies,
        now: datetime,
    ) -> tuple[list[CellError], dict[str, int]]:
        """Create or update one batch of contacts, apply the segment, record the progress.

        Returns the rows the database refused, and the counts to add to ``tallies`` once
        the transaction has committed."""
        outcome = await contact_service.upsert_prepared(
            session,
            items=items,
            actor=plan.actor,
            now=now,
            pointer_prefix="",
            extra_tags=plan.tags,
            owner_id=plan.owner_id,
            catalog=plan.catalog,
            audit_summary=False,
        )
        header_of = {alias: header for header, alias in plan.mapping.targets.items() if alias}
        errors = [
            CellError(lines[index], header_of.get(alias, alias), error.detail)
            for index, found in outcome.errors.items()
            for error in found
            for alias in [error.pointer.rsplit("/", 1)[-1]]
        ]
        if plan.segment_id is not None:
            ids = [i for i in outcome.ids if i is not None]
            if ids:
                await segment_service.add_members(
                    session, plan.segment_id, contact_ids=ids, actor=plan.actor, now=now
                )
        # A refused row (a contact the importer may not change) is a failed row of the file.
        failed = outcome.failed + outcome.refused
        counts = {
            "created": outcome.created,
            "updated": outcome.updated,
            "unchanged": outcome.unchanged,
            "failed": failed,
        }
        if plan.import_id is not None:
            values = tallies.values()
            values.update(
                created_count=tallies.created + outcome.created,
                updated_count=tallies.updated + outcome.updated,
                unchanged_count=tallies.unchanged + outcome.unchanged,
                failed_count=tallies.failed + failed,
            )
            await ImportRepository(session).set_values(plan.import_id, values)
        return errors, counts

    async def record_progress(
        self, session: AsyncSession, import_id: int, *, tallies: Tallies
    ) -> None:
        await ImportRepository(session).set_values(import_id, tallies.values())

    async def finish(
        self,
        session: AsyncSession,
        plan: ImportPlan,
        *,
        tallies: Tallies,
        failure: str | None,
        now: datetime,
    ) -> None:
        if plan.import_id is None:
            return
        if failure is None:
            message = (
                f"{tallies.rows_read:,} rows read: {tallies.created:,} created, "
                f"{tallies.updated:,} updated, {tallies.unchanged:,} unchanged, "
                f"{tallies.failed:,} failed."
            )
        else:
            message = failure
        await ImportRepository(session).set_values(
            plan.import_id,
            {
                **tallies.values(),
                "status": "failed" if failure else "done",
                "message": message,
                "finished_at": now,
            },
        )
        await audit.record(
            session,
            actor=plan.actor,
            action=AuditAction.IMPORT,
            entity_type="contact_import",
            entity_id=plan.import_id,
            entity_name=plan.path.name,
            changes={
                "created": {"old": None, "new": tallies.created},
                "updated": {"old": None, "new": tallies.updated},
                "failed": {"old": None, "new": tallies.failed},
            },
            now=now,
        )

    async def fail(
        self, session: AsyncSession, import_id: int, *, message: str, now: datetime
    ) -> None:
        await ImportRepository(session).set_values(
            import_id, {"status": "failed", "message": message[:2000], "finished_at": now}
        )

    # -- reading ---------------------------------------------------------------------------------

    async def get(self, session: AsyncSession, import_id: int, *, actor: Actor) -> ContactImport:
        item = await ImportRepository(session).get(import_id)
        actor.require_view_any("imports")
        if item is None or not may_see(actor, "imports", item.created_by_id):
            raise NotFound(f"No import with id {import_id}.")
        return item

    async def list_page(
        self, session: AsyncSession, *, actor: Actor, page: PageRequest
    ) -> Page[ContactImport]:
        only_own = None
        if not actor.can("imports", Perm.VIEW_OTHERS):
            actor.require("imports", Perm.VIEW_OWN)
            only_own = actor.user_id
        return await ImportRepository(session).list_page(page=page, created_by_id=only_own)

    async def errors_file(self, session: AsyncSession, import_id: int, *, actor: Actor) -> Path:
        item = await self.get(session, import_id, actor=actor)
        stored = item.options.get("errors_file")
        path = Path(stored) if stored else None
        if path is None or not path.is_file():
            raise NotFound(f"Import {import_id} has no error report yet.")
        return path


import_service = ImportService()
