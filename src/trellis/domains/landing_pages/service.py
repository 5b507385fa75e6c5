"""Landing pages: the documents (GrapesJS HTML and CSS), their checks, and the public render.

Rendering is compiled once per content version; per request only the compiled template runs.
An anonymous render depends on the page and its embedded forms only, so it is served with a
public cache lifetime and an ETag derived from the page's content version and the rendered
bytes; a known contact's render (a signed ``ct`` link) is private.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from trellis.actor import Actor, Perm
from trellis.db.models import Page
from trellis.db.pagination import Page as ResultPage
from trellis.db.pagination import PageRequest
from trellis.domains.assets.links import AssetLinks
from trellis.domains.contacts.bulk import contact_bulk_service
from trellis.domains.emails.links import LinkSigner
from trellis.domains.forms.render import render_form
from trellis.domains.forms.service import form_service
from trellis.domains.landing_pages.render import (
    PageDocument,
    PageRenderFailed,
    check_page,
    compile_body,
    form_ids,
    render_body,
    render_document,
)
from trellis.domains.landing_pages.repository import PageRepository
from trellis.domains.landing_pages.schemas import (
    PageClone,
    PageCreate,
    PagePreviewRead,
    PageRead,
    PageUpdate,
)
from trellis.domains.projects.links import project_links
from trellis.domains.projects.schemas import ProjectRef
from trellis.errors import FieldError, ValidationFailed
from trellis.kit.crud import AuditedCrud, EntityKind
from trellis.kit.versions import check_version
from trellis.naming import first_free, url_slug

CONTENT_FIELDS = ("title", "language", "meta_description", "html", "css")
COMPILED_CACHE_SIZE = 256
SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?")
TRACKING_SCRIPT = "/t/w.js"


@dataclass(frozen=True)
class ServedPage:
    html: str
    etag: str
    known: bool


def _snapshot(page: Page) -> dict[str, Any]:
    return {
        "name": page.name,
        "title": page.title,
        "slug": page.slug,
        "language": page.language,
        "meta_description": page.meta_description,
        "html": page.html,
        "css": page.css,
        "is_published": page.is_published,
    }


PAGES: AuditedCrud[Page] = AuditedCrud(
    EntityKind(
        resource="pages",
        entity_type="page",
        label="page",
        repository=PageRepository,
        snapshot=_snapshot,
        projectable=True,
        publishable=True,
    )
)


class PageService:
    def __init__(self) -> None:
        self.links = AssetLinks(LinkSigner(b"unconfigured", "http://127.0.0.1:8000"))
        self._compiled: dict[tuple[int, int, int], Any] = {}

    def configure(self, links: AssetLinks) -> None:
        self.links = links
        self._compiled.clear()

    @property
    def base_url(self) -> str:
        return self.links.base_url

    def url(self, page: Page) -> str:
        return f"{self.base_url}/p/{page.slug}"

    # -- reading --------------------------------------------------------------------------------

    async def get(self, session: AsyncSession, page_id: int, *, actor: Actor) -> Page:
        return await PAGES.get(session, page_id, actor=actor)

    async def read(self, session: AsyncSession, page: Page) -> PageRead:
        return (await self.read_many(session, [page]))[0]

    async def read_many(self, session: AsyncSession, pages: Sequence[Page]) -> list[PageRead]:
        projects = await project_links.projects_of(session, "page", [p.id for p in pages])
        out = []
        for page in pages:
            item = PageRead.model_validate(page)
            item.url = self.url(page)
            item.projects = [ProjectRef(id=p.id, name=p.name) for p in projects[page.id]]
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
    ) -> ResultPage[Page]:
        published = Page.is_published.is_(is_published) if is_published is not None else None
        return await PAGES.list_page(
            session, actor=actor, page=page, q=q, project_id=project_id, where=[published]
        )

    async def existing_ids(
        self, session: AsyncSession, ids: Sequence[int], *, actor: Actor | None = None
    ) -> set[int]:
        return await PAGES.existing_ids(session, ids, actor=actor)

    # -- writing --------------------------------------------------------------------------------

    async def _check(self, session: AsyncSession, html: str, css: str) -> list[FieldError]:
        errors = check_page(html, css)
        wanted = form_ids(html)
        if wanted:
            found = await form_service.existing_ids(session, wanted)
            errors += [
                FieldError("/html", f"{{form={i}}}: no form has this id.", "not_found")
                for i in wanted
                if i not in found
            ]
        return errors

    async def _free_slug(self, session: AsyncSession, name: str) -> str:
        base = url_slug(name, limit=90, fallback="page")
        return first_free(base, await PageRepository(session).slugs_like(base))

    async def create(
        self, session: AsyncSession, *, data: PageCreate, actor: Actor, now: datetime
    ) -> Page:
        repo = PageRepository(session)
        errors = await self._check(session, data.html, data.css)
        if data.slug and await repo.slug_taken(data.slug):
            errors.append(
                FieldError("/slug", f"Another page uses the slug {data.slug!r}.", "taken")
            )
        if errors:
            raise ValidationFailed("The page cannot be saved as it is.", errors)
        page = Page(
            name=data.name,
            title=data.title,
            slug=data.slug or await self._free_slug(session, data.name),
            language=data.language,
            meta_description=data.meta_description,
            html=data.html,
            css=data.css,
            is_published=data.is_published,
            content_version=1,
            created_by_id=actor.user_id,
            created_at=now,
            updated_at=now,
        )
        return await PAGES.create(session, page, actor=actor, now=now, projects=data.projects)

    async def update(
        self,
        session: AsyncSession,
        page_id: int,
        *,
        data: PageUpdate,
        actor: Actor,
        now: datetime,
        expected_version: int | None,
    ) -> Page:
        repo = PageRepository(session)
        page = await PAGES.for_edit(session, page_id, actor=actor)
        check_version(page, expected_version)
        given = data.model_dump(exclude_unset=True, exclude={"projects"})
        errors: list[FieldError] = []
        if data.slug and await repo.slug_taken(data.slug, exclude_id=page.id):
            errors.append(
                FieldError("/slug", f"Another page uses the slug {data.slug!r}.", "taken")
            )
        html = data.html if data.html is not None else page.html
        css = data.css if data.css is not None else page.css
        if data.html is not None or data.css is not None:
            errors += await self._check(session, html, css)
        if errors:
            raise ValidationFailed("The page cannot be saved as it is.", errors)

        async def apply(page: Page) -> None:
            before = _snapshot(page)
            for name, value in given.items():
                if value is not None:
                    setattr(page, name, value)
            after = _snapshot(page)
            if any(before[name] != after[name] for name in CONTENT_FIELDS):
                page.content_version += 1

        await PAGES.update(
            session,
            page,
            actor=actor,
            now=now,
            expected_version=expected_version,
            apply=apply,
            projects=data.projects,
        )
        return page

    async def delete(
        self, session: AsyncSession, page_id: int, *, actor: Actor, now: datetime
    ) -> None:
        page = await PAGES.for_delete(session, page_id, actor=actor)
        await PAGES.delete(session, page, actor=actor, now=now)

    async def clone(
        self, session: AsyncSession, page_id: int, *, data: PageClone, actor: Actor, now: datetime
    ) -> Page:
        page = await self.get(session, page_id, actor=actor)
        projects = await project_links.projects_of(session, "page", [page.id])
        copy = PageCreate.model_validate(
            {
                **_snapshot(page),
                "name": data.name or f"{page.name} (copy)"[:200],
                "slug": data.slug,
                "is_published": False,
                "projects": [p.id for p in projects[page.id]],
            }
        )
        if copy.slug is None:
            copy.slug = await self._free_slug(session, f"{page.slug}-copy")
        return await self.create(session, data=copy, actor=actor, now=now)

    async def landing_page_ids(self, session: AsyncSession, urls: Sequence[str]) -> dict[str, int]:
        """The landing page each URL shows (``<base URL>/p/<slug>``, any query), for the web
        tracking domain to set the ``channel_id`` of its ``page.hit`` behaviours."""
        own = urlsplit(self.base_url).netloc.lower()
        slugs: dict[str, str] = {}
        for url in urls:
            parts = urlsplit(url)
            match = re.fullmatch(r"/p/([a-z0-9-]{1,100})/?", parts.path)
            if match is not None and parts.netloc.lower() == own:
                slugs[url] = match.group(1)
        found = await PageRepository(session).ids_by_slug(sorted(set(slugs.values())))
        return {url: found[slug] for url, slug in slugs.items() if slug in found}

    # -- rendering ------------------------------------------------------------------------------

    def _template(self, page: Page, html: str) -> Any:
        key = (page.id, page.content_version, hash(html))
        found = self._compiled.get(key)
        if found is None:
            found = compile_body(html)
            if len(self._compiled) >= COMPILED_CACHE_SIZE:
                self._compiled.pop(next(iter(self._compiled)))
            self._compiled[key] = found
        return found

    async def _render(
        self,
        session: AsyncSession,
        page: Page,
        *,
        contact_id: int | None,
        now: datetime,
        html: str | None = None,
        css: str | None = None,
    ) -> str:
        source = page.html if html is None else html
        template = self._template(page, source) if html is None else compile_body(source)
        forms: dict[int, str] = {}
        for form_id in form_ids(source):
            form = await form_service.current(session, form_id)
            if form is not None:
                forms[form_id] = render_form(form, action=form_service.landing_page_url(form))
        contact: dict[str, Any] = {}
        if contact_id is not None:
            contact = (await contact_bulk_service.values(session, contact_ids=[contact_id])).get(
                contact_id, {}
            )
        body = render_body(
            template,
            contact=contact,
            date=now.date().isoformat(),
            forms=forms,
            contact_token=self.links.contact_token(contact_id) if contact_id else None,
        )
        document = PageDocument(
            title=page.title,
            language=page.language,
            meta_description=page.meta_description,
            css=page.css if css is None else css,
            tracking_script=TRACKING_SCRIPT,
        )
        return render_document(document, body, with_forms=bool(forms))

    async def preview(
        self,
        session: AsyncSession,
        page_id: int,
        *,
        contact_id: int | None,
        html: str | None,
        css: str | None,
        actor: Actor,
        now: datetime,
    ) -> PagePreviewRead:
        page = await self.get(session, page_id, actor=actor)
        if contact_id is not None:
            actor.require("contacts", Perm.VIEW_OTHERS)
            if not await contact_bulk_service.values(session, contact_ids=[contact_id]):
                raise ValidationFailed(
                    "No such contact.",
                    [FieldError("/contact_id", "No contact with this id.", "not_found")],
                )
        if html is not None or css is not None:
            errors = await self._check(
                session, page.html if html is None else html, page.css if css is None else css
            )
            if errors:
                raise ValidationFailed("The page does not render.", errors)
        try:
            rendered = await self._render(
                session, page, contact_id=contact_id, now=now, html=html, css=css
            )
        except PageRenderFailed as exc:
            raise ValidationFailed(
                "The page does not render.", [FieldError("/html", str(exc), exc.code)]
            ) from None
        return PagePreviewRead(html=rendered)

    async def serve(
        self, session: AsyncSession, slug: str, *, contact_token: str | None, now: datetime
    ) -> ServedPage | None:
        """The published page at this slug, rendered for the visitor; None: not found."""
        if not SLUG.fullmatch(slug):
            return None
        page = await PageRepository(session).by_slug(slug)
        if page is None or not page.is_published:
            return None
        contact_id = self.links.contact_of(contact_token)
        if contact_id is not None and not await contact_bulk_service.values(
            session, contact_ids=[contact_id]
        ):
            contact_id = None
        html = await self._render(session, page, contact_id=contact_id, now=now)
        digest = hashlib.sha256(html.encode()).hexdigest()[:16]
        return ServedPage(
            html=html,
            etag=f'"p{page.id}.{page.content_version}.{digest}"',
            known=contact_id is not None,
        )


page_service = PageService()


PROJECTABLE = PAGES.projectable("Landing pages")
