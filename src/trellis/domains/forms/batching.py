"""Group commit for form submissions: concurrent posts share one transaction.

A popular form is posted in bursts, and every submission creates or updates a contact, runs
the form's actions and may start campaigns. One transaction per request would spend most of
its time beginning, committing and loading the same campaign graphs; here the submissions
that arrive while a batch is being written wait for the next one, which takes them all (per
form: one upsert, one insert, one statement per action, one campaign entry). An idle server
adds no delay: a lone submission is a batch of one. Under a steady load the writer waits a
few milliseconds for the visitors it has just answered to post again (see ``_gather``). A
request is answered only after the commit, so a 200 means the submission and its effects are
stored.

The published forms and the field catalogue are kept for a couple of seconds, so that the
hot path reads nothing: a form unpublished or edited is seen by posts within that time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field

from trellis.clock import Clock
from trellis.db.models import Form
from trellis.db.session import Database
from trellis.domains.fields.service import FieldCatalog, field_service
from trellis.domains.forms.service import Accepted, Submission, form_service
from trellis.errors import NotFound

log = logging.getLogger(__name__)
CACHE_SECONDS = 2.0
LINGER_SECONDS = 0.005
# A batch committed longer ago than this says nothing about who is posting now.
RECENT_SECONDS = 0.1


def _detached(form: Form) -> Form:
    """A copy belonging to no session: safe to read from any task."""
    return Form(
        id=form.id,
        uuid=form.uuid,
        name=form.name,
        description=form.description,
        alias=form.alias,
        identify_by=form.identify_by,
        fields=form.fields,
        actions=form.actions,
        success=form.success,
        allowed_origins=form.allowed_origins,
        is_published=form.is_published,
        created_by_id=form.created_by_id,
        created_at=form.created_at,
        updated_at=form.updated_at,
        version=form.version,
    )


@dataclass
class _Pending:
    form: Form
    submission: Submission
    future: asyncio.Future[int] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    def settle(self, outcome: int | BaseException) -> None:
        if self.future.done():  # the client went away
            return
        if isinstance(outcome, BaseException):
            self.future.set_exception(outcome)
        else:
            self.future.set_result(outcome)


class SubmissionBatcher:
    def __init__(self, database: Database, clock: Clock, *, max_batch: int = 200) -> None:
        self.database = database
        self.clock = clock
        self.max_batch = max_batch
        self._pending: list[_Pending] = []
        self._writer: asyncio.Task[None] | None = None
        self._forms: dict[str, tuple[float, Form | None]] = {}
        self._catalog: tuple[float, FieldCatalog] | None = None
        self._form_reads: dict[str, asyncio.Future[Form | None]] = {}
        self._catalog_read: asyncio.Future[FieldCatalog] | None = None
        self._filled: asyncio.Event | None = None
        self._wanted = 0
        # (when, how many) visitors were posting as of the last commit, for _gather.
        self._posting: tuple[float, int] = (0.0, 0)

    # -- cached reads -------------------------------------------------------------------------

    async def form(self, alias: str) -> Form | None:
        """The published form with this alias (None: none), read at most every 2 s."""
        cached = self._forms.get(alias)
        if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        # Every post arriving while the form is read waits for that one read: under load a
        # whole burst finds the cache expired at once.
        loading = self._form_reads.get(alias)
        if loading is None:
            loading = self._form_reads[alias] = asyncio.ensure_future(self._read_form(alias))
            loading.add_done_callback(lambda _: self._form_reads.pop(alias, None))
        return await asyncio.shield(loading)

    async def _read_form(self, alias: str) -> Form | None:
        async with self.database.unit_of_work(read_only=True) as session:
            found = await form_service.published(session, alias)
            form = _detached(found) if found is not None else None
        if len(self._forms) > 1000:
            self._forms.clear()
        self._forms[alias] = (time.monotonic(), form)
        return form

    async def catalog(self) -> FieldCatalog:
        if self._catalog is not None and time.monotonic() - self._catalog[0] < CACHE_SECONDS:
            return self._catalog[1]
        if self._catalog_read is None:
            self._catalog_read = asyncio.ensure_future(self._read_catalog())
        return await asyncio.shield(self._catalog_read)

    async def _read_catalog(self) -> FieldCatalog:
        try:
            async with self.database.unit_of_work(read_only=True) as session:
                catalog = await field_service.catalog(session)
            self._catalog = (time.monotonic(), catalog)
            return catalog
        finally:
            self._catalog_read = None

    # -- writing ------------------------------------------------------------------------------

    async def submit(self, form: Form, submission: Submission) -> int:
        """Write the submission with the others arriving now; its id once committed."""
        pending = _Pending(form, submission)
        self._pending.append(pending)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain(), name="trellis-form-writer")
        elif self._filled is not None and len(self._pending) >= self._wanted:
            self._filled.set()
        return await pending.future

    async def stop(self) -> None:
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)

    async def _drain(self) -> None:
        while self._pending:
            await self._gather()
            batch = self._pending[: self.max_batch]
            del self._pending[: self.max_batch]
            try:
                await self._write(batch)
            except Exception as error:
                if len(batch) == 1:
                    batch[0].settle(error)
                    continue
                # One bad submission must not fail the others: write them one by one.
                log.warning("a batch of form submissions failed; retrying one by one")
                for pending in batch:
                    try:
                        await self._write([pending])
                    except Exception as single_error:
                        pending.settle(single_error)
            finally:
                # The visitors posting now: those just answered (who post again at once
                # under a steady load) and those who posted while this batch was written.
                self._posting = (time.monotonic(), len(batch) + len(self._pending))

    async def _gather(self) -> None:
        """Under load, wait a moment (at most LINGER_SECONDS) for the visitors just answered.

        Each batch pays a fixed cost (the transaction, the campaign's graph and the statements
        of its first steps: about as much as 20 submissions' own work) whatever its size.
        Under a steady load the visitors answered by one commit post again while the next
        batch is being written; without a pause the writer would take whoever is waiting at
        that moment and the batches would split the visitors between them, each paying the
        fixed cost for part of them. An idle server, or a post after a quiet spell, does not
        wait."""
        at, posting = self._posting
        wanted = min(self.max_batch, posting)
        if len(self._pending) >= wanted or time.monotonic() - at > RECENT_SECONDS:
            return
        self._wanted = wanted
        self._filled = asyncio.Event()
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._filled.wait(), LINGER_SECONDS)
        finally:
            self._filled = None

    async def _write(self, batch: list[_Pending]) -> None:
        now = self.clock.now()
        by_form: dict[int, list[_Pending]] = {}
        for pending in batch:
            by_form.setdefault(pending.form.id, []).append(pending)
        results: list[tuple[_Pending, int]] = []
        # The catalogue the submissions were checked against (at most 2 s old).
        catalog = await self.catalog()
        async with self.database.unit_of_work(brief=True) as session:
            for items in by_form.values():
                form = await form_service.current(session, items[0].form.id)
                if form is None:
                    raise NotFound("This form was unpublished or deleted meanwhile.")
                accepted: Accepted = await form_service.accept(
                    session, form, [p.submission for p in items], now=now, catalog=catalog
                )
                results.extend(zip(items, accepted.submission_ids, strict=True))
        for pending, submission_id in results:
            pending.settle(submission_id)
