"""Field types: what values each accepts, and the core contact fields every instance has.

One place decides how a value of each type is checked and normalised, for the API, the CSV
import, forms and the segment filters alike.
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email

from trellis.clock import ensure_aware


class FieldType(StrEnum):
    TEXT = "text"
    LONG_TEXT = "long_text"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    EMAIL = "email"
    URL = "url"
    PHONE = "phone"
    SELECT = "select"
    MULTISELECT = "multiselect"
    COUNTRY = "country"
    TIMEZONE = "timezone"
    LOCALE = "locale"


# How a type compares in SQL: as text, as a number, as a date (ISO text sorts correctly),
# as a boolean, or as a list of values.
class Comparison(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    DATETIME = "datetime"
    BOOLEAN = "boolean"
    LIST = "list"


COMPARISON: dict[FieldType, Comparison] = {
    FieldType.TEXT: Comparison.TEXT,
    FieldType.LONG_TEXT: Comparison.TEXT,
    FieldType.NUMBER: Comparison.NUMBER,
    FieldType.BOOLEAN: Comparison.BOOLEAN,
    FieldType.DATE: Comparison.DATE,
    FieldType.DATETIME: Comparison.DATETIME,
    FieldType.EMAIL: Comparison.TEXT,
    FieldType.URL: Comparison.TEXT,
    FieldType.PHONE: Comparison.TEXT,
    FieldType.SELECT: Comparison.TEXT,
    FieldType.MULTISELECT: Comparison.LIST,
    FieldType.COUNTRY: Comparison.TEXT,
    FieldType.TIMEZONE: Comparison.TEXT,
    FieldType.LOCALE: Comparison.TEXT,
}

MAX_TEXT = 255
MAX_LONG_TEXT = 65_535

# ISO 3166-1 alpha-2 codes.
COUNTRIES = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO
    BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ
    DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP
    GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG
    KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML
    MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE
    PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL
    SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM
    US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
    """.split()  # noqa: SIM905 - a compact table of codes
)

_LOCALE = re.compile(r"^[a-z]{2,3}([_-][A-Za-z0-9]{2,8})*$")
_PHONE = re.compile(r"^\+?[0-9 ()./-]{3,40}$")
_TRUE = {"1", "true", "yes", "y", "on", "t"}
_FALSE = {"0", "false", "no", "n", "off", "f"}


@functools.cache
def known_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


class InvalidValue(ValueError):
    """A value that does not fit its field; the message is shown to the user as is."""


def _text(value: Any, limit: int) -> str:
    if isinstance(value, bool | dict | list):
        raise InvalidValue("Expected text.")
    text = str(value).strip()
    if len(text) > limit:
        raise InvalidValue(f"At most {limit} characters.")
    return text


