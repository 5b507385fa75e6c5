"""HTML form bodies of the public routes, urlencoded or multipart, read within a size bound.

Browsers post forms urlencoded by default, but RFC 8058 recommends that mail clients send the
one-click unsubscribe as ``multipart/form-data``, and an HTML form with
``enctype="multipart/form-data"`` posts that way too. Both are read here, into the same
``{name: [values]}`` shape; files are never accepted on these routes.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from urllib.parse import parse_qs

from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"


class FormBodyError(Exception):
    """A body that is not a form this route reads: too large (413), malformed (400) or of
    another media type (415)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def read_bounded(request: Request, max_bytes: int) -> bytes:
    """The body, refused with 413 as soon as it passes ``max_bytes`` (memory stays bounded)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise FormBodyError(413, f"The request body is larger than {max_bytes} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


async def parse_form(request: Request, body: bytes, *, max_fields: int) -> dict[str, list[str]]:
    """A form body already read (see :func:`read_bounded`) as lists of values per name."""
    kind = media_type(request)
    if kind in (URLENCODED, ""):
        try:
            return parse_qs(
                body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=max_fields
            )
        except ValueError:
            raise FormBodyError(400, f"More than {max_fields} inputs.") from None
    if kind == MULTIPART:
        return await _multipart(request, body, max_fields=max_fields)
    raise FormBodyError(415, "Send the form urlencoded or as multipart/form-data.")


async def read_form(request: Request, *, max_bytes: int, max_fields: int) -> dict[str, list[str]]:
    return await parse_form(request, await read_bounded(request, max_bytes), max_fields=max_fields)


async def _multipart(request: Request, body: bytes, *, max_fields: int) -> dict[str, list[str]]:
    async def once() -> AsyncGenerator[bytes, None]:
        yield body

    parser = MultiPartParser(
        request.headers, once(), max_files=0, max_fields=max_fields, max_part_size=len(body) + 1
    )
    try:
        data = await parser.parse()
    except MultiPartException as exc:
        raise FormBodyError(400, f"The multipart form cannot be read: {exc.message}") from None
    out: dict[str, list[str]] = {}
    for name, value in data.multi_items():
        if isinstance(value, UploadFile):  # max_files=0 refuses them; kept for the type
            raise FormBodyError(400, "Files are not accepted here.")
        out.setdefault(name, []).append(value)
    return out
