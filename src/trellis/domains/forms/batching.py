"""Group commit for form submissions: concurrent posts share one transaction.

A popular form is posted in bursts, and every submission creates or updates a contact, runs
the form's actions and may start campaigns. One transaction per request would spend most of
its time beginning, committing and loading the same campaign graphs; here the submissions
that arrive while a batch is being written wait for the next one, which takes them all (per
form: one upsert, one insert, one statement per action, one campaign entry). An idle server
adds no delay: a lone submission is a batch of one. Under a steady load the writer waits a
few milliseconds for the visitors it has just answered to post again (``linger_s`` of
:mod:`trellis.runtime.group_commit`). A request is answered only after the commit, so a 200
means the submission and its effects are stored.

The published forms and the field catalogue are kept for a couple of seconds, so that the
hot path reads nothing: a form unpublished or edited is seen by posts within that time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

from trellis.clock import Clock
from trellis.db.models import Form
from trellis.db.session import Database
from trellis.domains.fields.service import FieldCatalog, field_service
from trellis.domains.forms.service import form_service
from trellis.domains.forms.submission import Accepted, Submission
from trellis.errors import NotFound
from trellis.runtime.group_commit import GroupCommit

CACHE_SECONDS = 2.0
LINGER_SECONDS = 0.005


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


@dataclass(frozen=True)
class _Posted:
    form: Form
    submission: Submission


class SubmissionBatcher:
    def __init__(self, database: Database, clock: Clock, *, max_batch: int = 200) -> None:
        self.database = database
        self.clock = clock
        self._commit: GroupCommit[_Posted, int] = GroupCommit(
            self._write, name="forms", max_batch=max_batch, linger_s=LINGER_SECONDS
        )
        self._forms: dict[str, tuple[float, Form | None]] = {}
        self._catalog: tuple[float, FieldCatalog] | None = None
        self._form_reads: dict[str, asyncio.Future[Form | None]] = {}
        self._catalog_read: asyncio.Future[FieldCatalog] | None = None

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
        return await self._commit.submit(_Posted(form, submission))

    async def stop(self) -> None:
        await self._commit.stop()

    async def _write(self, batch: Sequence[_Posted]) -> list[int]:
        now = self.clock.now()
        by_form: dict[int, list[int]] = {}
        for index, posted in enumerate(batch):
            by_form.setdefault(posted.form.id, []).append(index)
        ids: dict[int, int] = {}
        # The catalogue the submissions were checked against (at most 2 s old).
        catalog = await self.catalog()
        async with self.database.unit_of_work(brief=True) as session:
            for form_id, indexes in by_form.items():
                form = await form_service.current(session, form_id)
                if form is None:
                    raise NotFound("This form was unpublished or deleted meanwhile.")
                accepted: Accepted = await form_service.accept(
                    session,
                    form,
                    [batch[i].submission for i in indexes],
                    now=now,
                    catalog=catalog,
                )
                ids.update(zip(indexes, accepted.submission_ids, strict=True))
        return [ids[index] for index in range(len(batch))]
