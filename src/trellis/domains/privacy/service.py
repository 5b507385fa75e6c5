"""The privacy lifecycle (ADR 0018): retention policies and the clean-up that applies them,
data-subject requests (export, erasure that sticks) and consent records."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from trellis.actor import Actor, Perm
from trellis.db.models import CleanupRun, Contact
from trellis.db.pagination import PageRequest
from trellis.db.session import Database
from trellis.domains.audit.service import AuditAction, audit
from trellis.domains.contacts.service import contact_service
from trellis.domains.forms.submission import anonymise_ip
from trellis.domains.notifications.service import notification_service
from trellis.domains.privacy import policies
from trellis.domains.privacy.export import build_archive
from trellis.domains.privacy.policies import BY_NAME, POLICIES, PolicySpec
from trellis.domains.privacy.repository import (
    Batch,
    CleanupRepository,
    ConsentRepository,
    RetentionRepository,
    SuppressionRepository,
)
from trellis.domains.privacy.schemas import (
    CleanupRunRead,
    ConsentChange,
    ConsentHistory,
    ConsentRead,
    ErasureResult,
    RetentionPolicyRead,
    RetentionPolicyUpdate,
)
from trellis.domains.privacy.subject_repository import SubjectRepository
from trellis.domains.system.service import system_service
from trellis.errors import FieldError, NotFound, ValidationFailed
from trellis.jobs.base import enqueue_job
from trellis.kit.visibility import may_see

log = logging.getLogger(__name__)

# (policy, table, rows done, rows expected) after each batch.
Progress = Callable[[str, str, int, int], None]
BatchFunction = Callable[[AsyncSession, datetime, Any, int], Awaitable[Batch]]
CountFunction = Callable[[AsyncSession, datetime], Awaitable[int]]


@dataclass(frozen=True)
class CleanupConfig:
    batch_size: int = 2000
    pause_s: float = 0.005
    anonymise_ips: bool = True


@dataclass(frozen=True)
class Effective:
    """A policy as it applies now: the default, or the administrator's override."""

    spec: PolicySpec
    enabled: bool
    period: int
    mode: str | None


@dataclass(frozen=True)
class Step:
    """One table's walk within a policy."""

    table: str
    count: CountFunction
    batch: BatchFunction
    start: Any = 0


@dataclass
class RunOutcome:
    run_id: int
    policy: str
    dry_run: bool
    rows: int = 0
    details: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None


def _ignore_progress(policy: str, table: str, done: int, total: int) -> None:
    return None


def normalise_email(email: str) -> str:
    return email.strip().lower()


def suppression_hash(salt: str, email: str) -> str:
    """HMAC-SHA256 of the normalised address under the instance's suppression salt."""
    return hmac.new(salt.encode(), normalise_email(email).encode(), hashlib.sha256).hexdigest()


