"""Rendering: tokens, the sandbox, MJML, inlined CSS and the plain-text part.

Everything expensive happens once per email version (:func:`compile_email`): the tokens become
Jinja2 expressions, MJML becomes HTML, CSS is inlined, links get their UTM tags and are pulled
out into a list (the hook where click tracking rewrites them), the plain-text part is derived,
and the result is compiled by a sandboxed Jinja2 environment. Per contact only the compiled
templates run (:meth:`CompiledEmail.render`), which is plain string building.

The sandbox: templates see the contact's fields (``contact``), the owner's (``owner``), the
unsubscribe, web view and preference URLs and the date; nothing else. Saving refuses a template
that names anything else, calls anything, reaches for an attribute starting with an underscore
or uses a filter outside a short list, with the line where it does.
"""

from __future__ import annotations

import html as html_lib
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from html.parser import HTMLParser
from types import CodeType
from typing import Any, Protocol
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import css_inline
from jinja2 import ChainableUndefined, TemplateError, TemplateSyntaxError, Undefined, nodes
from jinja2.exceptions import SecurityError
from markupsafe import Markup

from trellis.domains.emails.sandbox import BoundedSandbox, TemplateLimit
from trellis.errors import FieldError
from trellis.runtime.mailer import QuotedPrintable

# {contactfield=alias|default}, {ownerfield=alias|default}
FIELD_TOKEN = re.compile(
    r"\{(contactfield|ownerfield)=([A-Za-z][A-Za-z0-9_]{0,63})(?:\|([^{}]*))?\}"
)
URL_TOKENS = ("unsubscribe_url", "webview_url", "preferences_url")
SIMPLE_TOKEN = re.compile(r"\{(unsubscribe_url|webview_url|preferences_url|date)\}")
JINJA_BLOCK = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
PLACEHOLDER = re.compile(r"TRELLISX(\d+)X")
LINK_PLACEHOLDER = re.compile(r"TRELLISL(\d+)L")
HREF = re.compile(r"(<a\b[^>]*?\bhref\s*=\s*)([\"'])(.*?)\2", re.IGNORECASE | re.DOTALL)

# The names a template may read. ``_links`` and ``_pixel`` are filled by the renderer itself.
CONTEXT_NAMES = frozenset({"contact", "owner", "date", *URL_TOKENS})
INTERNAL_NAMES = frozenset({"_links", "_pixel"})
ALLOWED_FILTERS = frozenset(
    {
        "fallback",
        "default",
        "d",
        "upper",
        "lower",
        "title",
        "capitalize",
        "trim",
        "truncate",
        "replace",
        "escape",
        "e",
        "round",
        "int",
        "float",
        "string",
        "length",
        "first",
        "last",
        "join",
        "urlencode",
        "wordcount",
        "center",
        "striptags",
    }
)
MJML_TAGS = frozenset(
    {
        "mjml",
        "mj-head",
        "mj-body",
        "mj-attributes",
        "mj-all",
        "mj-class",
        "mj-breakpoint",
        "mj-font",
        "mj-html-attributes",
        "mj-html-attribute",
        "mj-selector",
        "mj-preview",
        "mj-style",
        "mj-title",
        "mj-accordion",
        "mj-accordion-element",
        "mj-accordion-title",
        "mj-accordion-text",
        "mj-button",
        "mj-carousel",
        "mj-carousel-image",
        "mj-column",
        "mj-divider",
        "mj-group",
        "mj-hero",
        "mj-image",
        "mj-navbar",
        "mj-navbar-link",
        "mj-raw",
        "mj-section",
        "mj-social",
        "mj-social-element",
        "mj-spacer",
        "mj-table",
        "mj-text",
        "mj-wrapper",
    }
)
# Elements whose content MJML passes through as HTML: tags inside them are not MJML's business.
MJML_ENDING = frozenset(
    {"mj-text", "mj-button", "mj-raw", "mj-table", "mj-navbar-link", "mj-style", "mj-title"}
)


