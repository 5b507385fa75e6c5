"""Header mapping and cell checks, without a database."""

from __future__ import annotations

import pytest

from trellis.domains.contacts.service import Prepared
from trellis.domains.fields.service import FieldCatalog, FieldSpec
from trellis.domains.fields.types import (
    CORE_CONTACT_FIELDS,
    FieldType,
    InvalidValue,
    normalise_email,
)
from trellis.domains.imports.mapping import (
    CellError,
    MappingInvalid,
    RowConverter,
    fast_email,
    map_headers,
)


def catalog(*custom: FieldSpec) -> FieldCatalog:
    fields = {
        f.alias: FieldSpec(f.alias, f.label, f.type, is_core=True, is_identifier=f.is_identifier)
        for f in CORE_CONTACT_FIELDS
    }
    fields.update({c.alias: c for c in custom})
    return FieldCatalog("contact", fields)


CRM = FieldSpec("crm_id", "CRM id", FieldType.TEXT, is_core=False, is_identifier=True)
SCORE = FieldSpec("score", "Lead score", FieldType.NUMBER, is_core=False)


def test_automatic_mapping_by_alias_label_and_common_spellings() -> None:
    mapping = map_headers(
        ["E-mail", "First Name", "last_name", "Lead Score", "Zip", "Shoe size", "Tags"],
        catalog(SCORE),
    )
    assert mapping.targets == {
        "E-mail": "email",
        "First Name": "first_name",
        "last_name": "last_name",
        "Lead Score": "score",
        "Zip": "zipcode",
        "Shoe size": None,
        "Tags": "tags",
    }
    assert mapping.ignored == ["Shoe size"]
    assert "Shoe size" in mapping.notes()[0]


def test_overrides_win_and_skip() -> None:
    mapping = map_headers(
        ["Email", "Mail 2", "Customer", "Notes"],
        catalog(CRM),
        {"Email": None, "Mail 2": "email", "Customer": "crm_id"},
    )
    assert mapping.targets == {
        "Email": None,
        "Mail 2": "email",
        "Customer": "crm_id",
        "Notes": None,
    }
    assert mapping.skipped == ["Email"]


def test_a_second_header_for_the_same_field_is_ignored_automatically() -> None:
    mapping = map_headers(["email", "Email"], catalog())
    assert mapping.targets == {"email": "email", "Email": None}


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"Nope": "email"}, "unknown_column"),
        ({"Email": "shoe_size"}, "unknown_field"),
        ({"Email": "email", "Other": "email"}, "duplicate_target"),
        ({"Email": None}, "no_identifier"),
    ],
)
def test_bad_overrides_are_refused_with_pointers(
    overrides: dict[str, str | None], code: str
) -> None:
    with pytest.raises(MappingInvalid) as caught:
        map_headers(["Email", "Other"], catalog(), overrides)
    assert caught.value.errors[0].code == code
    assert caught.value.errors[0].pointer.startswith("/mapping")


def test_cells_are_checked_one_by_one() -> None:
    cat = catalog(SCORE)
    converter = RowConverter(map_headers(["email", "country", "score", "tags"], cat), cat)
    good = converter.convert(2, [" A@Example.COM ", "fr", "12,5", "vip|new"])
    assert isinstance(good, Prepared)
    assert good.core == {"email": "a@example.com", "country": "FR"}
    assert good.custom == {"score": 12.5}
    assert good.tags == ["vip", "new"]
    bad = converter.convert(3, ["nope", "ZZ", "many", ""])
    assert isinstance(bad, list)
    assert [(e.line, e.column) for e in bad] == [(3, "email"), (3, "country"), (3, "score")]
    assert converter.convert(4, ["", "", "", ""]) is None
    assert converter.convert(5, ["a@x.com", "FR"]) == [
        CellError(5, "", "The row has 2 cells; the header has 4.")
    ]
    extra = converter.convert(6, ["a@x.com", "FR", "", "", "surprise"])
    assert isinstance(extra, list)
    assert "5 cells" in extra[0].reason
    trailing = converter.convert(7, ["a@x.com", "FR", "", "", ""])
    assert isinstance(trailing, Prepared)
    missing = converter.convert(8, ["", "FR", "1", ""])
    assert isinstance(missing, list)
    assert "identify" in missing[0].reason


@pytest.mark.parametrize(
    "text",
    [
        "plain@example.com",
        "Mixed.Case+tag@Sub.Example.ORG",
        "o'brien@example.ie",
        "x@localhost",
        "x@host.test",
        "x@host.local",
        "a..b@example.com",
        ".a@example.com",
        "a@-example.com",
        "a@exa--mple.com",
        "a@xn--bcher-kva.example",
        "a@example.c0m",
        "a@example.123",
        "a@b.c",
        "a@example",
        "user@[127.0.0.1]",
        '"quoted local"@example.com',
        "ünï@example.com",
        "a@bücher.example",
        "a" * 65 + "@example.com",
        "a@" + "b" * 64 + ".com",
        "a@" + ".".join(["abcdefghij"] * 25) + ".com",
        "no-at-sign",
        "two@@example.com",
        "sp ace@example.com",
        "a@example.com.",
    ],
)
def test_fast_email_agrees_with_the_full_validator(text: str) -> None:
    try:
        expected: str | None = normalise_email(text)
    except InvalidValue:
        expected = None
    try:
        got: str | None = fast_email(text)
    except InvalidValue:
        got = None
    assert got == expected