def coerce(field_type: FieldType, value: Any, *, options: Sequence[str] = ()) -> Any:
    """Check and normalise one value. Empty values (None, "") become None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    match field_type:
        case FieldType.TEXT:
            return _text(value, MAX_TEXT)
        case FieldType.LONG_TEXT:
            return _text(value, MAX_LONG_TEXT)
        case FieldType.NUMBER:
            return _number(value)
        case FieldType.BOOLEAN:
            return _boolean(value)
        case FieldType.DATE:
            return _date(value)
        case FieldType.DATETIME:
            return _datetime(value)
        case FieldType.EMAIL:
            return normalise_email(_text(value, 320))
        case FieldType.URL:
            return _url(_text(value, 2000))
        case FieldType.PHONE:
            text = _text(value, 50)
            if not _PHONE.match(text):
                raise InvalidValue("Not a phone number.")
            return text
        case FieldType.SELECT:
            text = _text(value, MAX_TEXT)
            if options and text not in options:
                raise InvalidValue(f"Not one of the choices: {', '.join(options[:10])}.")
            return text
        case FieldType.MULTISELECT:
            return _multiselect(value, options)
        case FieldType.COUNTRY:
            code = _text(value, 2 if len(str(value).strip()) <= 2 else 100).upper()
            if code not in COUNTRIES:
                raise InvalidValue("Not an ISO 3166 country code such as FR or US.")
            return code
        case FieldType.TIMEZONE:
            text = _text(value, 64)
            if text not in known_timezones():
                raise InvalidValue("Not an IANA timezone such as Europe/Paris.")
            return text
        case FieldType.LOCALE:
            text = _text(value, 35)
            if not _LOCALE.match(text):
                raise InvalidValue("Not a locale such as en or pt_BR.")
            return text
    raise InvalidValue(f"Unknown field type {field_type}.")  # pragma: no cover


def normalise_email(text: str) -> str:
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidValue(f"Not a valid email address: {exc}") from None
    return result.normalized.lower()


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise InvalidValue("Expected a number.")
    if isinstance(value, int | float):
        number: Decimal | int | float = value
    else:
        try:
            number = Decimal(str(value).strip().replace(",", "."))
        except InvalidOperation:
            raise InvalidValue("Expected a number.") from None
    as_float = float(number)
    if as_float != as_float or as_float in (float("inf"), float("-inf")):
        raise InvalidValue("Expected a finite number.")
    if abs(as_float) > 1e15:
        raise InvalidValue("The number is too large.")
    return int(as_float) if as_float.is_integer() else as_float


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidValue("Expected yes or no (true/false, 1/0).")


def _date(value: Any) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    try:
        return date.fromisoformat(text[:10]).isoformat() if len(text) >= 10 else _bad_date()
    except ValueError:
        return _bad_date()


def _bad_date() -> str:
    raise InvalidValue("Expected a date as YYYY-MM-DD.")


def _datetime(value: Any) -> str:
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value).strip().replace("Z", "+00:00").replace("z", "+00:00")
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise InvalidValue("Expected a date and time in ISO 8601.") from None
    # Stored as UTC ISO text, which sorts and compares correctly on both dialects.
    return ensure_aware(moment).strftime("%Y-%m-%dT%H:%M:%S")


def _url(text: str) -> str:
    candidate = text if "://" in text else f"https://{text}"
    try:
        parts = urlsplit(candidate)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise InvalidValue("Not a web address.") from None
    if parts.scheme not in {"http", "https"} or not parts.netloc or " " in candidate:
        raise InvalidValue("Not a web address.")
    return candidate


def _multiselect(value: Any, options: Sequence[str]) -> list[str]:
    items = value if isinstance(value, list) else str(value).split("|")
    cleaned = []
    for item in items:
        text = _text(item, MAX_TEXT)
        if not text:
            continue
        if options and text not in options:
            raise InvalidValue(f"{text!r} is not one of the choices.")
        if text not in cleaned:
            cleaned.append(text)
    return cleaned


@dataclass(frozen=True)
class CoreField:
    alias: str
    label: str
    type: FieldType
    group: str = "core"
    # Identifying fields find the contact on upsert (email is the built-in one).
    is_identifier: bool = False
    # Whether an anonymous form post may replace the value a contact has (see
    # FieldSpec.publicly_updatable). A person's own details, yes (people correct them
    # through forms); the first touch's UTM attribution, no.
    publicly_updatable: bool = True


CORE_CONTACT_FIELDS: tuple[CoreField, ...] = (
    CoreField("email", "Email", FieldType.EMAIL, is_identifier=True),
    CoreField("first_name", "First name", FieldType.TEXT),
    CoreField("last_name", "Last name", FieldType.TEXT),
    CoreField("phone", "Phone", FieldType.PHONE),
    CoreField("mobile", "Mobile", FieldType.PHONE),
    CoreField("position", "Position", FieldType.TEXT),
    CoreField("company_name", "Company", FieldType.TEXT),
    CoreField("address1", "Address line 1", FieldType.TEXT, "address"),
    CoreField("address2", "Address line 2", FieldType.TEXT, "address"),
    CoreField("city", "City", FieldType.TEXT, "address"),
    CoreField("state", "State", FieldType.TEXT, "address"),
    CoreField("zipcode", "Zip code", FieldType.TEXT, "address"),
    CoreField("country", "Country", FieldType.COUNTRY, "address"),
    CoreField("timezone", "Timezone", FieldType.TIMEZONE, "preferences"),
    CoreField("locale", "Locale", FieldType.LOCALE, "preferences"),
    CoreField("website", "Website", FieldType.URL, "social"),
    CoreField("utm_source", "UTM source", FieldType.TEXT, "utm", publicly_updatable=False),
    CoreField("utm_medium", "UTM medium", FieldType.TEXT, "utm", publicly_updatable=False),
    CoreField("utm_campaign", "UTM campaign", FieldType.TEXT, "utm", publicly_updatable=False),
    CoreField("utm_content", "UTM content", FieldType.TEXT, "utm", publicly_updatable=False),
    CoreField("utm_term", "UTM term", FieldType.TEXT, "utm", publicly_updatable=False),
)
CORE_CONTACT_ALIASES = frozenset(f.alias for f in CORE_CONTACT_FIELDS)

# Aliases that name contact properties other than fields; custom fields may not take them.
RESERVED_ALIASES = CORE_CONTACT_ALIASES | {
    "id",
    "owner",
    "owner_id",
    "stage",
    "stage_id",
    "points",
    "tags",
    "fields",
    "companies",
    "company",
    "created_at",
    "updated_at",
    "last_active_at",
    "is_anonymous",
    "dnc",
    "segments",
    "campaigns",
    "version",
    "name",
    "utm",
}

CORE_COMPANY_ALIASES = frozenset({"id", "name", "domain", "fields", "created_at", "updated_at"})

_CORE_TEXT_LIMITS = {
    "email": 320,
    "first_name": 100,
    "last_name": 100,
    "phone": 50,
    "mobile": 50,
    "position": 200,
    "company_name": 200,
    "address1": 200,
    "address2": 200,
    "city": 100,
    "state": 100,
    "zipcode": 20,
    "website": 500,
    "utm_source": 200,
    "utm_medium": 200,
    "utm_campaign": 200,
    "utm_content": 200,
    "utm_term": 200,
}


def coerce_core(alias: str, value: Any) -> Any:
    field = next(f for f in CORE_CONTACT_FIELDS if f.alias == alias)
    coerced = coerce(field.type, value)
    limit = _CORE_TEXT_LIMITS.get(alias)
    if isinstance(coerced, str) and limit is not None and len(coerced) > limit:
        raise InvalidValue(f"At most {limit} characters.")
    return coerced
