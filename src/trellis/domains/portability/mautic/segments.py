"""Segments and their filters translated (also the conditions campaign steps test)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, ClassVar

from trellis.domains.portability.mautic.content import ContentTranslator
from trellis.domains.portability.mautic.reading import (
    FIELD_TYPES,
    OPERATORS,
    OUR_CORE,
    POINTS_OPERATORS,
    Untranslatable,
    _dict,
    _ids,
    _int,
    _segment_alias,
    _strings,
    _strip_tags,
    _text,
    _truthy,
)
from trellis.domains.portability.mautic.translator import _Record

# Mautic filters with no equivalent here.
UNSUPPORTED_FILTERS = frozenset(
    {
        "owner_id",
        "stage",
        "globalcategory",
        "lead_email_sent",
        "page_id",
        "hit_url",
        "lead_asset_download",
        "campaign",
        "device_type",
    }
)


class SegmentTranslator(ContentTranslator):
    def segment(self, record: _Record) -> None:
        data = record.data
        ok, raw = self.decoded(record, "filters", "a list of filters")
        if not ok:
            return
        if isinstance(raw, dict):
            raw = list(raw.values())
        if raw is None:
            raw = []
        if not isinstance(raw, list):
            self.error(f"{record.pointer}/filters", "Expected a list of filters.", "invalid_type")
            return
        groups: list[list[dict[str, Any]]] = [[]]
        for index, item in enumerate(raw):
            at = f"/filters/{index}"
            if not isinstance(item, dict):
                self.error(record.pointer + at, "Expected a filter object.", "invalid_type")
                continue
            if index and _text(item.get("glue")).lower() == "or":
                groups.append([])
            try:
                groups[-1].append(self.filter(record, item, at))
            except Untranslatable as exc:
                self.note(
                    record,
                    at + exc.where,
                    exc.message + " The condition was left out: the segment may match more "
                    "contacts than in Mautic; review it before publishing.",
                )
        groups = [g for g in groups if g]
        if len(groups) <= 1:
            filters = {"match": "all", "conditions": groups[0] if groups else []}
        else:
            filters = {
                "match": "any",
                "conditions": [
                    g[0] if len(g) == 1 else {"match": "all", "conditions": g} for g in groups
                ],
            }
        self.add(
            "segment",
            record,
            record.name,
            {
                "name": record.name,
                "alias": _segment_alias(data.get("alias")),
                "description": _strip_tags(data.get("description"), 5000),
                "is_public": _truthy(data.get("is_global", True)),
                "is_published": _truthy(data.get("is_published", True)),
                "filters": filters,
                "projects": [],
            },
        )

    def filter(self, record: _Record, item: dict[str, Any], at: str) -> dict[str, Any]:
        field = _text(item.get("field"))
        operator = _text(item.get("operator"))
        kind = _text(item.get("type"))
        props = _dict(item.get("properties"))
        value = props.get("filter", item.get("filter"))
        obj = _text(item.get("object") or "lead")
        if obj == "company":
            raise Untranslatable(f"Company field filters ({field!r}) are not supported.", "/field")
        special = self.special_filters.get(field)
        if special is not None:
            return special(self, f"{record.pointer}{at}", field, operator, value)
        if field in UNSUPPORTED_FILTERS:
            raise Untranslatable(f"The filter on {field!r} is not supported.", "/field")
        alias = self.use_field(field, kind)
        if alias is None:
            raise Untranslatable(f"The field {field!r} cannot be used here.", "/field")
        return self.field_condition(alias, operator, value, kind)

    def _in_filter(
        self, where: str, kind: str, type_: str, operator: str, value: Any
    ) -> dict[str, Any]:
        ids = _ids(value)
        op = {"in": "in", "!in": "not_in"}.get(operator)
        if ids is None or op is None:
            raise Untranslatable(f"Only 'in' / 'not in' {kind} filters are supported.", "/operator")
        refs = [self.ref(kind, i, f"{where}/properties/filter") for i in ids]
        return {"type": type_, "operator": op, "value": refs}

    def _segment_filter(self, where: str, field: str, operator: str, value: Any) -> dict[str, Any]:
        return self._in_filter(where, "segment", "segment", operator, value)

    def _email_filter(self, where: str, field: str, operator: str, value: Any) -> dict[str, Any]:
        return self._in_filter(where, "email", "email_opened", operator, value)

    def _tags_filter(self, where: str, field: str, operator: str, value: Any) -> dict[str, Any]:
        names = [v for v in _strings(value) if not v.isdigit()]
        op = {"in": "has_any", "!in": "has_none"}.get(operator)
        if op is None or not names or len(names) != len(_strings(value)):
            raise Untranslatable(
                "Tag filters name tags by their Mautic ids, which the export does not carry.",
                "/properties/filter",
            )
        return {"type": "tags", "operator": op, "value": names}

    def _dnc_filter(self, where: str, field: str, operator: str, value: Any) -> dict[str, Any]:
        reason = {"dnc_bounced": "bounced", "dnc_unsubscribed": "unsubscribed"}.get(field, "manual")
        on = _truthy(value)
        if operator == "!=":
            on = not on
        elif operator != "=":
            raise Untranslatable(f"The operator {operator!r} is not supported here.", "/operator")
        return {
            "type": "dnc",
            "field": "email",
            "operator": "on" if on else "not_on",
            "value": [reason],
        }

    def _points_filter(self, where: str, field: str, operator: str, value: Any) -> dict[str, Any]:
        op = POINTS_OPERATORS.get(operator)
        number = _int(value)
        if op is None or number is None:
            raise Untranslatable("Only comparisons of points with a number are supported.", "")
        return {"type": "points", "operator": op, "value": number}

    def _date_filter(self, where: str, field: str, operator: str, value: Any) -> dict[str, Any]:
        op = OPERATORS.get(operator)
        if op not in ("=", "!=", ">", ">=", "<", "<=", "empty", "not_empty"):
            raise Untranslatable(f"The operator {operator!r} is not supported here.", "/operator")
        out: dict[str, Any] = {
            "type": "created" if field == "date_added" else "last_active",
            "operator": op,
        }
        if op not in ("empty", "not_empty"):
            out["value"] = self.date_value(value)
        return out

    # Mautic filters on something other than a contact field, by the field's name.
    special_filters: ClassVar[dict[str, Callable[..., dict[str, Any]]]] = {
        "leadlist": _segment_filter,
        "tags": _tags_filter,
        "dnc_bounced": _dnc_filter,
        "dnc_unsubscribed": _dnc_filter,
        "dnc_manual_email": _dnc_filter,
        "points": _points_filter,
        "lead_email_received": _email_filter,
        "lead_email_read": _email_filter,
        "date_added": _date_filter,
        "last_active": _date_filter,
    }

    def date_value(self, value: Any) -> str:
        text = " ".join(_text(value).strip().lower().split())
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return text
        if re.fullmatch(
            r"today|yesterday|tomorrow|(this|last|next) (week|month|year)|[+-]\s*\d{1,4}\s*"
            r"(day|week|month|year)s?",
            text,
        ):
            return text
        raise Untranslatable(
            f"The date {value!r} is not a date or relative date here.", "/properties/filter"
        )

    def field_condition(
        self, alias: str, operator: str, value: Any, mautic_type: str
    ) -> dict[str, Any]:
        type_ = "field" if alias in OUR_CORE else "custom_field"
        field_type = FIELD_TYPES.get(mautic_type, "text") if type_ == "custom_field" else None
        if type_ == "custom_field":
            field_type = self.fields.get(alias, (field_type, ""))[0]
        text_value = _text(value)
        if operator in ("like", "!like"):
            if "%" in text_value:
                if operator == "!like":
                    raise Untranslatable("'not like' with a pattern is not supported.", "/operator")
                return {"type": type_, "field": alias, "operator": "like", "value": text_value}
            operator = "contains" if operator == "like" else "!contains"
        if operator == "!contains":
            return {"type": type_, "field": alias, "operator": "not_contains", "value": text_value}
        if operator == "date" or (
            field_type in ("date", "datetime") and text_value in ("birthday", "anniversary")
        ):
            if text_value in ("birthday", "anniversary"):
                return {"type": type_, "field": alias, "operator": "anniversary"}
            return {"type": type_, "field": alias, "operator": "=", "value": self.date_value(value)}
        op = OPERATORS.get(operator)
        if op is None:
            raise Untranslatable(f"The operator {operator!r} is not supported here.", "/operator")
        if alias == "country" and op not in ("empty", "not_empty"):
            codes = _strings(value) if op in ("in", "not_in") else [text_value]
            if not all(re.fullmatch(r"[A-Z]{2}", c) for c in codes):
                raise Untranslatable(
                    "Countries are ISO codes here; Mautic's country names are not translated.",
                    "/properties/filter",
                )
        out: dict[str, Any] = {"type": type_, "field": alias, "operator": op}
        if op in ("empty", "not_empty"):
            return out
        if op in ("in", "not_in"):
            out["value"] = _strings(value)
        elif op == "between":
            pair = value if isinstance(value, list) else _strings(value)
            if len(pair) != 2:
                raise Untranslatable("'between' needs two values.", "/properties/filter")
            out["value"] = [self.typed(v, field_type) for v in pair]
        else:
            out["value"] = self.typed(value, field_type)
        return out

    def typed(self, value: Any, field_type: str | None) -> Any:
        if field_type == "number":
            text = _text(value).strip()
            try:
                number = float(text)
            except ValueError:
                raise Untranslatable(f"{value!r} is not a number.", "/properties/filter") from None
            return int(number) if number.is_integer() else number
        if field_type == "boolean":
            return _truthy(value)
        if field_type in ("date", "datetime"):
            return self.date_value(value)
        return _text(value)
