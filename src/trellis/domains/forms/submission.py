"""Checking a posted form: the answers against the form's fields, what goes into the contact
record, and what is kept of the request (anonymised address, user agent, page)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from trellis.db.models import Form
from trellis.domains.contacts.values import Prepared
from trellis.domains.fields.service import FieldCatalog
from trellis.domains.fields.types import InvalidValue, coerce_core
from trellis.domains.forms.validation import as_text, check_value
from trellis.errors import FieldError, ValidationFailed

PAGE_URL = "_page"
MAX_PAGE_URL = 2000
MAX_USER_AGENT = 500
# One IPv4 octet as ipaddress accepts it: 0 to 255, no leading zero.
_OCTET = re.compile(r"0|[1-9][0-9]?|1[0-9][0-9]|2[0-4][0-9]|25[0-5]")


@dataclass
class Submission:
    """A checked submission, ready to be accepted."""

    values: dict[str, Any]
    contact: Prepared
    consent_text: str | None = None
    ip: str | None = None
    user_agent: str = ""
    page_url: str | None = None
    # (purpose, exact wording) of each consent box ticked.
    consents: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Accepted:
    submission_ids: list[int] = field(default_factory=list)
    contact_ids: list[int | None] = field(default_factory=list)


def anonymise_ip(address: str | None) -> str | None:
    """The network, not the host: IPv4 /24, IPv6 /48."""
    if not address:
        return None
    parts = address.split(".")
    if len(parts) == 4 and all(_OCTET.fullmatch(part) for part in parts):
        # Dotted IPv4, by far the common case: the /24 without building address objects.
        return f"{parts[0]}.{parts[1]}.{parts[2]}.0"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False).network_address)


def _posted_or_default(item: Mapping[str, Any], posted: Mapping[str, list[str]]) -> list[str]:
    """What was posted for a field, or its default when nothing was."""
    given = posted.get(item["name"])
    if given is None and item.get("default") not in (None, "", []):
        default = item["default"]
        given = [str(v) for v in default] if isinstance(default, list) else [str(default)]
    return given or []


def _map_to_contact(
    item: Mapping[str, Any], value: Any, catalog: FieldCatalog, prepared: Prepared
) -> None:
    """Put an answer into the contact field the form field maps to, if any; raises
    InvalidValue when the contact field does not take it."""
    alias = item.get("contact_field")
    if not alias:
        return
    spec = catalog.get(alias)
    if spec is None:
        return
    contact_value = ", ".join(value) if isinstance(value, list) and spec.is_core else value
    if spec.is_core:
        prepared.core[alias] = coerce_core(alias, as_text(contact_value))
    else:
        prepared.custom[alias] = spec.coerce(contact_value)


def _page_url(posted: Mapping[str, list[str]]) -> str:
    """The page the form was posted from, kept only when it is a web address."""
    page_url = (posted.get(PAGE_URL) or [""])[0][:MAX_PAGE_URL]
    return page_url if page_url.startswith(("http://", "https://")) else ""


def check_submission(
    form: Form,
    catalog: FieldCatalog,
    posted: Mapping[str, list[str]],
    *,
    ip: str | None,
    user_agent: str,
) -> Submission:
    """Check posted values against the form; ValidationFailed with ``/fields/<name>``
    pointers. Inputs the form does not have are ignored. ``ip`` is kept as given."""
    errors: list[FieldError] = []
    values: dict[str, Any] = {}
    prepared = Prepared()
    consent: list[str] = []
    consents: list[tuple[str, str]] = []
    for item in form.fields:
        name = item["name"]
        pointer = f"/fields/{name}"
        try:
            value = check_value(item, _posted_or_default(item, posted))
        except InvalidValue as exc:
            errors.append(FieldError(pointer, str(exc), "invalid_value"))
            continue
        empty = value is None or value == [] or value is False
        if empty:
            if item.get("required"):
                detail = (
                    "Please tick this box to continue."
                    if item["type"] == "consent"
                    else "This field is required."
                )
                errors.append(FieldError(pointer, detail, "required"))
            continue
        values[name] = value
        if item["type"] == "consent":
            consent.append(item.get("consent_text") or "")
            consents.append(
                (item.get("consent_purpose") or "marketing", item.get("consent_text") or "")
            )
            continue
        try:
            _map_to_contact(item, value, catalog, prepared)
        except InvalidValue as exc:
            errors.append(FieldError(pointer, str(exc), "invalid_value"))
    if errors:
        raise ValidationFailed("Some answers need attention; see errors.", errors)
    page_url = _page_url(posted)
    # Ticking a consent box is an opt-in: it may bring back an address erased on request.
    prepared.opted_in = bool(consents)
    return Submission(
        values=values,
        contact=prepared,
        consent_text="\n\n".join(consent) if consent else None,
        consents=consents,
        ip=ip,
        user_agent=user_agent[:MAX_USER_AGENT],
        page_url=page_url or None,
    )
