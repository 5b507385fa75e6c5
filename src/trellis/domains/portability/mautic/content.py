"""Emails, landing pages, assets and forms (with their fields and actions) translated."""

from __future__ import annotations

import re
from typing import Any

from trellis.domains.portability.mautic.reading import (
    Untranslatable,
    _dict,
    _form_alias,
    _ids,
    _input_name,
    _int,
    _language,
    _slug,
    _strings,
    _strip_tags,
    _text,
    _tokens,
    _truthy,
)
from trellis.domains.portability.mautic.translator import TranslatorCore, _Record


class ContentTranslator(TranslatorCore):
    def email(self, record: _Record) -> None:
        data = record.data
        body = _text(data.get("custom_html"))
        if not body.strip():
            self.error(
                f"{record.pointer}/custom_html",
                "The email has no HTML (custom_html): an email built only from theme slots "
                "cannot be translated.",
                "missing",
            )
            return
        body = self.dynamic_content(record, body)
        text = _text(data.get("plain_text")).strip()
        utm = _dict(data.get("utm_tags"))
        headers = _dict(data.get("headers"))
        clean_headers = []
        for name, value in headers.items():
            if re.fullmatch(r"[A-Za-z0-9-]{1,76}", str(name)) and "\n" not in _text(value):
                clean_headers.append({"name": str(name), "value": _text(value, 998)})
            else:
                self.note(record, "/headers", f"The header {name!r} is not valid here; dropped.")
        if data.get("bcc_address"):
            self.note(record, "/bcc_address", "A BCC address on every email is not supported.")
        for key in ("unsubscribeform_id", "preference_center_id"):
            if data.get(key):
                self.note(
                    record,
                    f"/{key}",
                    "A custom unsubscribe form or preference centre is not supported; the "
                    "instance's own pages are used.",
                )
        email_type = _text(data.get("email_type")) or "template"
        if email_type == "list":
            self.note(
                record,
                "/email_type",
                "A segment (list) email becomes a broadcast email; its segments and schedule "
                "are not carried over (set them on a broadcast).",
            )
        self.add(
            "email",
            record,
            record.name,
            {
                "name": record.name,
                "kind": "broadcast" if email_type == "list" else "template",
                "subject": _tokens(_text(data.get("subject"), 998)) or record.name,
                "preheader": _text(data.get("preheader"), 500),
                "from_name": _text(data.get("from_name"), 200),
                "from_address": _text(data.get("from_address"), 320),
                "reply_to": _text(data.get("reply_to_address"), 320),
                "headers": clean_headers,
                "body_format": "html",
                "body": _tokens(body),
                "text_body": _tokens(text) if text else None,
                "language": _language(data.get("lang") or data.get("language")),
                "utm": {
                    "source": _text(utm.get("utmSource"), 200),
                    "medium": _text(utm.get("utmMedium"), 200),
                    "campaign": _text(utm.get("utmCampaign"), 200),
                    "content": _text(utm.get("utmContent"), 200),
                },
                "is_published": _truthy(data.get("is_published", True)),
                "projects": [],
            },
        )

    def dynamic_content(self, record: _Record, body: str) -> str:
        """Mautic's dynamic-content slots: the default content stays, the variants go."""
        slots = record.data.get("dynamic_content")
        defaults: dict[str, str] = {}
        if isinstance(slots, list):
            for slot in slots:
                if isinstance(slot, dict) and slot.get("tokenName"):
                    defaults[_text(slot["tokenName"])] = _text(slot.get("content"))
        found = re.findall(r'\{dynamiccontent="([^"]*)"\}', body)
        for token in found:
            self.note(
                record,
                "/custom_html",
                f"Dynamic content {token!r}: its variants by contact are not supported; the "
                "default content is kept.",
            )
            body = body.replace(f'{{dynamiccontent="{token}"}}', defaults.get(token, ""))
        return body

    def page(self, record: _Record) -> None:
        data = record.data
        body = _text(data.get("custom_html"))
        if not body.strip():
            self.note(record, "/custom_html", "The page has no HTML (theme-built); it is empty.")
        for key in ("head_script", "footer_script"):
            if data.get(key):
                self.note(record, f"/{key}", "Page scripts are not carried over.")
        title = _text(data.get("title"), 200) or record.name
        self.add(
            "page",
            record,
            title,
            {
                "name": title,
                "title": title,
                "slug": _slug(data.get("alias"), _slug(title, "") or ""),
                "language": _language(data.get("lang")),
                "meta_description": _text(data.get("meta_description"), 500),
                "html": _tokens(body),
                "css": "",
                "is_published": _truthy(data.get("is_published", True)),
                "projects": [],
            },
        )

    def asset(self, record: _Record) -> None:
        import hashlib

        data = record.data
        if _text(data.get("storage_location") or "local") != "local":
            self.error(
                f"{record.pointer}/storage_location",
                "Remote assets cannot be imported: the file is not in the export.",
                "unsupported",
            )
            return
        stored = _text(data.get("path")) or _text(data.get("original_file_name"))
        candidates = [stored, _text(data.get("original_file_name"))]
        content = next((self.asset_files[c] for c in candidates if c in self.asset_files), None)
        if content is None:
            self.error(
                f"{record.pointer}/path",
                f"The file assets/{stored} is not in the archive.",
                "missing_file",
            )
            return
        title = _text(data.get("title"), 200) or record.name
        self.files[record.uuid] = content
        self.add(
            "asset",
            record,
            title,
            {
                "name": title,
                "description": _strip_tags(data.get("description"), 5000),
                "slug": _slug(data.get("alias"), _slug(title, "") or ""),
                "is_published": _truthy(data.get("is_published", True)),
                "gate_form_id": None,
                "projects": [],
                "filename": (_text(data.get("original_file_name")) or stored)[:255],
                "file": record.uuid,
                "sha256": hashlib.sha256(content).hexdigest(),
            },
        )

    # -- forms -------------------------------------------------------------------------

    FORM_FIELD_TYPES = {
        "text": "text",
        "email": "email",
        "textarea": "textarea",
        "number": "number",
        "date": "date",
        "select": "select",
        "radiogrp": "radio",
        "checkboxgrp": "checkbox_group",
        "hidden": "hidden",
        "tel": "text",
        "url": "text",
        "country": "text",
    }

    def form(self, record: _Record) -> None:
        data = record.data
        fields = sorted(
            (
                r
                for r in self.records["form_field"]
                if _int(r.data.get("form") or r.data.get("form_id")) == record.id
            ),
            key=lambda r: (_int(r.data.get("field_order") or r.data.get("order")) or 0, r.id),
        )
        docs: list[dict[str, Any]] = []
        names: set[str] = set()
        for item in fields:
            doc = self.form_field(item, names)
            if doc is not None:
                docs.append(doc)
        actions: list[dict[str, Any]] = []
        for item in sorted(
            (
                r
                for r in self.records["form_action"]
                if _int(r.data.get("form") or r.data.get("form_id")) == record.id
            ),
            key=lambda r: (_int(r.data.get("action_order") or r.data.get("order")) or 0, r.id),
        ):
            try:
                actions.extend(self.form_action(item))
            except Untranslatable as exc:
                self.note(item, exc.where, exc.message)
        post = _text(data.get("post_action")) or "return"
        target = _text(data.get("post_action_property"))
        success: dict[str, Any] = {"kind": "message", "message": "Thank you!", "redirect_url": None}
        if post == "redirect" and re.match(r"https?://", target):
            success = {"kind": "redirect", "message": "Thank you!", "redirect_url": target}
        elif post == "message" and target:
            success["message"] = target[:5000]
        elif post not in ("return", "message"):
            self.note(record, "/post_action", f"The post action {post!r} is not supported.")
        self.add(
            "form",
            record,
            record.name,
            {
                "name": record.name,
                "description": _strip_tags(data.get("description"), 5000),
                "alias": _form_alias(data.get("alias"), record.name),
                "projects": [],
                "is_published": _truthy(data.get("is_published", True)),
                "identify_by": "email",
                "fields": docs,
                "actions": actions,
                "success": success,
                "allowed_origins": [],
            },
        )

    def form_field(self, item: _Record, names: set[str]) -> dict[str, Any] | None:
        data = item.data
        mautic_type = _text(data.get("type"))
        if mautic_type == "button":
            return None  # every form here has its submit button
        type_ = self.FORM_FIELD_TYPES.get(mautic_type)
        if type_ is None:
            self.note(item, "/type", f"The form field type {mautic_type!r} is not supported.")
            return None
        name = _input_name(data.get("alias") or data.get("label"))
        while name in names:
            name = (name[:56] + f"_{len(names)}")[:60]
        names.add(name)
        props = self.props(item)
        options = _options(props.get("list") or props.get("optionlist"))
        if type_ in ("select", "radio", "checkbox_group") and not options:
            type_ = "text"
            self.note(item, "/properties", "A choice field without options becomes a text field.")
        contact_field = self.form_field_target(item)
        if contact_field and type_ == "email" and contact_field != "email":
            type_ = "text"
        return {
            "key": item.uuid,
            "label": _text(data.get("label"), 500),
            "type": type_,
            "name": name,
            "contact_field": contact_field,
            "required": _truthy(data.get("is_required")),
            "default": _text(data.get("default_value"), 200) or None,
            "placeholder": _text(props.get("placeholder"), 200),
            "help": _text(data.get("help_message"), 1000),
            "options": options if type_ in ("select", "radio", "checkbox_group") else [],
            "validation": {
                "min_length": None,
                "max_length": None,
                "min": None,
                "max": None,
                "pattern": None,
            },
            "consent_text": None,
            "consent_purpose": None,
        }

    def form_field_target(self, item: _Record) -> str | None:
        """Our alias of the contact field a Mautic form field fills, if we have one."""
        mapped = _text(item.data.get("mapped_field") or item.data.get("lead_field"))
        if not mapped:
            return None
        if _text(item.data.get("mapped_object") or "contact") == "company":
            self.note(item, "/mapped_field", "Company fields are not filled by forms here.")
            return None
        alias = self.use_field(mapped, None)
        if alias is None:
            self.note(item, "/mapped_field", f"The contact field {mapped!r} is unknown.")
        return alias

    def form_action(self, item: _Record) -> list[dict[str, Any]]:
        type_ = _text(item.data.get("type"))
        props = self.props(item)
        at = item.pointer + "/properties"
        if type_ == "lead.changelist":
            return self.segment_actions(props, at)
        if type_ in ("lead.changetags", "lead.addtags"):
            add, remove = _strings(props.get("add_tags")), _strings(props.get("remove_tags"))
            if not add and not remove:
                raise Untranslatable("The action changes no tag.", "/properties")
            return [{"type": "tags.change", "config": {"add": add, "remove": remove}}]
        if type_ == "lead.pointschange":
            points = _int(props.get("points"))
            operator = _text(props.get("operator") or "plus")
            if points is None or operator not in ("plus", "minus"):
                raise Untranslatable(
                    "Only adding or subtracting points is supported (not multiplying or dividing).",
                    "/properties/operator",
                )
            return [
                {
                    "type": "points.change",
                    "config": {"delta": points if operator == "plus" else -points},
                }
            ]
        if type_ == "email.send.lead":
            email = self.ref("email", props.get("email"), f"{at}/email")
            return [
                {
                    "type": "email.send_to_contact",
                    "config": {"email_id": email, "kind": "transactional"},
                }
            ]
        if type_ == "email.send.user":
            inner = _dict(props.get("useremail"))
            email = self.ref(
                "email", inner.get("email", props.get("email")), f"{at}/useremail/email"
            )
            if props.get("user_id"):
                self.note(
                    item,
                    "/properties/user_id",
                    "Users are not imported: the email goes "
                    "to the listed addresses and the owner only.",
                )
            addresses = [a for a in _strings(props.get("to")) if "@" in a]
            return [
                {
                    "type": "email.send_to_users",
                    "config": {
                        "email_id": email,
                        "user_ids": [],
                        "addresses": addresses,
                        "to_owner": _truthy(props.get("to_owner")),
                    },
                }
            ]
        if type_ in ("campaign.addlead", "campaign.addremovelead"):
            return self.campaign_action(item, props)
        raise Untranslatable(f"The form action {type_!r} is not supported.", "/type")

    def segment_actions(self, props: dict[str, Any], at: str) -> list[dict[str, Any]]:
        out = []
        for key, ours in (("addToLists", "segments.add"), ("removeFromLists", "segments.remove")):
            ids = _ids(props.get(key))
            if ids is None:
                raise Untranslatable(f"{key} is not a list of segment ids.", f"/properties/{key}")
            refs = [self.ref("segment", i, f"{at}/{key}") for i in ids]
            if refs:
                out.append({"type": ours, "config": {"segments": refs}})
        if not out:
            raise Untranslatable("The action changes no segment.", "/properties")
        return out

    def campaign_action(self, item: _Record, props: dict[str, Any]) -> list[dict[str, Any]]:
        ids = _ids(props.get("addToCampaigns") or props.get("addTo"))
        known = [self.by_id["campaign"][i].uuid for i in ids or [] if i in self.by_id["campaign"]]
        if props.get("removeFromCampaigns") or props.get("removeFrom"):
            self.note(
                item, "/properties", "Removing from campaigns on submission is not supported."
            )
        if not known:
            raise Untranslatable("The campaigns it adds to are not in the file.", "/properties")
        return [{"type": "campaigns.add", "config": {"campaigns": known}}]


def _options(raw_list: Any) -> list[dict[str, str]]:
    """A choice field's options: Mautic keeps them as a list (of objects or strings), an
    object holding that list, or one string separated by ``|``."""
    if isinstance(raw_list, dict):
        raw_list = raw_list.get("list")
    options: list[dict[str, str]] = []
    if isinstance(raw_list, list):
        for option in raw_list:
            if isinstance(option, dict):
                value = _text(option.get("value") or option.get("label"), 200)
                label = _text(option.get("label") or value, 200)
            else:
                value = label = _text(option, 200)
            if value:
                options.append({"label": label, "value": value})
    elif isinstance(raw_list, str) and raw_list.strip():
        for line in raw_list.split("|"):
            if line.strip():
                options.append({"label": line.strip()[:200], "value": line.strip()[:200]})
    return options