class TemplateProblem(Exception):
    """A template that cannot be saved, with the field and line it is about."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(e.detail for e in errors))
        self.errors = errors


def _fallback(value: Any, default: str = "") -> Any:
    """The default when the value is missing or empty (but not when it is 0 or False)."""
    if value is None or value == "" or value == [] or isinstance(value, Undefined):
        return default
    return value


class _Missing(ChainableUndefined):
    """A field the contact does not have: empty, and smaller than nothing, so that
    ``{% if contact.points > 10 %}`` is simply false for a contact without points."""

    def _false(self, other: Any) -> bool:
        return False

    __lt__ = __le__ = __gt__ = __ge__ = _false  # type: ignore[assignment]


def _environment(*, autoescape: bool, finalize: Callable[[Any], Any] | None = None) -> Any:
    env = BoundedSandbox(
        autoescape=autoescape,
        finalize=finalize,
        keep_trailing_newline=True,
        undefined=_Missing,
        trim_blocks=False,
    )
    # Nothing global: no range, dict, lipsum, cycler, joiner or namespace.
    env.globals.clear()
    filters = {k: v for k, v in env.filters.items() if k in ALLOWED_FILTERS}
    filters["fallback"] = _fallback
    env.set_filters(filters)
    return env


def _url_value(value: Any) -> Any:
    if value is None or isinstance(value, Undefined):
        return ""
    return quote(str(value), safe="")


# Style tags stay for the media queries that make MJML responsive; nothing is fetched.
INLINER = css_inline.CSSInliner(keep_style_tags=True, load_remote_stylesheets=False)
HTML_ENV = _environment(autoescape=True)
TEXT_ENV = _environment(autoescape=False)
URL_ENV = _environment(autoescape=False, finalize=_url_value)


# -- tokens -------------------------------------------------------------------------------------


def tokens_to_jinja(source: str) -> str:
    """Every token as the Jinja2 expression it stands for, on the same line."""

    def field(match: re.Match[str]) -> str:
        holder = "contact" if match.group(1) == "contactfield" else "owner"
        default = json.dumps(match.group(3) or "")
        return f"{{{{ {holder}[{json.dumps(match.group(2))}]|fallback({default}) }}}}"

    translated = FIELD_TOKEN.sub(field, source)
    return SIMPLE_TOKEN.sub(lambda m: f"{{{{ {m.group(1)} }}}}", translated)


# -- the sandbox check --------------------------------------------------------------------------


def _walk(node: nodes.Node) -> Iterator[nodes.Node]:
    yield node
    for child in node.iter_child_nodes():
        yield from _walk(child)


def _assigned_names(tree: nodes.Template) -> set[str]:
    names: set[str] = set()
    for node in _walk(tree):
        if isinstance(node, nodes.For | nodes.Assign | nodes.AssignBlock):
            for target in _walk(node.target):
                if isinstance(target, nodes.Name):
                    names.add(target.name)
    return names


def sandbox_problems(tree: nodes.Template, pointer: str) -> list[FieldError]:
    """What a parsed template reaches for beyond the contact's fields."""
    allowed = CONTEXT_NAMES | _assigned_names(tree) | {"loop"}
    errors: list[FieldError] = []

    def refuse(node: nodes.Node, what: str) -> None:
        errors.append(FieldError(pointer, f"Line {node.lineno}: {what}", "sandbox"))

    for node in _walk(tree):
        if isinstance(node, nodes.Name) and node.ctx == "load" and node.name not in allowed:
            refuse(
                node,
                f"'{node.name}' is not available; use contact, owner, date, "
                "unsubscribe_url, webview_url or preferences_url.",
            )
        elif isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
            refuse(node, f"'{node.attr}' cannot be read from a template.")
        elif (
            isinstance(node, nodes.Getitem)
            and isinstance(node.arg, nodes.Const)
            and isinstance(node.arg.value, str)
            and node.arg.value.startswith("_")
        ):
            refuse(node, f"'{node.arg.value}' cannot be read from a template.")
        elif isinstance(node, nodes.Call):
            refuse(node, "templates cannot call functions or methods.")
        elif isinstance(node, nodes.Filter | nodes.FilterBlock) and (
            getattr(node, "name", None) not in ALLOWED_FILTERS
        ):
            refuse(node, f"the filter '{getattr(node, 'name', '')}' is not allowed.")
        elif isinstance(
            node,
            nodes.Extends
            | nodes.Include
            | nodes.Import
            | nodes.FromImport
            | nodes.Macro
            | nodes.CallBlock,
        ):
            refuse(node, f"{type(node).__name__.lower()} is not allowed in an email.")
    return errors


