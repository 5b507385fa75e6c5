"""Domain errors. Each carries its HTTP status; the API maps them to RFC 9457 problems once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class FieldError:
    """One invalid input, located by a JSON pointer (RFC 6901) into the request document."""

    pointer: str
    detail: str
    code: str = "invalid"
    # Set for query, path and header parameters, which have no place in the body document.
    parameter: str | None = None

    def as_dict(self) -> dict[str, str]:
        item = {"pointer": self.pointer, "detail": self.detail, "code": self.code}
        if self.parameter is not None:
            item["parameter"] = self.parameter
        return item


def json_pointer(*parts: str | int) -> str:
    def escape(part: str | int) -> str:
        return str(part).replace("~", "~0").replace("/", "~1")

    return "".join("/" + escape(p) for p in parts)


@dataclass
class DomainError(Exception):
    detail: str
    errors: list[FieldError] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    status_code: ClassVar[int] = 400
    title: ClassVar[str] = "Bad request"
    type_slug: ClassVar[str] = "bad-request"

    def __str__(self) -> str:
        return self.detail


class ValidationFailed(DomainError):
    status_code = 422
    title = "Validation failed"
    type_slug = "validation-failed"


class NotFound(DomainError):
    status_code = 404
    title = "Not found"
    type_slug = "not-found"


class Conflict(DomainError):
    status_code = 409
    title = "Conflict"
    type_slug = "conflict"


class PreconditionFailed(DomainError):
    status_code = 412
    title = "Precondition failed"
    type_slug = "precondition-failed"


class NotAuthenticated(DomainError):
    status_code = 401
    title = "Not authenticated"
    type_slug = "not-authenticated"


class PermissionDenied(DomainError):
    status_code = 403
    title = "Permission denied"
    type_slug = "permission-denied"


class TooManyRequests(DomainError):
    status_code = 429
    title = "Too many requests"
    type_slug = "too-many-requests"


class PayloadTooLarge(DomainError):
    status_code = 413
    title = "Payload too large"
    type_slug = "payload-too-large"


class QueryTimedOut(DomainError):
    """An interactive query (a count, a preview) ran past its time limit and was cancelled."""

    status_code = 422
    title = "Query took too long"
    type_slug = "query-timeout"
