"""Group commit for form submissions: concurrent posts share one transaction.

A popular form is posted in bursts, and every submission creates or updates a contact, runs
the form's actions and may start campaigns. One transaction per request would spend most of
its time beginning, committing and loading the same campaign graphs; here the submissions
that arrive while a batch is being written wait for the next one, which takes them all (per
form: one upsert, one insert, one statement per action, one campaign entry). An idle server
adds no delay: a lone submission is a batch of one. A request is answered only after the
commit, so a 200 means the submission and its effects are stored.

The published forms and the field catalogue are kept for a couple of seconds, so that the
hot path reads nothing: a form unpublished or edited is seen by posts within that time.
"""

from __future__ import annotations

import asyncio
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

    # -- cached reads -------------------------------------------------------------------------

    async def form(self, alias: str) -> Form | None:
        """The published form with this alias (None: none), read at most every 2 s."""
        cached = self._forms.get(alias)
        if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
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
        async with self.database.unit_of_work(read_only=True) as session:
            catalog = await field_service.catalog(session)
        self._catalog = (time.monotonic(), catalog)
        return catalog

    # -- writing ------------------------------------------------------------------------------

    async def submit(self, form: Form, submission: Submission) -> int:
        """Write the submission with the others arriving now; its id once committed."""
        pending = _Pending(form, submission)
        self._pending.append(pending)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain(), name="trellis-form-writer")
        return await pending.future

    async def stop(self) -> None:
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)

    async def _drain(self) -> None:
        while self._pending:
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

    async def _write(self, batch: list[_Pending]) -> None:
        now = self.clock.now()
        by_form: dict[int, list[_Pending]] = {}
        for pending in batch:
            by_form.setdefault(pending.form.id, []).append(pending)
        results: list[tuple[_Pending, int]] = []
        async with self.database.unit_of_work(brief=True) as session:
            catalog = await field_service.catalog(session)
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