class PrivacyService:
    def __init__(self) -> None:
        self.config = CleanupConfig()
        self._running = asyncio.Lock()

    def configure(self, config: CleanupConfig) -> None:
        self.config = config

    # -- retention policies -------------------------------------------------------------------

    async def effective(self, session: AsyncSession) -> list[Effective]:
        overrides = await RetentionRepository(session).overrides()
        result = []
        for spec in POLICIES:
            row = overrides.get(spec.name)
            if row is None:
                result.append(Effective(spec, spec.enabled, spec.period, spec.default_mode))
            else:
                result.append(
                    Effective(spec, row.enabled, row.period, row.mode or spec.default_mode)
                )
        return result

    async def policies(self, session: AsyncSession, *, actor: Actor) -> list[RetentionPolicyRead]:
        actor.require("settings", Perm.VIEW_OTHERS)
        last = await RetentionRepository(session).last_runs()
        return [
            RetentionPolicyRead(
                name=e.spec.name,
                label=e.spec.label,
                description=e.spec.description,
                enabled=e.enabled,
                period=e.period,
                unit=e.spec.unit,
                modes=list(e.spec.modes),
                mode=e.mode,
                default_enabled=e.spec.enabled,
                default_period=e.spec.period,
                default_mode=e.spec.default_mode,
                last_run=CleanupRunRead.model_validate(last[e.spec.name])
                if e.spec.name in last
                else None,
            )
            for e in await self.effective(session)
        ]

    async def update_policy(
        self,
        session: AsyncSession,
        name: str,
        data: RetentionPolicyUpdate,
        *,
        actor: Actor,
        now: datetime,
    ) -> RetentionPolicyRead:
        actor.require("settings", Perm.EDIT_OTHERS)
        spec = BY_NAME.get(name)
        if spec is None:
            raise NotFound(f"No retention policy named {name!r}.")
        current = next(e for e in await self.effective(session) if e.spec.name == name)
        mode = data.mode if data.mode is not None else current.mode
        if data.mode is not None and data.mode not in spec.modes:
            allowed = ", ".join(spec.modes) or "none (this policy has no choice)"
            raise ValidationFailed(
                "Unknown mode.", [FieldError("/mode", f"Must be one of: {allowed}.", "invalid")]
            )
        enabled = current.enabled if data.enabled is None else data.enabled
        period = current.period if data.period is None else data.period
        await RetentionRepository(session).put(
            name, enabled=enabled, period=period, mode=mode, now=now
        )
        await audit.record(
            session,
            actor=actor,
            action=AuditAction.UPDATE,
            entity_type="retention_policy",
            entity_id=None,
            entity_name=spec.label,
            changes={
                key: {"old": old, "new": new}
                for key, old, new in (
                    ("enabled", current.enabled, enabled),
                    ("period", current.period, period),
                    ("mode", current.mode, mode),
                )
                if old != new
            },
            now=now,
        )
        return next(p for p in await self.policies(session, actor=actor) if p.name == name)

    async def runs(
        self, session: AsyncSession, *, actor: Actor, policy: str | None, page: PageRequest
    ) -> tuple[list[CleanupRunRead], int]:
        actor.require("settings", Perm.VIEW_OTHERS)
        found = await RetentionRepository(session).runs(policy=policy, page=page)
        return [CleanupRunRead.model_validate(r) for r in found.items], found.total

    def _check_names(self, names: Sequence[str] | None) -> None:
        unknown = [n for n in names or [] if n not in BY_NAME]
        if unknown:
            known = ", ".join(BY_NAME)
            raise ValidationFailed(
                f"Unknown retention policy {unknown[0]!r}.",
                [FieldError("/policies", f"Known policies: {known}.", "invalid")],
            )

    # -- the clean-up -------------------------------------------------------------------------

    async def queue_cleanup(
        self,
        session: AsyncSession,
        *,
        names: Sequence[str] | None,
        dry_run: bool,
        trigger: str,
        actor: Actor,
        now: datetime,
    ) -> list[CleanupRunRead]:
        """Record runs to be done (a job does them, ``run_queued``); the runs as queued."""
        actor.require("settings", Perm.EDIT_OTHERS)
        self._check_names(names)
        chosen = self._chosen(await self.effective(session), names)
        repo = RetentionRepository(session)
        queued = []
        for item in chosen:
            run = self._new_run(item, now=now, dry_run=dry_run, trigger=trigger, status="queued")
            await repo.start_run(run)
            queued.append(CleanupRunRead.model_validate(run))
        if queued:
            enqueue_job("privacy.cleanup", {"run_ids": [r.id for r in queued]})
        return queued

    async def dry_run(
        self,
        session: AsyncSession,
        *,
        names: Sequence[str] | None,
        trigger: str,
        actor: Actor,
        now: datetime,
    ) -> list[CleanupRunRead]:
        """Count what each chosen policy would remove, now, and record it as a dry run."""
        actor.require("settings", Perm.EDIT_OTHERS)
        self._check_names(names)
        repo = RetentionRepository(session)
        done = []
        for item in self._chosen(await self.effective(session), names):
            started = time.perf_counter()
            run = self._new_run(item, now=now, dry_run=True, trigger=trigger, status="done")
            details = {
                step.table: await step.count(session, run.cutoff) for step in self._steps(item, now)
            }
            run.details, run.rows = details, sum(details.values())
            run.finished_at, run.seconds = now, round(time.perf_counter() - started, 3)
            await repo.start_run(run)
            done.append(CleanupRunRead.model_validate(run))
        return done

    @staticmethod
    def _chosen(effective: list[Effective], names: Sequence[str] | None) -> list[Effective]:
        if names:
            return [e for e in effective if e.spec.name in names]
        return [e for e in effective if e.enabled]

    @staticmethod
    def _new_run(
        item: Effective, *, now: datetime, dry_run: bool, trigger: str, status: str
    ) -> CleanupRun:
        return CleanupRun(
            policy=item.spec.name,
            dry_run=dry_run,
            trigger=trigger,
            status=status,
            started_at=now,
            cutoff=policies.cutoff(now, item.period, item.spec.unit),
            rows=0,
            details={},
            seconds=0.0,
        )

    async def cleanup(
        self,
        database: Database,
        *,
        now: datetime,
        names: Sequence[str] | None = None,
        dry_run: bool = False,
        trigger: str = "schedule",
        progress: Progress = _ignore_progress,
    ) -> list[RunOutcome]:
        """Apply the chosen policies (default: the enabled ones), one after the other."""
        self._check_names(names)
        async with database.unit_of_work() as session:
            chosen = self._chosen(await self.effective(session), names)
            runs = []
            for item in chosen:
                run = self._new_run(
                    item, now=now, dry_run=dry_run, trigger=trigger, status="running"
                )
                await RetentionRepository(session).start_run(run)
                runs.append((run.id, item))
        return [await self._apply(database, run_id, item, now, progress) for run_id, item in runs]

    async def scheduled(self, database: Database, *, now: datetime, every_s: float) -> None:
        """The schedule's pass: each enabled policy whose last scheduled run started more
        than ``every_s`` ago (several workers may share the schedule; one of them does it)."""
        async with database.unit_of_work(read_only=True) as session:
            enabled = [e.spec.name for e in await self.effective(session) if e.enabled]
            last = await RetentionRepository(session).last_scheduled_runs()
        due = [
            name
            for name in enabled
            if name not in last or (now - last[name]).total_seconds() >= every_s
        ]
        if due:
            await self.cleanup(database, now=now, names=due, trigger="schedule")

    async def run_queued(
        self, database: Database, run_ids: Sequence[int], *, now: datetime
    ) -> None:
        async with database.unit_of_work(read_only=True) as session:
            effective = {e.spec.name: e for e in await self.effective(session)}
            repo = RetentionRepository(session)
            queued = [r for r in [await repo.run(i) for i in run_ids] if r is not None]
            work = [(r.id, effective[r.policy], r.dry_run) for r in queued if r.status == "queued"]
        for run_id, item, dry_run in work:
            async with database.unit_of_work() as session:
                await RetentionRepository(session).finish_run(run_id, {"status": "running"})
            await self._apply(database, run_id, item, now, _ignore_progress, dry_run=dry_run)

    async def _apply(
        self,
        database: Database,
        run_id: int,
        item: Effective,
        now: datetime,
        progress: Progress,
        *,
        dry_run: bool | None = None,
    ) -> RunOutcome:
        async with database.unit_of_work(read_only=True) as session:
            run = await RetentionRepository(session).run(run_id)
            assert run is not None
            cutoff, is_dry = run.cutoff, run.dry_run if dry_run is None else dry_run
        outcome = RunOutcome(run_id, item.spec.name, is_dry)
        started = time.perf_counter()
        async with self._running:
            try:
                for step in self._steps(item, now):
                    outcome.details[step.table] = await self._walk(
                        database, item.spec.name, step, cutoff, is_dry, progress
                    )
            except Exception as exc:
                log.exception("clean-up failed", extra={"policy": item.spec.name})
                outcome.error = f"{type(exc).__name__}: {exc}"[:2000]
        outcome.rows = sum(outcome.details.values())
        outcome.seconds = round(time.perf_counter() - started, 3)
        async with database.unit_of_work() as session:
            await RetentionRepository(session).finish_run(
                run_id,
                {
                    "status": "failed" if outcome.error else "done",
                    "finished_at": now,
                    "rows": outcome.rows,
                    "details": outcome.details,
                    "seconds": outcome.seconds,
                    "error": outcome.error,
                },
            )
            if outcome.error:
                await notification_service.notify(
                    session,
                    user_ids=[],
                    kind="privacy.cleanup_failed",
                    title=f"Data clean-up failed: {item.spec.label}",
                    body=f"{outcome.rows} rows were removed before it stopped. {outcome.error}",
                    link="/settings/data-retention",
                    now=now,
                )
        return outcome

    async def _walk(
        self,
        database: Database,
        policy: str,
        step: Step,
        cutoff: datetime,
        dry_run: bool,
        progress: Progress,
    ) -> int:
        async with database.unit_of_work(read_only=True) as session:
            expected = await step.count(session, cutoff)
        progress(policy, step.table, 0, expected)
        if dry_run or expected == 0:
            return expected
        done, cursor = 0, step.start
        # SQLite has one writer: there the clean-up rests as long as each batch held the lock,
        # so that it never takes more than half of the database's write time from live traffic.
        single_writer = database.dialect == "sqlite"
        while cursor is not None and done < expected:
            # One short transaction per batch: live traffic waits for one batch at most.
            started = time.perf_counter()
            async with database.unit_of_work() as session:
                batch = await step.batch(session, cutoff, cursor, self.config.batch_size)
            held = time.perf_counter() - started
            done += batch.rows
            cursor = batch.cursor
            progress(policy, step.table, done, max(expected, done))
            pause = max(self.config.pause_s, held if single_writer else 0.0)
            if cursor is not None and pause:
                await asyncio.sleep(pause)
        return done

    def _steps(self, item: Effective, now: datetime) -> list[Step]:
        name = item.spec.name
        repo = CleanupRepository
        if name == policies.ANONYMOUS_VISITORS:
            return [
                Step(
                    "contacts",
                    lambda s, c: repo(s).count_anonymous_contacts(c),
                    lambda s, c, a, n: repo(s).delete_anonymous_contacts(c, a, n),
                ),
                Step(
                    "web_visitors",
                    lambda s, c: repo(s).count_unknown_visitors(c),
                    lambda s, c, a, n: repo(s).delete_unknown_visitors(c, a, n),
                    start="",
                ),
            ]
        if name == policies.JOURNEYS:
            return [
                Step(
                    "campaign_event_log",
                    lambda s, c: repo(s).count_finished_journal(c),
                    lambda s, c, a, n: repo(s).delete_finished_journal(c, a, n),
                )
            ]
        if name == policies.FORM_IPS:
            return [self._ip_step(*table) for table in repo.IP_TABLES]
        if name == policies.IMPORT_FILES:
            return [
                Step("import_files", lambda s, c: repo(s).count_import_files(c), self._import_files)
            ]
        if name == policies.INACTIVE_CONTACTS:
            return [
                Step(
                    "contacts",
                    lambda s, c: repo(s).count_inactive_contacts(c),
                    self._inactive(item.mode or "anonymise", now),
                )
            ]
        tables = {
            policies.TRACKING_EVENTS: repo.TRACKING_TABLES,
            policies.OUTBOX: (repo.OUTBOX_TABLE,),
            policies.AUDIT_LOG: (repo.AUDIT_TABLE,),
        }[name]
        return [self._age_step(*table) for table in tables]

    @staticmethod
    def _age_step(table: str, model: Any, column: Any) -> Step:
        return Step(
            table,
            lambda s, c: CleanupRepository(s).count_older(model, column, c),
            lambda s, c, a, n: CleanupRepository(s).delete_older(model, column, c, a, n),
        )

    @staticmethod
    def _ip_step(table: str, model: Any, column: Any) -> Step:
        return Step(
            table,
            lambda s, c: CleanupRepository(s).count_ips(model, column, c),
            lambda s, c, a, n: CleanupRepository(s).clear_ips(model, column, c, a, n),
        )

    @staticmethod
    async def _import_files(
        session: AsyncSession, cutoff: datetime, after: int, limit: int
    ) -> Batch:
        repo = CleanupRepository(session)
        found = await repo.old_imports(cutoff, after, limit)
        if not found:
            return Batch(0, None)
        for _import_id, path, options in found:
            files = [Path(path)]
            if options.get("errors_file"):
                files.append(Path(options["errors_file"]))
            for file in files:
                file.unlink(missing_ok=True)
            folder = files[0].parent
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        await repo.forget_import_files([i for i, _, _ in found])
        return Batch(len(found), found[-1][0])

    @staticmethod
    def _inactive(mode: str, now: datetime) -> BatchFunction:
        async def batch(session: AsyncSession, cutoff: datetime, after: int, limit: int) -> Batch:
            ids = await CleanupRepository(session).inactive_contact_ids(cutoff, after, limit)
            if not ids:
                return Batch(0, None)
            # Outbox copies of their messages are long gone (the outbox policy keeps weeks,
            # inactivity is counted in months), so no free-text search by address is needed.
            await SubjectRepository(session).erase(ids, [], keep_rows=mode == "anonymise", now=now)
            return Batch(len(ids), ids[-1])

        return batch

    # -- suppression --------------------------------------------------------------------------

    async def _salt(self, session: AsyncSession, *, now: datetime | None) -> str | None:
        repo = SuppressionRepository(session)
        salt = await repo.salt()
        if salt is None and now is not None:
            salt = await repo.keep_salt(secrets.token_hex(32), now=now)
        return salt

    async def suppressed(self, session: AsyncSession, emails: Sequence[str]) -> set[str]:
        """The addresses among ``emails`` of people erased on request (as given)."""
        wanted = [e for e in emails if e]
        if not wanted:
            return set()
        salt = await self._salt(session, now=None)
        if salt is None:
            return set()
        hashes = {suppression_hash(salt, e): e for e in wanted}
        present = await SuppressionRepository(session).present(list(hashes))
        return {hashes[h] for h in present}

    async def lift(self, session: AsyncSession, emails: Sequence[str], *, now: datetime) -> int:
        """They opted in again: take the addresses off the suppression list."""
        salt = await self._salt(session, now=None)
        if salt is None or not emails:
            return 0
        return await SuppressionRepository(session).remove(
            [suppression_hash(salt, e) for e in emails if e]
        )

    async def lift_by_request(
        self, session: AsyncSession, email: str, *, actor: Actor, now: datetime
    ) -> bool:
        actor.require("contacts", Perm.CREATE)
        lifted = await self.lift(session, [email], now=now) > 0
        if lifted:
            await audit.record(
                session,
                actor=actor,
                action=AuditAction.DELETE,
                entity_type="suppression",
                entity_id=None,
                entity_name="An erased person opted in again",
                now=now,
            )
        return lifted

    # -- data-subject requests ----------------------------------------------------------------

    async def _contact(
        self, session: AsyncSession, contact_id: int, actor: Actor, own: Perm, others: Perm
    ) -> Contact:
        contact = await contact_service.load(session, contact_id)
        actor.require_view_any("contacts")
        if not may_see(actor, "contacts", contact.owner_id):
            raise NotFound(f"No contact with id {contact_id}.")
        actor.require_on("contacts", own, others, contact.owner_id)
        return contact

    async def contact_by_email(self, session: AsyncSession, email: str) -> int:
        found = await SubjectRepository(session).contact_ids_by_email(email)
        if not found:
            raise NotFound("No contact with this email address.")
        return found[0]

    async def export(
        self, session: AsyncSession, contact_id: int, *, actor: Actor, now: datetime
    ) -> tuple[str, bytes]:
        """(file name, ZIP) of everything held about the contact."""
        contact = await self._contact(session, contact_id, actor, Perm.VIEW_OWN, Perm.VIEW_OTHERS)
        sections = await SubjectRepository(session).export_sections(contact.id)
        instance = (await system_service.settings(session)).instance_name
        who = contact.email or f"contact {contact.id}"
        archive = build_archive(sections, who=who, instance=instance, generated_at=now)
        await audit.record(
            session,
            actor=actor,
            action=AuditAction.EXPORT,
            entity_type="contact",
            entity_id=contact.id,
            entity_name="Personal data export",
            now=now,
        )
        return f"contact-{contact.id}-personal-data.zip", archive

    async def erase(
        self, session: AsyncSession, contact_id: int, *, actor: Actor, now: datetime
    ) -> ErasureResult:
        """Remove every trace of the contact and keep their address (hashed) on the
        suppression list; the audit entry names no erased value."""
        contact = await self._contact(
            session, contact_id, actor, Perm.DELETE_OWN, Perm.DELETE_OTHERS
        )
        erased_id, email = contact.id, contact.email
        session.expunge(contact)
        await SubjectRepository(session).erase(
            [erased_id], [email] if email else [], keep_rows=False, now=now
        )
        if email:
            salt = await self._salt(session, now=now)
            assert salt is not None
            await SuppressionRepository(session).add([suppression_hash(salt, email)], now=now)
        await audit.record(
            session,
            actor=actor,
            action=AuditAction.DELETE,
            entity_type="contact",
            entity_id=erased_id,
            entity_name="Erased on request",
            changes={"erasure": {"old": None, "new": "every trace removed"}},
            now=now,
        )
        return ErasureResult(contact_id=erased_id, suppressed=email is not None)

    # -- consents -----------------------------------------------------------------------------

    async def record_consents(
        self,
        session: AsyncSession,
        contact_id: int,
        changes: Sequence[ConsentChange],
        *,
        actor: Actor,
        now: datetime,
    ) -> ConsentHistory:
        contact = await self._contact(session, contact_id, actor, Perm.EDIT_OWN, Perm.EDIT_OTHERS)
        await self.record_many(
            session,
            [
                {
                    "contact_id": contact.id,
                    "purpose": c.purpose,
                    "granted": c.granted,
                    "wording": c.wording,
                    "wording_version": c.wording_version,
                    "source": c.source,
                    "source_id": None,
                    "ip": str(c.ip) if c.ip is not None else None,
                    "occurred_at": now,
                }
                for c in changes
            ],
        )
        if contact.email and any(c.granted for c in changes):
            # A consent given is an opt-in: the address comes off the suppression list.
            await self.lift(session, [contact.email], now=now)
        return await self.history(session, contact.id, actor=actor, page=PageRequest(size=100))

    async def record_many(self, session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
        if self.config.anonymise_ips:
            rows = [{**r, "ip": anonymise_ip(r.get("ip"))} for r in rows]
        await ConsentRepository(session).add_many(rows)

    async def history(
        self, session: AsyncSession, contact_id: int, *, actor: Actor, page: PageRequest
    ) -> ConsentHistory:
        contact = await self._contact(session, contact_id, actor, Perm.VIEW_OWN, Perm.VIEW_OTHERS)
        repo = ConsentRepository(session)
        found = await repo.history(contact.id, page=page)
        current = await repo.current(contact.id)
        return ConsentHistory(
            data=[ConsentRead.model_validate(c) for c in found.items],
            total=found.total,
            current={c.purpose: c.granted for c in current},
        )


privacy_service = PrivacyService()
