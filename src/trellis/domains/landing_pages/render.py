"""Rendering landing pages: the GrapesJS body and CSS, the tokens, the embedded forms.

The body goes through the same sandboxed Jinja2 environment as emails (the same tokens, the
same refusals: no calls, no names outside ``contact``, ``owner`` and ``date``, no private
attributes). An anonymous visitor gets every contact token's default, so that one render serves
everyone and can be cached; a known visitor (a signed ``ct`` link) gets its own fields.

``{form=ID}`` embeds a published Trellis form, rendered by the forms domain (every label and
value escaped) and posting to the form's own public endpoint. A page loads nothing from another
host: saving refuses scripts, frames, ``<base>``, ``<meta>``, ``<link>``, remote
``src``/``srcset``/``poster`` URLs and CSS that imports or points at remote files, in the source
and in what it renders to; serving turns any such tag a render still assembles into text; and
the page runs under a strict CSP with ``sandbox`` (an opaque origin, away from the admin's
session) on top.
"""

from __future__ import annotations

import html as html_lib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import TemplateError
from jinja2.exceptions import SecurityError

from trellis.domains.emails.render import HTML_ENV, check_template, tokens_to_jinja
from trellis.domains.emails.sandbox import TemplateLimit
from trellis.errors import FieldError

FORM_TOKEN = re.compile(r"\{form=(\d{1,12})\}")
FORBIDDEN_TAGS = re.compile(r"<\s*(script|iframe|frame|object|embed|base|applet)\b", re.IGNORECASE)
RESOURCE_ATTR = re.compile(
    r"\b(src|srcset|poster|data|background|xlink:href)\s*=\s*"
    r"(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))",
    re.IGNORECASE,
)
LINK_TAG = re.compile(r"<\s*link\b", re.IGNORECASE)
# Any <meta>: a body has no use for one, and matching only http-equiv would scan to the tag's
# end from every "<meta" (quadratic on a page of unclosed ones).
META_TAG = re.compile(r"<\s*meta\b", re.IGNORECASE)
CSS_URL = re.compile(r"url\(\s*([\"']?)([^)\"']*)\1\s*\)", re.IGNORECASE)
CSS_IMPORT = re.compile(r"@import\b", re.IGNORECASE)
STYLE_END = re.compile(r"</\s*style", re.IGNORECASE)
DAY = "2026-01-01"
ASSET_HREF = re.compile(r"(href\s*=\s*[\"'])((?:https?://[^/\"']+)?/a/[A-Za-z0-9-]{1,100})([\"'])")


def _remote(url: str) -> bool:
    """Whether a resource URL points at another host (absolute or protocol-relative)."""
    value = html_lib.unescape(url).strip().lower()
    return value.startswith(("http:", "https:", "//", "\\\\", "ftp:"))


def form_ids(source: str) -> list[int]:
    return sorted({int(m.group(1)) for m in FORM_TOKEN.finditer(source)})


def _markup_problems(html: str, *, rendered: bool) -> list[FieldError]:
    """Tags and resource URLs a page may not have, in its source or in what it renders to."""
    where = " once the template is applied" if rendered else ""
    errors: list[FieldError] = []
    if (tag := FORBIDDEN_TAGS.search(html)) is not None:
        errors.append(
            FieldError(
                "/html",
                f"<{tag.group(1).lower()}> is not allowed in a page{where} (nothing runs or "
                "loads from elsewhere).",
                "forbidden_tag",
            )
        )
    if LINK_TAG.search(html) or META_TAG.search(html):
        errors.append(
            FieldError(
                "/html",
                f"<link> and <meta> are not allowed in a page body{where}.",
                "forbidden_tag",
            )
        )
    for match in RESOURCE_ATTR.finditer(html):
        value = next((g for g in match.groups()[1:] if g is not None), "")
        values = [value]
        if match.group(1).lower() == "srcset":
            values = [(c.strip().split() or [""])[0] for c in value.split(",")]
        if any(_remote(v) for v in values):
            errors.append(
                FieldError(
                    "/html",
                    f"{match.group(1)}={value[:80]!r} loads from another host{where}; upload "
                    "the file as an asset instead.",
                    "remote_resource",
                )
            )
            break
    for match in CSS_URL.finditer(html):
        if _remote(match.group(2)):
            errors.append(
                FieldError(
                    "/html",
                    f"Inline styles may not load from another host{where}.",
                    "remote_resource",
                )
            )
            break
    return errors


