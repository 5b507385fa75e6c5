"""Campaign steps: each Mautic step type and how it becomes ours. Types not listed in
:data:`STEPS` have no equivalent."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from trellis.domains.portability.mautic.reading import (
    DNC_REASONS,
    POINTS_OPERATORS,
    Untranslatable,
    _dict,
    _ids,
    _input_name,
    _int,
    _strings,
    _text,
    _tokens,
    _truthy,
)
from trellis.domains.portability.mautic.segments import SegmentTranslator
from trellis.domains.portability.mautic.translator import _Event


def _email_send(
    t: SegmentTranslator, e: _Event, _: Mapping[int, _Event]
) -> tuple[str, dict[str, Any]]:
    value = e.props.get("email", e.record.data.get("channel_id"))
    email = t.ref("email", value, t.at(e, "email"))
    kind = _text(e.props.get("email_type")) or "marketing"
    if kind not in ("marketing", "transactional"):
        kind = "marketing"
    return "email.send", {"email_id": email, "kind": kind}


def _email_to_user(
    t: SegmentTranslator, e: _Event, _: Mapping[int, _Event]
) -> tuple[str, dict[str, Any]]:
    inner = _dict(e.props.get("useremail"))
    email = t.ref("email", inner.get("email", e.props.get("email")), t.at(e, "useremail/email"))
    addresses = [a for key in ("to", "cc", "bcc") for a in _strings(e.props.get(key)) if "@" in a]
    if e.props.get("user_id"):
        t.note(
            e.record,
            "/properties/user_id",
            "Users are not imported: the email goes to the owner and the listed addresses only.",
        )
    to_owner = _truthy(e.props.get("to_owner"))
    if not addresses and not to_owner:
        raise Untranslatable("It names only users, which are not imported.", "/properties/user_id")
    return "email.send_to_user", {"email_id": email, "to_owner": to_owner, "addresses": addresses}


def _change_points(
    t: SegmentTranslator, e: _Event, _: Mapping[int, _Event]
) -> tuple[str, dict[str, Any]]:
    if _int(e.props.get("group")):
        raise Untranslatable(
            "It changes a point group's score; point groups are not supported.", "/properties/group"
        )
    points = _int(e.props.get("points"))
    if points is None:
        raise Untranslatable("It names no number of points.", "/properties/points")
    return "contact.change_points", {"delta": points}


def _change_segments(
    t: SegmentTranslator, e: _Event, _: Mapping[int, _Event]
) -> tuple[str, dict[str, Any]]:
    out: dict[str, list[str | None]] = {}
    for key, ours in (("addToLists", "add"), ("removeFromLists", "remove")):
        ids = _ids(e.props.get(key))
        if ids is None:
            raise Untranslatable(f"{key} is not a list of segment ids.", f"/properties/{key}")
        out[ours] = [t.ref("segment", i, t.at(e, key)) for i in ids]
    return "contact.change_segments", out


def _update_fields(
    t: SegmentTranslator, e: _Event, _: Mapping[int, _Event]
) -> tuple[str, dict[str, Any]]:
    values: dict[str, Any] = {}
    for alias, value in e.props.items():
        if value in (None, "", []):
            continue  # Mautic leaves fields with an empty value untouched
        ours = t.use_field(str(alias))
        if ours is None:
            t.note(e.record, f"/properties/{alias}", f"The field {alias!r} cannot be set here.")
            continue
        values[ours] = value
    if not values:
        raise Untranslatable("It sets no field that exists here.", "/properties")
    return "contact.update_fields", {"values": values}


def _change_tags(
    t: SegmentTranslator, e: _Event, _: Mapping[int, _Event]
) -> tuple[str, dict[str, Any]]:
    add, remove = _strings(e.props.get("add_tags")), _strings(e.props.get("remove_tags"))
    if not add and not remove:
        raise Untranslatable("It changes no tag.", "/properties")
    return "contact.change_tags", {"add": add, "remove": remove}


def _channels(value: Any) -> list[str]:
    found = [c.lower() for c in _strings(value) if re.fullmatch(r"[a-z][a-z0-9_]{0,19}", c.lower())]
    return found or ["email"]


def _add_dnc(
    t: SegmentTranslator, e: _Event, _: Mapping[int, _Event]
) -> tuple[str, dict[str, Any]]:
    return "contact.add_dnc", {
        "channels": _channels(e.props.get("channels")),
        "reason": "manual",
        "comment": _text(e.props.get("reason"), 500),
    }


def _remove_dnc(
    t: SegmentTranslator, e: _Event, _: Mapping[int, _Event]
) -> tuple[str, dict[str, Any]]:
    return "contact.remove_dnc", {"channels": _channels(e.props.get("channels"))}


def _delete(t: SegmentTranslator, e: _Event, _: Mapping[int, _Event]) -> tuple[str, dict[str, Any]]:
    return "contact.delete", {}


def _campaign_list(t: SegmentTranslator, e: _Event, key: str) -> list[Any]:
    raw = e.props.get(key)
    items = raw if isinstance(raw, list) else ([] if raw in (None, "") else [raw])
    out: list[Any] = []
    for item in items:
        if item == "this" or _int(item) == e.record.data.get("campaign_id"):
            out.append("this")
        elif _int(item) in t.by_id["campaign"]:
            out.append(t.by_id["campaign"][_int(item)].uuid)  # type: ignore[index]
        else:
            t.note(
                e.record,
                f"/properties/{key}",
                f"Campaign {item!r} is not in the file; left out of the step.",
            )
    return out


def _change_campaigns(
    t: SegmentTranslator, e: _Event, _: Mapping[int, _Event]
) -> tuple[str, dict[str, Any]]:
    add, remove = _campaign_list(t, e, "addTo"), _campaign_list(t, e, "removeFrom")
    if not add and not remove:
        raise Untranslatable("None of its campaigns is in the file.", "/properties")
    return "campaign.change_campaigns", {"add": add, "remove": remove}


def _jump(
    t: SegmentTranslator, e: _Event, by_id: Mapping[int, _Event]
) -> tuple[str, dict[str, Any]]:
    target = by_id.get(_int(e.props.get("jumpToEvent")) or -1)
    if target is None:
        raise Untranslatable(
            "It jumps to a step that is not in the campaign.", "/properties/jumpToEvent"
        )
    return "campaign.jump_to_event", {"target": target.key}


def _webhook(
    t: SegmentTranslator, e: _Event, _: Mapping[int, _Event]
) -> tuple[str, dict[str, Any]]:
    url = _text(e.props.get("url")).strip()
    if not re.match(r"https?://", url):
        raise Untranslatable("It has no http(s) URL.", "/properties/url")
    method = _text(e.props.get("method") or "post").upper()
    if method not in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        method = "POST"

    def pairs(key: str) -> list[tuple[str, str]]:
        raw = e.props.get(key)
        if isinstance(raw, dict):
            raw = raw.get("list", raw)
        out = []
        for item in raw if isinstance(raw, list) else []:
            if isinstance(item, dict) and item.get("label"):
                out.append((_text(item["label"]), _tokens(_text(item.get("value")))))
        return out

    headers = [
        {"name": n, "value": v}
        for n, v in pairs("headers")
        if re.fullmatch(r"[A-Za-z0-9-]{1,76}", n) and "\n" not in v
    ]
    data = pairs("additional_data")
    json_body = any(h["name"].lower() == "content-type" and "json" in h["value"] for h in headers)
    body = ""
    if data and method == "GET":
        url += ("&" if "?" in url else "?") + _form_encoded(data)
    elif data and method != "DELETE":
        if json_body:
            # Tokens inside JSON strings are escaped by the webhook step when it renders.
            body = json.dumps(dict(data))
        else:
            body = _form_encoded(data)
            if not any(h["name"].lower() == "content-type" for h in headers):
                headers.append(
                    {"name": "Content-Type", "value": "application/x-www-form-urlencoded"}
                )
    timeout = _int(e.props.get("timeout")) or 10
    return "webhook.send", {
        "url": _tokens(url),
        "method": method,
        "headers": headers,
        "body": body,
        "timeout_s": max(1, min(30, timeout)),
    }


def _form_encoded(pairs: list[tuple[str, str]]) -> str:
    """key=value pairs, URL-encoded except the tokens (the webhook step encodes their values)."""
    from urllib.parse import quote

    def encode(text: str) -> str:
        parts = re.split(r"(\{contactfield=[^}]*\})", text)
        return "".join(p if p.startswith("{contactfield=") else quote(p, safe="") for p in parts)

    return "&".join(f"{encode(k)}={encode(v)}" for k, v in pairs)


def _stage(t: SegmentTranslator, e: _Event, _: Mapping[int, _Event]) -> tuple[str, dict[str, Any]]:
    stage = _int(e.props.get("stage"))
    if stage is None or stage not in t.by_id["stage"]:
        raise Untranslatable("Its stage is not in the file.", "/properties/stage")
    return "contact.change_stage", {"stage_id": t.by_id["stage"][stage].uuid}


def _parent_email(t: SegmentTranslator, e: _Event, by_id: Mapping[int, _Event]) -> str | None:
    parent = by_id.get(e.parent) if e.parent is not None else None
    if parent is not None and parent.type == "email.send":
        value = parent.props.get("email", parent.record.data.get("channel_id"))
        return t.ref("email", value, f"{parent.record.pointer}/properties/email")
    channel = e.record.data.get("channel_id")
    return t.ref("email", channel, f"{e.record.pointer}/channel_id") if channel else None


def _email_open(
    t: SegmentTranslator, e: _Event, by_id: Mapping[int, _Event]
) -> tuple[str, dict[str, Any]]:
    return "email.open", {"email_id": _parent_email(t, e, by_id)}


def _email_click(
    t: SegmentTranslator, e: _Event, by_id: Mapping[int, _Event]
) -> tuple[str, dict[str, Any]]:
    urls = e.props.get("urls")
    if isinstance(urls, dict):
        urls = urls.get("list")
    patterns = [u for u in _strings(urls) if len(u) <= 2000]
    return "email.click", {"email_id": _parent_email(t, e, by_id), "urls": patterns}


def _page_hit(
    t: SegmentTranslator, e: _Event, _: Mapping[int, _Event]
) -> tuple[str, dict[str, Any]]:
    ids = _ids(e.props.get("pages"))
    if ids is None:
        raise Untranslatable("pages is not a list of page ids.", "/properties/pages")
    pages = [t.ref("page", i, t.at(e, "pages")) for i in ids]
    referrer = _text(e.props.get("referer")).strip() or None
    return "page.hit", {
        "urls": _strings(e.props.get("url")),
        "referrer": referrer,
        "landing_pages": pages,
    }


def _device_hit(
    t: SegmentTranslator, e: _Event, _: Mapping[int, _Event]
) -> tuple[str, dict[str, Any]]:
    names = {
        "desktop": "desktop",
        "smartphone": "mobile",
        "mobile": "mobile",
        "tablet": "tablet",
        "phablet": "mobile",
    }
    devices = sorted({names[d] for d in _strings(e.props.get("device_type")) if d in names})
    if not devices:
        raise Untranslatable(
            "Only device types (desktop, mobile, tablet) are supported.", "/properties/device_type"
        )
    for key in ("device_brand", "device_os"):
        if _strings(e.props.get(key)):
            t.note(
                e.record,
                f"/properties/{key}",
                "Device brands and systems are not supported; only the device type is checked.",
            )
    return "page.device_hit", {"devices": devices, "urls": []}


def _form_submit(
    t: SegmentTranslator, e: _Event, _: Mapping[int, _Event]
) -> tuple[str, dict[str, Any]]:
    ids = _ids(e.props.get("forms"))
    if ids is None:
        raise Untranslatable("forms is not a list of form ids.", "/properties/forms")
    return "form.submit", {"forms": [t.ref("form", i, t.at(e, "forms")) for i in ids]}


def _asset_download(
    t: SegmentTranslator, e: _Event, _: Mapping[int, _Event]
) -> tuple[str, dict[str, Any]]:
    ids = _ids(e.props.get("assets"))
    if ids is None:
        raise Untranslatable("assets is not a list of asset ids.", "/properties/assets")
    return "asset.download", {"assets": [t.ref("asset", i, t.at(e, "assets")) for i in ids]}


def _field_value(
    t: SegmentTranslator, e: _Event, _: Mapping[int, _Event]
) -> tuple[str, dict[str, Any]]:
    field = _text(e.props.get("field"))
    alias = t.use_field(field) if field else None
    if alias is None:
        raise Untranslatable(f"The field {field!r} cannot be used here.", "/properties/field")
    try:
        condition = t.field_condition(
            alias, _text(e.props.get("operator")), e.props.get("value"), ""
        )
    except Untranslatable as exc:
        raise Untranslatable(
            exc.message, "/properties" + exc.where.replace("/properties/filter", "/value")
        ) from None
    return "contact.field_value", {
        "field": alias,
        "operator": condition["operator"],
        "value": condition.get("value"),
    }


def _has_tags(
    t: SegmentTranslator, e: _Event, _: Mapping[int, _Event]
) -> tuple[str, dict[str, Any]]:
    tags = _strings(e.props.get("tags"))
    if not tags:
        raise Untranslatable("It names no tag.", "/properties/tags")
    return "contact.tags", {"tags": tags, "match": "any"}


def _in_segments(
    t: SegmentTranslator, e: _Event, _: Mapping[int, _Event]
) -> tuple[str, dict[str, Any]]:
    ids = _ids(e.props.get("segments"))
    if not ids:
        raise Untranslatable("It names no segment.", "/properties/segments")
    return "contact.segments", {
        "segments": [t.ref("segment", i, t.at(e, "segments")) for i in ids],
        "member": True,
    }


def _in_stages(
    t: SegmentTranslator, e: _Event, _: Mapping[int, _Event]
) -> tuple[str, dict[str, Any]]:
    ids = _ids(e.props.get("stages")) or []
    if not ids or any(i not in t.by_id["stage"] for i in ids):
        raise Untranslatable("Its stages are not in the file.", "/properties/stages")
    return "contact.stage", {"stages": [t.by_id["stage"][i].uuid for i in ids]}


def _points(t: SegmentTranslator, e: _Event, _: Mapping[int, _Event]) -> tuple[str, dict[str, Any]]:
    if _int(e.props.get("group")):
        raise Untranslatable(
            "It compares a point group's score; point groups are not supported.",
            "/properties/group",
        )
    operator = POINTS_OPERATORS.get(_text(e.props.get("operator")))
    score = _int(e.props.get("score"))
    if operator is None or score is None:
        raise Untranslatable(
            "Only comparisons of points with a number are supported.", "/properties/operator"
        )
    return "contact.points", {"operator": operator, "value": score}


def _dnc(t: SegmentTranslator, e: _Event, _: Mapping[int, _Event]) -> tuple[str, dict[str, Any]]:
    channels = _channels(e.props.get("channels"))
    raw_reason = e.props.get("reason")
    reason = DNC_REASONS.get(_int(raw_reason) or 0) or (
        _text(raw_reason) if _text(raw_reason) in ("unsubscribed", "bounced", "manual") else None
    )
    if len(channels) == 1:
        return "contact.dnc", {"channel": channels[0], "reason": reason}
    conditions = []
    for channel in channels:
        condition: dict[str, Any] = {"type": "dnc", "field": channel, "operator": "on"}
        if reason:
            condition["value"] = [reason]
        conditions.append(condition)
    return "condition.group", {"filters": {"match": "any", "conditions": conditions}}


def _campaigns(
    t: SegmentTranslator, e: _Event, _: Mapping[int, _Event]
) -> tuple[str, dict[str, Any]]:
    if _truthy(e.props.get("dataAddedLimit")):
        raise Untranslatable(
            "A limit on the date the contact joined is not supported.", "/properties/dataAddedLimit"
        )
    ids = _ids(e.props.get("campaigns")) or []
    if not ids or any(i not in t.by_id["campaign"] for i in ids):
        raise Untranslatable("Its campaigns are not in the file.", "/properties/campaigns")
    return "contact.campaigns", {"campaigns": [t.by_id["campaign"][i].uuid for i in ids]}


def _valid_email(
    t: SegmentTranslator, e: _Event, _: Mapping[int, _Event]
) -> tuple[str, dict[str, Any]]:
    return "contact.valid_email", {}


FORM_VALUE_OPERATORS = {
    "=": "=",
    "!=": "!=",
    "like": "contains",
    "contains": "contains",
    "startsWith": "starts_with",
    "endsWith": "ends_with",
    "empty": "empty",
    "!empty": "not_empty",
}


def _form_value(
    t: SegmentTranslator, e: _Event, _: Mapping[int, _Event]
) -> tuple[str, dict[str, Any]]:
    form = t.ref("form", e.props.get("form"), t.at(e, "form"))
    operator = FORM_VALUE_OPERATORS.get(_text(e.props.get("operator")))
    if operator is None or (operator == "contains" and "%" in _text(e.props.get("value"))):
        raise Untranslatable(
            f"The operator {e.props.get('operator')!r} is not supported here.",
            "/properties/operator",
        )
    value = None if operator in ("empty", "not_empty") else _text(e.props.get("value"), 1000)
    return "form.submitted_value", {
        "form_id": form,
        "field": _input_name(e.props.get("field")),
        "operator": operator,
        "value": value,
    }


def _page_visited(
    t: SegmentTranslator, e: _Event, _: Mapping[int, _Event]
) -> tuple[str, dict[str, Any]]:
    url = _text(e.props.get("page_url")).strip()
    if not url:
        raise Untranslatable(
            "Only visits by URL are supported (a Mautic landing page's "
            "address is not known before import).",
            "/properties/page",
        )
    for key in ("startDate", "endDate", "accumulative_time"):
        if e.props.get(key):
            raise Untranslatable(
                "Date ranges and time on page are not supported.", f"/properties/{key}"
            )
    if _int(e.props.get("page")):
        t.note(e.record, "/properties/page", "The landing page is not checked; the URL is.")
    return "page.visited", {"url": url, "within_days": None}


Handler = Callable[[SegmentTranslator, _Event, Mapping[int, _Event]], tuple[str, dict[str, Any]]]

# Mautic step types -> how each becomes ours. Types not listed have no equivalent.
STEPS: dict[str, Handler] = {
    "email.send": _email_send,
    "email.send.to.user": _email_to_user,
    "lead.changepoints": _change_points,
    "lead.changelist": _change_segments,
    "lead.updatelead": _update_fields,
    "lead.changetags": _change_tags,
    "lead.adddnc": _add_dnc,
    "lead.removednc": _remove_dnc,
    "lead.deletecontact": _delete,
    "campaign.addremovelead": _change_campaigns,
    "campaign.jump_to_event": _jump,
    "campaign.sendwebhook": _webhook,
    "stage.change": _stage,
    "email.open": _email_open,
    "email.click": _email_click,
    "page.pagehit": _page_hit,
    "page.devicehit": _device_hit,
    "form.submit": _form_submit,
    "asset.download": _asset_download,
    "lead.field_value": _field_value,
    "lead.tags": _has_tags,
    "lead.segments": _in_segments,
    "lead.stages": _in_stages,
    "lead.points": _points,
    "lead.dnc": _dnc,
    "lead.campaigns": _campaigns,
    "email.validate.address": _valid_email,
    "form.field_value": _form_value,
    "lead.pageHit": _page_visited,
}


def normaliser(
    references: Callable[[str], dict[str, str] | None],
    models: Callable[[str], type[BaseModel] | None],
) -> Callable[[str, dict[str, Any]], dict[str, Any]]:
    """A step's config as the campaign service stores it (every default written out), with the
    uuids of referenced entities kept: they stand in as numbers while the type's settings model
    checks the config."""

    def normalise(type_: str, config: dict[str, Any]) -> dict[str, Any]:
        model = models(type_)
        if model is None:
            return config
        stand_in: dict[int, str] = {}
        trial = dict(config)
        for key in references(type_) or {}:
            value = trial.get(key)
            if isinstance(value, str) and value != "this":
                stand_in[len(stand_in) + 1] = value
                trial[key] = len(stand_in)
            elif isinstance(value, list):
                swapped = []
                for item in value:
                    if isinstance(item, str) and item != "this":
                        stand_in[len(stand_in) + 1] = item
                        swapped.append(len(stand_in))
                    else:
                        swapped.append(item)
                trial[key] = swapped
        try:
            dumped = model.model_validate(trial).model_dump(mode="json")
        except ValidationError:
            # The service reports it, at its pointer, when the manifest is checked.
            return config
        for key in references(type_) or {}:
            value = dumped.get(key)
            if isinstance(value, int) and value in stand_in:
                dumped[key] = stand_in[value]
            elif isinstance(value, list):
                dumped[key] = [
                    stand_in.get(v, v) if isinstance(v, int) and not isinstance(v, bool) else v
                    for v in value
                ]
        return dumped

    return normalise
