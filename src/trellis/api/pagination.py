"""Query parameters and the response envelope shared by every list endpoint."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query, Request
from pydantic import BaseModel

from trellis.db.pagination import Page, PageRequest
from trellis.errors import FieldError, ValidationFailed

ItemT = TypeVar("ItemT")


class PageMeta(BaseModel):
    total: int
    page: int
    size: int


class ListResponse(BaseModel, Generic[ItemT]):
    data: list[ItemT]
    meta: PageMeta


def page_request(
    request: Request,
    number: Annotated[int, Query(alias="page[number]", ge=1, le=1_000_000)] = 1,
    size: Annotated[int | None, Query(alias="page[size]", ge=1)] = None,
    sort: Annotated[
        str | None, Query(max_length=200, pattern=r"^[-+]?[a-z_]+(,[-+]?[a-z_]+)*$")
    ] = None,
) -> PageRequest:
    api = request.app.state.settings.api
    if size is not None and size > api.max_page_size:
        raise ValidationFailed(
            f"page[size] may be at most {api.max_page_size}.",
            [FieldError("", f"At most {api.max_page_size}.", "too_large", parameter="page[size]")],
        )
    return PageRequest(number=number, size=size or api.default_page_size, sort=sort)


def list_response(page: Page[Any], convert: Callable[[Any], ItemT]) -> ListResponse[ItemT]:
    data: Sequence[ItemT] = [convert(item) for item in page.items]
    return ListResponse[ItemT](
        data=list(data), meta=PageMeta(total=page.total, page=page.number, size=page.size)
    )