def check_template(source: str, pointer: str, *, line_offset: int = 0) -> list[FieldError]:
    """Syntax and sandbox problems of one field, each with its line."""
    try:
        tree = TEXT_ENV.parse(tokens_to_jinja(source))
    except TemplateSyntaxError as exc:
        line = (exc.lineno or 1) + line_offset
        return [FieldError(pointer, f"Line {line}: {exc.message}", "template_syntax")]
    return sandbox_problems(tree, pointer)


# -- MJML ---------------------------------------------------------------------------------------


class _MjmlChecker(HTMLParser):
    """Finds the line of the first structural mistake; the MJML compiler itself does not say
    where a problem is."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, int]] = []
        self.problem: tuple[int, str] | None = None
        self.seen_root = False

    def _fail(self, message: str, line: int | None = None) -> None:
        if self.problem is None:
            self.problem = (line or self.getpos()[0], message)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._open(tag, closed=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._open(tag, closed=True)

    def _inside_html(self) -> bool:
        return bool(self.stack) and self.stack[-1][0] in MJML_ENDING

    def _open(self, tag: str, *, closed: bool) -> None:
        if self._inside_html():
            return
        if tag == "mj-include":
            self._fail("<mj-include> is not allowed: an email cannot read files.")
            return
        if not tag.startswith("mj") or tag not in MJML_TAGS:
            if tag.startswith("mj"):
                self._fail(f"<{tag}> is not an MJML element.")
            return
        if tag == "mjml":
            self.seen_root = True
        elif not self.seen_root:
            self._fail("The document must start with <mjml>.")
        if not closed:
            self.stack.append((tag, self.getpos()[0]))

    def handle_endtag(self, tag: str) -> None:
        if self._inside_html() and tag != self.stack[-1][0]:
            return
        if tag not in MJML_TAGS:
            return
        if not self.stack:
            self._fail(f"</{tag}> closes nothing.")
            return
        open_tag, line = self.stack[-1]
        if open_tag != tag:
            self._fail(f"</{tag}> found where <{open_tag}> (line {line}) should be closed.")
            return
        self.stack.pop()

    def finish(self) -> tuple[int, str] | None:
        self.close()
        if self.problem is None and self.stack:
            tag, line = self.stack[-1]
            self._fail(f"<{tag}> is never closed.", line)
        if self.problem is None and not self.seen_root:
            self._fail("The document must start with <mjml>.", 1)
        return self.problem


def _no_include(path: str) -> str:
    raise ValueError(f"mj-include is not allowed ({path})")


def mjml_to_html(source: str, pointer: str = "/body") -> str:
    checker = _MjmlChecker()
    checker.feed(source)
    problem = checker.finish()
    if problem is not None:
        line, message = problem
        raise TemplateProblem([FieldError(pointer, f"Line {line}: {message}", "invalid_mjml")])
    import mjml

    try:
        # No web fonts: a reader's mail client would fetch them from a third party.
        return str(mjml.mjml2html(source, fonts={}, include_loader=_no_include))
    except (ValueError, OSError) as exc:
        raise TemplateProblem(
            [FieldError(pointer, f"The MJML does not compile: {exc}.", "invalid_mjml")]
        ) from exc


# -- links and text -----------------------------------------------------------------------------


def add_utm(url: str, utm: Mapping[str, str]) -> str:
    """UTM tags on an http(s) link, keeping any the link already has."""
    tags = {f"utm_{k}": v for k, v in utm.items() if v}
    if not tags:
        return url
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    present = {k for k, _ in query}
    query.extend((k, v) for k, v in tags.items() if k not in present)
    return urlunsplit(parts._replace(query=urlencode(query, safe="{}|=TRELLISX")))


class _TextMaker(HTMLParser):
    BLOCKS = frozenset(
        {"p", "div", "br", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol"}
    )
    SKIP = frozenset({"head", "style", "script", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skipping = 0
        self.href: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.out.append("\n")
        elif tag == "a":
            self.href.append(dict(attrs).get("href"))
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.out.append(alt)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in ("p", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "li"):
            self.out.append("\n")
        elif tag == "a" and self.href:
            href = self.href.pop()
            if href and not href.startswith("#"):
                self.out.append(f" ({href.removeprefix('mailto:')})")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.out.append(data)

    def handle_comment(self, data: str) -> None:
        return None


def html_to_text(markup: str) -> str:
    maker = _TextMaker()
    maker.feed(markup)
    maker.close()
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in "".join(maker.out).split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


# -- the compiled email -------------------------------------------------------------------------


@dataclass(frozen=True)
class EmailContent:
    """What of an email the renderer needs."""

    subject: str
    preheader: str
    body: str
    body_format: str
    text_body: str | None
    utm: tuple[tuple[str, str], ...] = ()
    language: str = ""


@dataclass(frozen=True)
class RenderInput:
    contact: Mapping[str, Any]
    owner: Mapping[str, Any]
    unsubscribe_url: str
    webview_url: str
    preferences_url: str
    date: str


@dataclass(frozen=True)
class Rendered:
    subject: str
    html: str
    text: str
    links: list[str]
    # The HTML as the template produced it, literal text and values apart (see
    # :attr:`CompiledEmail.html_encoder`).
    html_parts: Sequence[str] = ()


class TrackingHook(Protocol):
    """Where click and open tracking plug in: the links of one message (in the order of
    :attr:`CompiledEmail.link_count`) become what the message carries, and the pixel is HTML
    put at the end of the body."""

    def links(self, send_id: int | None, urls: list[str]) -> list[str]: ...

    def pixel(self, send_id: int | None) -> str: ...


class NoTracking:
    def links(self, send_id: int | None, urls: list[str]) -> list[str]:
        return urls

    def pixel(self, send_id: int | None) -> str:
        return ""


def _literals(template: Any) -> list[str]:
    """The text a compiled Jinja2 template writes as is: the string constants of its code."""
    found: list[str] = []
    root = template.root_render_func
    codes = [getattr(root, "__wrapped__", root).__code__]
    codes += [block.__code__ for block in template.blocks.values()]
    while codes:
        code = codes.pop()
        for const in code.co_consts:
            if isinstance(const, str):
                found.append(const)
            elif isinstance(const, CodeType):
                codes.append(const)
    return found


@dataclass
class CompiledEmail:
    subject: Any
    html: Any
    text: Any
    # Per link: a fixed URL, or a template when the URL has tokens in it.
    links: list[str | Any]
    # The HTML template's literal text quoted-printable once: per message only the values.
    html_encoder: QuotedPrintable = field(default_factory=QuotedPrintable)

    @classmethod
    def build(cls, *, subject: Any, html: Any, text: Any, links: list[str | Any]) -> CompiledEmail:
        return cls(subject, html, text, links, QuotedPrintable(_literals(html)))

    @property
    def link_count(self) -> int:
        return len(self.links)

    def render(
        self, data: RenderInput, *, send_id: int | None = None, tracking: TrackingHook | None = None
    ) -> Rendered:
        context = {
            "contact": data.contact,
            "owner": data.owner,
            "unsubscribe_url": data.unsubscribe_url,
            "webview_url": data.webview_url,
            "preferences_url": data.preferences_url,
            "date": data.date,
        }
        urls = [link if isinstance(link, str) else link.render(context) for link in self.links]
        hook = tracking or NO_TRACKING
        shown = hook.links(send_id, urls) if urls else urls
        full = {**context, "_links": shown, "_pixel": Markup(hook.pixel(send_id))}  # noqa: S704
        template = self.html
        try:
            parts = list(template.root_render_func(template.new_context(full)))
        except Exception:
            # What Template.render does: the template's own line in the traceback.
            template.environment.handle_exception()
        return Rendered(
            subject=" ".join(self.subject.render(context).split()),
            html="".join(parts),
            text=self.text.render(full),
            links=urls,
            html_parts=parts,
        )


NO_TRACKING = NoTracking()


def _protect(source: str) -> tuple[str, list[str]]:
    """Jinja constructs out of the way of the MJML compiler and the CSS inliner, which would
    escape or move them."""
    kept: list[str] = []

    def hide(match: re.Match[str]) -> str:
        kept.append(match.group(0))
        return f"TRELLISX{len(kept) - 1}X"

    return JINJA_BLOCK.sub(hide, source), kept


def _restore(text: str, kept: Sequence[str]) -> str:
    return PLACEHOLDER.sub(lambda m: kept[int(m.group(1))], text)


def _escape_literal(source: str) -> str:
    """HTML-escape the text around the Jinja constructs of a field written as plain text."""
    translated = tokens_to_jinja(source)
    parts: list[str] = []
    last = 0
    for match in JINJA_BLOCK.finditer(translated):
        parts.append(html_lib.escape(translated[last : match.start()], quote=False))
        parts.append(match.group(0))
        last = match.end()
    parts.append(html_lib.escape(translated[last:], quote=False))
    return "".join(parts)


def _preheader_html(preheader: str) -> str:
    hidden = (
        "display:none;font-size:1px;color:#ffffff;line-height:1px;max-height:0;"
        "max-width:0;opacity:0;overflow:hidden"
    )
    return f'<div style="{hidden}">{preheader}</div>'


def _insert_after_body(markup: str, fragment: str) -> str:
    match = re.search(r"<body\b[^>]*>", markup, re.IGNORECASE)
    if match is None:
        return fragment + markup
    return markup[: match.end()] + fragment + markup[match.end() :]


def _insert_before_body_end(markup: str, fragment: str) -> str:
    index = markup.lower().rfind("</body>")
    if index < 0:
        return markup + fragment
    return markup[:index] + fragment + markup[index:]


def check_content(content: EmailContent) -> list[FieldError]:
    """Every problem that stops an email from being saved."""
    errors: list[FieldError] = []
    errors += check_template(content.subject, "/subject")
    errors += check_template(content.preheader, "/preheader")
    errors += check_template(content.body, "/body")
    if content.text_body is not None:
        errors += check_template(content.text_body, "/text_body")
    if errors:
        return errors
    try:
        compiled = compile_email(content)
        compiled.render(SAMPLE)
    except TemplateProblem as exc:
        return exc.errors
    except TemplateLimit as exc:
        return [FieldError("/body", f"The template does too much: {exc}", "template_limit")]
    except SecurityError as exc:
        return [FieldError("/body", f"The template reaches outside the sandbox: {exc}", "sandbox")]
    except TemplateSyntaxError as exc:
        return [FieldError("/body", f"Line {exc.lineno}: {exc.message}", "template_syntax")]
    except (TemplateError, TypeError, ValueError) as exc:
        return [FieldError("/body", f"The template fails to render: {exc}", "template_error")]
    return []


def compile_email(content: EmailContent) -> CompiledEmail:
    """Once per email version: the templates every message of this version is made from."""
    source = tokens_to_jinja(content.body)
    protected, kept = _protect(source)
    markup = mjml_to_html(protected) if content.body_format == "mjml" else protected
    try:
        markup = INLINER.inline(markup)
    except ValueError as exc:
        raise TemplateProblem(
            [FieldError("/body", f"The CSS cannot be inlined: {exc}.", "invalid_css")]
        ) from exc

    links: list[str | Any] = []

    def link(match: re.Match[str]) -> str:
        raw = html_lib.unescape(match.group(3)).strip()
        if not raw.lower().startswith(("http://", "https://")):
            return match.group(0)
        url = _restore(add_utm(raw, dict(content.utm)), kept)
        links.append(URL_ENV.from_string(url) if "{{" in url or "{%" in url else url)
        return f"{match.group(1)}{match.group(2)}TRELLISL{len(links) - 1}L{match.group(2)}"

    markup = HREF.sub(link, markup)
    if content.text_body is not None:
        text_source = tokens_to_jinja(content.text_body)
    else:
        text_source = _restore(html_to_text(markup), kept)
    text_source = LINK_PLACEHOLDER.sub(lambda m: f"{{{{ _links[{m.group(1)}] }}}}", text_source)
    markup = _restore(markup, kept)
    if content.preheader:
        markup = _insert_after_body(markup, _preheader_html(_escape_literal(content.preheader)))
    markup = _insert_before_body_end(markup, "{{ _pixel }}")
    markup = LINK_PLACEHOLDER.sub(lambda m: f"{{{{ _links[{m.group(1)}] }}}}", markup)
    return CompiledEmail.build(
        subject=TEXT_ENV.from_string(tokens_to_jinja(content.subject)),
        html=HTML_ENV.from_string(markup),
        text=TEXT_ENV.from_string(text_source),
        links=links,
    )


SAMPLE = RenderInput(
    contact={"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"},
    owner={"first_name": "Grace", "email": "grace@example.com"},
    unsubscribe_url="https://example.com/t/u/sample",
    webview_url="https://example.com/t/w/sample",
    preferences_url="https://example.com/t/p/sample",
    date=datetime(2026, 1, 1).date().isoformat(),
)
