"""One way to page through any list: a capped page size, a total, and a stable order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.elements import ColumnElement

from trellis.errors import FieldError, ValidationFailed

T = TypeVar("T")
SortColumn = ColumnElement[Any] | QueryableAttribute[Any]


@dataclass(frozen=True)
class PageRequest:
    number: int = 1
    size: int = 50
    sort: str | None = None

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    total: int
    number: int
    size: int


def order_by_sort(
    sort: str | None,
    *,
    allowed: Mapping[str, SortColumn],
    default: str,
    tiebreaker: SortColumn,
) -> list[SortColumn]:
    """``sort=name,-created_at`` over an allow-list, always ending on the primary key."""
    clauses: list[SortColumn] = []
    for term in (sort or default).split(","):
        term = term.strip()
        if not term:
            continue
        descending = term.startswith("-")
        key = term.lstrip("-+")
        column = allowed.get(key)
        if column is None:
            raise ValidationFailed(
                f"Cannot sort by {key!r}.",
                [
                    FieldError(
                        "",
                        f"Allowed: {', '.join(sorted(allowed))} (prefix '-' for descending).",
                        "invalid_sort",
                        parameter="sort",
                    )
                ],
            )
        clauses.append(column.desc() if descending else column.asc())
    clauses.append(tiebreaker)
    return clauses


async def paginate(
    session: AsyncSession,
    stmt: Select[*tuple[Any, ...]],
    *,
    page: PageRequest,
    order_by: Sequence[SortColumn],
    scalars: bool = True,
) -> Page[Any]:
    total = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    paged = stmt.order_by(*order_by).limit(page.size).offset(page.offset)
    result = await session.execute(paged)
    items = list(result.scalars().all()) if scalars else list(result.all())
    return Page(items=items, total=int(total or 0), number=page.number, size=page.size)


def text_search(q: str, *columns: Any) -> ColumnElement[bool]:
    """``q`` as a case-insensitive substring of any of the columns; ``%`` and ``_`` in ``q``
    match themselves."""
    needle = q.lower()
    return or_(*(func.lower(column).contains(needle, autoescape=True) for column in columns))