def check_page(html: str, css: str) -> list[FieldError]:
    """Every problem that stops a page from being saved, with its pointer.

    The markup is checked as written and again as rendered for a visitor: template syntax
    can assemble a tag the source does not show (``<{# #}script>``). What a render for one
    particular contact's data could assemble is neutralised when the page is served
    (:func:`neutralise_active_content`) and held by the page's Content-Security-Policy.
    """
    errors = _markup_problems(html, rendered=False)
    if CSS_IMPORT.search(css):
        errors.append(FieldError("/css", "@import is not allowed.", "remote_resource"))
    if STYLE_END.search(css):
        errors.append(FieldError("/css", "The CSS may not close the style element.", "invalid_css"))
    for match in CSS_URL.finditer(css):
        if _remote(match.group(2)):
            errors.append(
                FieldError("/css", "The CSS may not load from another host.", "remote_resource")
            )
            break
    errors += check_template(FORM_TOKEN.sub("", html), "/html")
    if not errors:
        try:
            sample = render_template(compile_body(html), {"contact": {}, "owner": {}, "date": DAY})
        except PageRenderFailed as exc:
            errors.append(FieldError("/html", str(exc), exc.code))
        else:
            errors += _markup_problems(sample, rendered=True)
    return errors


class PageRenderFailed(Exception):
    """The page's template cannot be rendered (past a sandbox bound, or an error in it)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def render_template(template: Any, context: Mapping[str, Any]) -> str:
    try:
        return str(template.render(context))
    except TemplateLimit as exc:
        raise PageRenderFailed(f"The page does too much: {exc}", "template_limit") from None
    except SecurityError as exc:
        raise PageRenderFailed(f"The page reaches outside the sandbox: {exc}", "sandbox") from None
    except (TemplateError, TypeError, ValueError, ArithmeticError) as exc:
        raise PageRenderFailed(f"The page fails to render: {exc}", "template_error") from None


# Neutralised, not removed: "<script" becomes the text "&lt;script", which runs nothing and shows
# the author what went wrong. <meta> and <link> have no place in a body (the document's head is
# built below).
ACTIVE_TAG = re.compile(
    r"<(\s*/?\s*(?:script|iframe|frame|object|embed|base|applet|link|meta)\b)", re.IGNORECASE
)


def neutralise_active_content(body: str) -> str:
    """The rendered body with every tag that runs, loads or redirects made into text."""
    return ACTIVE_TAG.sub(r"&lt;\1", body)


# A per-process marker for the form placeholders: page text cannot guess it.
_MARK = secrets.token_hex(6)
_PLACEHOLDER = re.compile(rf"TRELLISF{_MARK}X(\d+)F")


def compile_body(html: str) -> Any:
    source = FORM_TOKEN.sub(lambda m: f"TRELLISF{_MARK}X{m.group(1)}F", html)
    return HTML_ENV.from_string(tokens_to_jinja(source))


@dataclass(frozen=True)
class PageDocument:
    title: str
    language: str
    meta_description: str
    css: str
    tracking_script: str


def render_body(
    template: Any,
    *,
    contact: Mapping[str, Any],
    date: str,
    forms: Mapping[int, str],
    contact_token: str | None = None,
) -> str:
    body = render_template(template, {"contact": dict(contact), "owner": {}, "date": date})
    body = neutralise_active_content(body)
    body = _PLACEHOLDER.sub(lambda m: forms.get(int(m.group(1)), ""), body)
    if contact_token:
        # Asset links carry the visitor's signed contact token, so its downloads are its own.
        body = ASSET_HREF.sub(
            lambda m: f"{m.group(1)}{m.group(2)}?ct={contact_token}{m.group(3)}", body
        )
    return body


def render_document(page: PageDocument, body: str, *, with_forms: bool) -> str:
    esc = html_lib.escape
    head = [
        "<!doctype html>",
        f'<html lang="{esc(page.language)}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(page.title)}</title>",
    ]
    if page.meta_description:
        head.append(f'<meta name="description" content="{esc(page.meta_description)}">')
    if with_forms:
        head.append('<link rel="stylesheet" href="/f/forms.css">')
    if page.css:
        head.append(f"<style>{page.css}</style>")
    head.append("</head><body>")
    tail = f'<script src="{esc(page.tracking_script)}" async></script></body></html>'
    return "".join(head) + body + tail


def content_security_policy(base_url: str, tracking_script: str) -> str:
    """The policy every public landing page is served with.

    ``sandbox`` without ``allow-same-origin`` runs the page in an opaque origin: whatever its
    markup does, it cannot read or send the administrator's session cookie, call the API as
    them or read anything of this origin. The only script it may load is the bundled tracking
    script (by its full URL), nothing inline; forms post only to this server.
    """
    own = "'self'"
    script = own
    if base_url.startswith(("http://", "https://")):
        own = f"'self' {base_url.rstrip('/')}"
        script = base_url.rstrip("/") + tracking_script
    return (
        f"default-src 'none'; script-src {script}; connect-src {own}; img-src {own} data:; "
        f"style-src {own} 'unsafe-inline'; font-src {own}; media-src {own}; "
        f"frame-src 'none'; object-src 'none'; form-action {own}; frame-ancestors 'self'; "
        "base-uri 'none'; sandbox allow-scripts allow-forms allow-popups "
        "allow-popups-to-escape-sandbox"
    )
