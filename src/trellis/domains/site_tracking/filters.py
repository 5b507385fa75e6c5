"""The segment filter "visited URL" (the SQL behind the campaign condition ``page.visited``).

``value`` is the URL text, or ``{"url": <text>, "within_days": <N or null>}``. Operators:
``=`` (the exact URL, by its indexed hash), ``contains``, ``starts_with`` and ``matches``
(``*`` matches anything; the whole URL must match), the last three without regard to case.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from trellis.db.models import Contact, PageHit
from trellis.domains.segments.filters import (
    Bound,
    CompileContext,
    FilterType,
    ValidationContext,
)
from trellis.domains.segments.schemas import Condition
from trellis.domains.site_tracking.repository import url_hash
from trellis.errors import FieldError, ValidationFailed

OPERATORS = ("=", "contains", "starts_with", "matches")
MAX_URL = 2000


def _fail(pointer: str, detail: str, code: str = "invalid_value") -> ValidationFailed:
    return ValidationFailed(detail, [FieldError(pointer, detail, code)])


def like_pattern(pattern: str) -> str:
    """A ``*`` wildcard pattern as a LIKE pattern escaped with ``\\``."""
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%")


class VisitedUrlFilter(FilterType):
    key = "visited_url"
    label = "Visited URL"
    value_help = (
        'The URL (or a pattern with * for matches), or {"url": <text>, "within_days": <N>} '
        "to count only recent visits."
    )

    def operators(self) -> Mapping[str, tuple[str, ...]]:
        return {"*": OPERATORS}

    async def bind(self, ctx: ValidationContext, condition: Condition, pointer: str) -> Bound:
        if condition.operator not in OPERATORS:
            raise _fail(
                f"{pointer}/operator",
                f"Unknown operator {condition.operator!r} for visited URL; use one of: "
                f"{', '.join(OPERATORS)}.",
                "unknown_operator",
            )
        value: Any = condition.value
        url_pointer = f"{pointer}/value"
        within: Any = None
        if isinstance(value, dict):
            url_pointer = f"{pointer}/value/url"
            within = value.get("within_days")
            value = value.get("url")
            if within is not None and (
                isinstance(within, bool) or not isinstance(within, int) or not 1 <= within <= 3650
            ):
                raise _fail(f"{pointer}/value/within_days", "Expected a number of days, 1 to 3650.")
        if not isinstance(value, str) or not value.strip() or len(value) > MAX_URL:
            raise _fail(url_pointer, f"Expected a URL or pattern of 1 to {MAX_URL} characters.")
        url = value.strip()
        return Bound(
            type=self,
            operator=condition.operator,
            value=(url, within),
            pointer=pointer,
            stored={
                "type": self.key,
                "operator": condition.operator,
                "value": {"url": url, "within_days": within},
            },
        )

    def compile(self, ctx: CompileContext, bound: Bound) -> ColumnElement[bool]:
        url, within = bound.value
        hit = aliased(PageHit)
        tests: list[ColumnElement[bool]] = [hit.contact_id == Contact.id]
        lowered = func.lower(hit.url)
        if bound.operator == "=":
            tests.append(hit.url_hash == url_hash(url))
        elif bound.operator == "contains":
            tests.append(lowered.contains(url.lower(), autoescape=True))
        elif bound.operator == "starts_with":
            tests.append(lowered.startswith(url.lower(), autoescape=True))
        else:
            tests.append(lowered.like(like_pattern(url.lower()), escape="\\"))
        if within is not None:
            tests.append(hit.created_at >= ctx.now - timedelta(days=within))
        return exists(select(hit.id).where(*tests))


FILTER_TYPES = (VisitedUrlFilter(),)
