"""Forms: the form documents, the submissions they collect and what a submission sets off.

A submission is checked against the form (types, options, lengths, patterns, required
fields; unknown inputs are ignored) before anything is written. Accepting it is one
transaction: the contact is created or updated by its identifying field (the same batch upsert
imports use), the submission row is written, the form's actions run set-based over the
contacts of the batch, the ``form.submit`` decisions the contacts wait on are offered the
submission, and the contacts enter every published campaign that has the form as a source.
Calls to the outside (webhooks, email delivery) go out after the commit, through jobs.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from trellis.actor import Actor
from trellis.csv_output import SafeCsvWriter
from trellis.db.models import Form
from trellis.db.pagination import Page, PageRequest
from trellis.domains.contacts.bulk import contact_bulk_service
from trellis.domains.contacts.schemas import ActivityItem
from trellis.domains.contacts.service import contact_service
from trellis.domains.emails.links import LinkSigner
from trellis.domains.emails.service import email_service
from trellis.domains.fields.service import FieldCatalog, field_service
from trellis.domains.forms.render import render_form
from trellis.domains.forms.repository import FormRepository
from trellis.domains.forms.schemas import (
    ActionDoc,
    ContactSubmissionRead,
    EmbedRead,
    FieldDoc,
    FieldTypeRead,
    FormClone,
    FormCreate,
    FormRead,
    FormUpdate,
    SubmissionRead,
)
from trellis.domains.forms.submission import (
    Accepted,
    Submission,
    anonymise_ip,
    check_submission,
)
from trellis.domains.forms.validation import (
    document_problems,
    field_type_catalogue,
)
from trellis.domains.projects.links import project_links
from trellis.domains.segments.service import segment_service
from trellis.errors import Conflict, FieldError, ValidationFailed
from trellis.events.base import Behaviour, EmailRequest, HttpPort
from trellis.events.form import BEHAVIOUR_SUBMIT
from trellis.jobs.base import NoUnitOfWork, enqueue_job
from trellis.kit.crud import AuditedCrud, EntityKind
from trellis.kit.versions import check_version
from trellis.naming import first_free, url_slug
from trellis.ports import ConsentLedger, Journeys
from trellis.wiring import Slot

WEBHOOK_JOB = "forms.webhook"
# The signing context of thank-you links (kept apart from the email links by the MAC input).
THANKS = "form-thanks"
# Signs the action URL of a form embedded in a landing page (see from_landing_page).
LANDING_PAGE = "form-on-landing-page"
TOKEN = re.compile(r"\{formfield=([a-z][a-z0-9_]{0,59})\}")


# What is kept of a submission by someone erased on request who did not opt in again.
_CONTENTLESS: dict[str, Any] = {
    "contact_id": None,
    "values": {},
    "consent_text": None,
    "ip": None,
    "user_agent": "",
    "page_url": None,
}


def wording_version(wording: str) -> str:
    """A consent text's version: the start of its SHA-256, so that a changed text is told apart
    from the one shown before."""
    return hashlib.sha256(wording.encode()).hexdigest()[:12]


def replace_tokens(message: str, values: Mapping[str, Any]) -> str:
    """``{formfield=name}`` in a success message, as plain text (escaped where rendered)."""

    def one(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        if value is None or isinstance(value, bool):
            return ""
        return str(value)

    return TOKEN.sub(one, message)


def _fail(errors: list[FieldError], message: str = "The form has problems; see errors.") -> None:
    if errors:
        raise ValidationFailed(message, errors)


def _snapshot(form: Form) -> dict[str, Any]:
    return {
        "name": form.name,
        "description": form.description,
        "alias": form.alias,
        "identify_by": form.identify_by,
        "is_published": form.is_published,
        "fields": form.fields,
        "actions": form.actions,
        "success": form.success,
        "allowed_origins": form.allowed_origins,
    }


FORMS: AuditedCrud[Form] = AuditedCrud(
    EntityKind(
        resource="forms",
        entity_type="form",
        label="form",
        repository=FormRepository,
        snapshot=_snapshot,
        projectable=True,
        publishable=True,
    )
)


class FormService:
    journeys: Slot[Journeys] = Slot()
    consents: Slot[ConsentLedger] = Slot()
    # Off only where the operator chose to keep full addresses (privacy.anonymise_ips).
    anonymise_ips: bool = True
    # The SSRF-guarded client of the "call a webhook" action.
    http: Slot[HttpPort] = Slot()

    def __init__(self) -> None:
        self.signer = LinkSigner(b"unconfigured", "http://127.0.0.1:8000")

    def configure(self, signer: LinkSigner) -> None:
        self.signer = signer

    @property
    def base_url(self) -> str:
        return self.signer.base_url.rstrip("/")

    def url(self, form: Form) -> str:
        return f"{self.base_url}/f/{form.alias}"

    def landing_page_url(self, form: Form) -> str:
        """The action of the form where a landing page embeds it: signed, because landing
        pages run sandboxed, so their posts carry ``Origin: null`` (see from_landing_page)."""
        return f"{self.url(form)}?lp={self.signer.token('w', form.id, LANDING_PAGE)}"

    def from_landing_page(self, form: Form, token: str | None) -> bool:
        """Whether a post with ``Origin: null`` comes from this form as a landing page of this
        server rendered it."""
        return token is not None and self.signer.verify("w", token, LANDING_PAGE) == form.id

    # -- reading ------------------------------------------------------------------------------

    async def get(self, session: AsyncSession, form_id: int, *, actor: Actor) -> Form:
        return await FORMS.get(session, form_id, actor=actor)

    async def read(self, session: AsyncSession, form: Form) -> FormRead:
        return (await self.read_many(session, [form]))[0]

    async def read_many(self, session: AsyncSession, forms: Sequence[Form]) -> list[FormRead]:
        ids = [f.id for f in forms]
        projects = await project_links.projects_of(session, "form", ids)
        stats = await FormRepository(session).stats(ids)
        out = []
        for form in forms:
            item = FormRead.model_validate(
                {
                    **_snapshot(form),
                    "id": form.id,
                    "uuid": form.uuid,
                    "version": form.version,
                    "created_at": form.created_at,
                    "updated_at": form.updated_at,
                    "projects": [p.id for p in projects[form.id]],
                    "submission_count": stats.get(form.id, (0, None))[0],
                    "last_submission_at": stats.get(form.id, (0, None))[1],
                    "url": self.url(form),
                }
            )
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
    ) -> Page[Form]:
        published = Form.is_published.is_(is_published) if is_published is not None else None
        return await FORMS.list_page(
            session, actor=actor, page=page, q=q, project_id=project_id, where=[published]
        )

    async def existing_ids(
        self, session: AsyncSession, ids: Sequence[int], *, actor: Actor | None = None
    ) -> set[int]:
        return await FORMS.existing_ids(session, ids, actor=actor)

    def field_types(self) -> list[FieldTypeRead]:
        return field_type_catalogue()

    # -- checking a form document -------------------------------------------------------------

    async def _problems(
        self,
        session: AsyncSession,
        *,
        fields: Sequence[FieldDoc],
        actions: Sequence[Any],
        identify_by: str,
        catalog: FieldCatalog,
    ) -> tuple[list[FieldError], list[dict[str, Any]]]:
        return await document_problems(
            session,
            fields=fields,
            actions=actions,
            identify_by=identify_by,
            catalog=catalog,
            campaigns=self.journeys.existing_ids,
        )

    @staticmethod
    def _field_docs(fields: Sequence[FieldDoc]) -> list[dict[str, Any]]:
        out = []
        for item in fields:
            doc = item.model_dump(mode="json")
            doc["key"] = item.key or str(uuid.uuid4())
            if item.type != "consent":
                doc["consent_text"] = None
            out.append(doc)
        return out

    async def _free_alias(self, session: AsyncSession, name: str) -> str:
        base = url_slug(name, limit=50, fallback="form")
        return first_free(base, await FormRepository(session).aliases_like(base))

    # -- writing ------------------------------------------------------------------------------

    async def create(
        self, session: AsyncSession, *, data: FormCreate, actor: Actor, now: datetime
    ) -> Form:
        repo = FormRepository(session)
        catalog = await field_service.catalog(session)
        errors, actions = await self._problems(
            session,
            fields=data.fields,
            actions=data.actions,
            identify_by=data.identify_by,
            catalog=catalog,
        )
        if data.alias and await repo.alias_taken(data.alias):
            errors.append(
                FieldError("/alias", f"Another form uses the alias {data.alias!r}.", "taken")
            )
        _fail(errors)
        form = Form(
            uuid=str(uuid.uuid4()),
            name=data.name,
            description=data.description,
            alias=data.alias or await self._free_alias(session, data.name),
            identify_by=data.identify_by,
            fields=self._field_docs(data.fields),
            actions=actions,
            success=data.success.model_dump(mode="json"),
            allowed_origins=data.allowed_origins,
            is_published=data.is_published,
            created_by_id=actor.user_id,
            created_at=now,
            updated_at=now,
            version=1,
        )
        return await FORMS.create(session, form, actor=actor, now=now, projects=data.projects)

    async def update(
        self,
        session: AsyncSession,
        form_id: int,
        *,
        data: FormUpdate,
        actor: Actor,
        now: datetime,
        expected_version: int | None,
    ) -> Form:
        repo = FormRepository(session)
        form = await FORMS.for_edit(session, form_id, actor=actor)
        check_version(form, expected_version)
        catalog = await field_service.catalog(session)
        fields = (
            data.fields
            if data.fields is not None
            else [FieldDoc.model_validate(f) for f in form.fields]
        )
        actions = (
            data.actions
            if data.actions is not None
            else [ActionDoc.model_validate(a) for a in form.actions]
        )
        errors, clean_actions = await self._problems(
            session,
            fields=fields,
            actions=actions,
            identify_by=data.identify_by or form.identify_by,
            catalog=catalog,
        )
        if data.alias and await repo.alias_taken(data.alias, exclude_id=form.id):
            errors.append(
                FieldError("/alias", f"Another form uses the alias {data.alias!r}.", "taken")
            )
        _fail(errors)

        async def apply(form: Form) -> None:
            for name in ("name", "description", "alias", "identify_by", "is_published"):
                value = getattr(data, name)
                if value is not None:
                    setattr(form, name, value)
            if data.fields is not None:
                form.fields = self._field_docs(data.fields)
            if data.actions is not None:
                form.actions = clean_actions
            if data.success is not None:
                form.success = data.success.model_dump(mode="json")
            if data.allowed_origins is not None:
                form.allowed_origins = data.allowed_origins

        await FORMS.update(
            session,
            form,
            actor=actor,
            now=now,
            expected_version=expected_version,
            apply=apply,
            projects=data.projects,
        )
        return form

    async def delete(
        self, session: AsyncSession, form_id: int, *, actor: Actor, now: datetime
    ) -> None:
        form = await FORMS.for_delete(session, form_id, actor=actor)
        users = await self.journeys.campaigns_with_source(session, "form", form.id)
        if users:
            raise Conflict(
                "Campaigns use this form as a source: "
                + ", ".join(f"{name} ({cid})" for cid, name in users)
                + ". Remove it from them first."
            )
        await FORMS.delete(session, form, actor=actor, now=now)

    async def clone(
        self,
        session: AsyncSession,
        form_id: int,
        *,
        data: FormClone,
        actor: Actor,
        now: datetime,
    ) -> Form:
        form = await self.get(session, form_id, actor=actor)
        projects = await project_links.projects_of(session, "form", [form.id])
        name = data.name or f"{form.name} (copy)"[:200]
        copy = FormCreate.model_validate(
            {
                **_snapshot(form),
                "name": name,
                "alias": None,
                "is_published": False,
                "projects": [p.id for p in projects[form.id]],
                "fields": [{**f, "key": None} for f in form.fields],
            }
        )
        return await self.create(session, data=copy, actor=actor, now=now)

    def embed(self, form: Form) -> EmbedRead:
        url = self.url(form)
        return EmbedRead(
            url=url,
            script=f'<script src="{url}.js" async></script>',
            html=render_form(form, action=url),
        )

    # -- submissions (the API) ----------------------------------------------------------------

    async def submissions_page(
        self, session: AsyncSession, form_id: int, *, actor: Actor, page: PageRequest
    ) -> Page[SubmissionRead]:
        await self.get(session, form_id, actor=actor)
        result = await FormRepository(session).submissions_page(page=page, form_id=form_id)
        return Page(
            items=[_submission_read(row, SubmissionRead) for row in result.items],
            total=result.total,
            number=result.number,
            size=result.size,
        )

    async def contact_submissions_page(
        self, session: AsyncSession, contact_id: int, *, actor: Actor, page: PageRequest
    ) -> Page[ContactSubmissionRead]:
        await contact_service.get(session, contact_id, actor=actor)
        FORMS.require_view_any(actor)
        result = await FormRepository(session).submissions_page(page=page, contact_id=contact_id)
        return Page(
            items=[_submission_read(row, ContactSubmissionRead) for row in result.items],
            total=result.total,
            number=result.number,
            size=result.size,
        )

    async def export_csv(self, session: AsyncSession, form: Form) -> AsyncIterator[str]:
        """The submissions as CSV, newest first, a chunk of rows at a time."""
        names = [f["name"] for f in form.fields]
        buffer = io.StringIO()
        writer = SafeCsvWriter(buffer)
        writer.writerow(
            [
                "submission_id",
                "created_at",
                "contact_id",
                "contact_name",
                "contact_email",
                *names,
                "consent_text",
                "page_url",
            ]
        )
        yield buffer.getvalue()
        async for rows in FormRepository(session).stream_submissions(form.id):
            buffer.seek(0)
            buffer.truncate()
            for submission, contact_name, contact_email in rows:
                writer.writerow(
                    [
                        submission.id,
                        submission.created_at.isoformat(),
                        submission.contact_id or "",
                        contact_name,
                        contact_email,
                    ]
                    + [submission.values.get(n) for n in names]
                    + [submission.consent_text, submission.page_url]
                )
            yield buffer.getvalue()

    # -- the public side ----------------------------------------------------------------------

    async def published(self, session: AsyncSession, alias: str) -> Form | None:
        if not re.fullmatch(r"[a-z0-9-]{1,60}", alias):
            return None
        form = await FormRepository(session).by_alias(alias)
        return form if form is not None and form.is_published else None

    async def current(self, session: AsyncSession, form_id: int) -> Form | None:
        form = await FormRepository(session).get(form_id)
        return form if form is not None and form.is_published else None

    async def thanks_values(self, session: AsyncSession, form: Form, token: str) -> dict[str, Any]:
        """The values of the submission a signed thank-you link names, for its tokens."""
        submission_id = self.signer.verify("w", token, THANKS) if token else None
        if submission_id is None:
            return {}
        submission = await FormRepository(session).submission(submission_id)
        if submission is None or submission.form_id != form.id:
            return {}
        return dict(submission.values)

    async def submission_contact(self, session: AsyncSession, submission_id: int) -> int | None:
        """The contact a submission created or updated (for the asset gate's download link)."""
        submission = await FormRepository(session).submission(submission_id)
        return submission.contact_id if submission is not None else None

    def check(
        self,
        form: Form,
        catalog: FieldCatalog,
        posted: Mapping[str, list[str]],
        *,
        ip: str | None = None,
        user_agent: str = "",
    ) -> Submission:
        """Check posted values against the form; ValidationFailed with ``/fields/<name>``
        pointers. Inputs the form does not have are ignored."""
        return check_submission(
            form,
            catalog,
            posted,
            ip=anonymise_ip(ip) if self.anonymise_ips else ip,
            user_agent=user_agent,
        )

    async def accept(
        self,
        session: AsyncSession,
        form: Form,
        submissions: Sequence[Submission],
        *,
        now: datetime,
        catalog: FieldCatalog | None = None,
    ) -> Accepted:
        """Write checked submissions of one form and set off what they trigger, set-based."""
        result = Accepted()
        if not submissions:
            return result
        actor = Actor.system(f"form {form.id}")
        catalog = catalog or await field_service.catalog(session)
        outcome = await contact_service.upsert_prepared(
            session,
            items=[s.contact for s in submissions],
            actor=actor,
            now=now,
            pointer_prefix="/fields",
            catalog=catalog,
            audit_summary=False,
            # Whoever posts a form is anonymous: knowing someone's email address must not
            # let them rewrite that person's protected fields.
            fill_only=catalog.fill_only,
        )
        # An address erased on request, without a consent ticked: nothing personal is kept, and
        # the person is told nothing different from anyone else.
        erased = {
            i
            for i, status in enumerate(outcome.statuses)
            if status == "failed" and all(e.code == "erased" for e in outcome.errors.get(i, []))
        }
        failed = [
            i for i, status in enumerate(outcome.statuses) if status == "failed" and i not in erased
        ]
        if failed:
            # Nothing was written for a failed item; the caller retries the others alone.
            errors = outcome.errors.get(failed[0], [])
            raise ValidationFailed(
                "The answers could not be saved; see errors.",
                [FieldError(e.pointer, e.detail, e.code) for e in errors],
            )
        result.contact_ids = list(outcome.ids)
        rows = [
            {
                "form_id": form.id,
                "contact_id": contact_id,
                "values": s.values,
                "consent_text": s.consent_text,
                "ip": s.ip,
                "user_agent": s.user_agent,
                "page_url": s.page_url,
                "created_at": now,
            }
            if index not in erased
            else {**_CONTENTLESS, "form_id": form.id, "created_at": now}
            for index, (s, contact_id) in enumerate(zip(submissions, outcome.ids, strict=True))
        ]
        repo = FormRepository(session)
        result.submission_ids = await repo.insert_submissions(rows)
        await self.consents.record_many(
            session,
            [
                {
                    "contact_id": contact_id,
                    "purpose": purpose,
                    "granted": True,
                    "wording": wording,
                    "wording_version": wording_version(wording),
                    "source": "form",
                    "source_id": form.id,
                    "ip": s.ip,
                    "occurred_at": now,
                }
                for s, contact_id in zip(submissions, outcome.ids, strict=True)
                if contact_id is not None
                for purpose, wording in s.consents
            ],
        )
        contact_ids = sorted({c for c in outcome.ids if c is not None})
        if not contact_ids:
            return result
        await contact_bulk_service.touch_activity(session, contact_ids=contact_ids, now=now)
        await self._run_actions(
            session,
            form,
            submissions,
            outcome.ids,
            result.submission_ids,
            actor=actor,
            now=now,
        )
        # Decisions first, for contacts already waiting on one; then campaign entry, so that a
        # contact entering now does not take its first decision with the same submission.
        await self.journeys.offer_many(
            session,
            offers=[
                (
                    contact_id,
                    Behaviour(kind=BEHAVIOUR_SUBMIT, channel_id=form.id, properties=s.values),
                )
                for s, contact_id in zip(submissions, outcome.ids, strict=True)
                if contact_id is not None
            ],
            now=now,
        )
        await self.journeys.enter_from_source(
            session, kind="form", source_id=form.id, contact_ids=contact_ids, now=now
        )
        return result

    async def _run_actions(
        self,
        session: AsyncSession,
        form: Form,
        submissions: Sequence[Submission],
        ids: Sequence[int | None],
        submission_ids: Sequence[int],
        *,
        actor: Actor,
        now: datetime,
    ) -> None:
        contact_ids = sorted({c for c in ids if c is not None})
        for action in form.actions:
            kind, config = action["type"], action["config"]
            if kind in ("segments.add", "segments.remove"):
                change = (
                    segment_service.add_members
                    if kind == "segments.add"
                    else segment_service.remove_members
                )
                for segment_id in config["segments"]:
                    await change(session, segment_id, contact_ids=contact_ids, actor=actor, now=now)
            elif kind == "tags.change":
                await contact_service.change_tags(
                    session,
                    contact_ids=contact_ids,
                    add=config["add"],
                    remove=config["remove"],
                    source_type="form",
                    source_id=form.id,
                    now=now,
                )
            elif kind == "points.change":
                # A contact who submitted twice in this burst scores twice.
                times = Counter(c for c in ids if c is not None)
                for count in sorted(set(times.values())):
                    await contact_service.change_points(
                        session,
                        contact_ids=sorted(c for c, n in times.items() if n == count),
                        delta=config["delta"] * count,
                        reason=f"Form: {form.name}",
                        source_type="form",
                        source_id=form.id,
                        now=now,
                    )
            elif kind == "email.send_to_contact":
                await email_service.queue(
                    session,
                    EmailRequest(
                        email_id=config["email_id"], kind=config["kind"], allow_repeat=True
                    ),
                    contact_ids,
                    now=now,
                    source="form",
                )
            elif kind == "email.send_to_users":
                await email_service.notify(
                    session,
                    email_id=config["email_id"],
                    contact_ids=contact_ids,
                    to_owner=config["to_owner"],
                    user_ids=config["user_ids"],
                    addresses=config["addresses"],
                    now=now,
                )
            elif kind == "campaigns.add":
                await self.journeys.enter_campaigns(
                    session, config["campaigns"], contact_ids, now=now
                )
            elif kind == "webhook.send":
                for submission, contact_id, submission_id in zip(
                    submissions, ids, submission_ids, strict=True
                ):
                    payload = {
                        "url": config["url"],
                        "method": config["method"],
                        "idempotency_key": f"trellis:form:{form.id}:{submission_id}",
                        "body": {
                            "submission_id": submission_id,
                            "form": {"id": form.id, "name": form.name, "alias": form.alias},
                            "contact_id": contact_id,
                            "values": submission.values,
                            "submitted_at": now.isoformat(),
                        },
                    }
                    with contextlib.suppress(NoUnitOfWork):
                        enqueue_job(WEBHOOK_JOB, payload)


def _submission_read(row: Any, model: type[SubmissionRead]) -> Any:
    submission, contact_name, contact_email, form_name = row
    return model.model_validate(
        {
            "id": submission.id,
            "contact_id": submission.contact_id,
            "contact_name": (contact_name or contact_email or None)
            if submission.contact_id
            else None,
            "values": submission.values,
            "consent_text": submission.consent_text,
            "page_url": submission.page_url,
            "created_at": submission.created_at,
            "form_id": submission.form_id,
            "form_name": form_name,
        }
    )


async def contact_timeline(
    session: AsyncSession, contact_id: int, before: datetime | None, limit: int
) -> list[ActivityItem]:
    return [
        ActivityItem(
            occurred_at=created_at,
            kind="form.submitted",
            summary=f"Submitted form: {form_name}",
            details={"form_id": form_id, "submission_id": submission_id},
            source_type="form",
            source_id=form_id,
        )
        for submission_id, created_at, form_id, form_name in await FormRepository(
            session
        ).contact_timeline(contact_id, before, limit)
    ]


async def merge_contacts(
    session: AsyncSession, winner_id: int, loser_id: int, now: datetime
) -> None:
    await FormRepository(session).move_submissions(winner_id, loser_id)


form_service = FormService()
PROJECTABLE = FORMS.projectable("Forms")
