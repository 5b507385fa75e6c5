"""Campaigns translated: their sources, the canvas of steps, timings; and the order the whole
export is translated in."""

from __future__ import annotations

import uuid as uuid_module
from collections.abc import Iterable, Mapping
from typing import Any, NoReturn

from trellis.domains.campaigns.schemas import TimingDoc
from trellis.domains.portability.mautic.reading import (
    _NAMESPACE,
    REACTIVATION,
    RECORD_KEYS,
    TIMING_UNITS,
    Untranslatable,
    _hour,
    _int,
    _strip_tags,
    _text,
    _truthy,
    _when,
)
from trellis.domains.portability.mautic.segments import SegmentTranslator
from trellis.domains.portability.mautic.steps import STEPS
from trellis.domains.portability.mautic.translator import _Event, _Record
from trellis.errors import FieldError, ValidationFailed


class MauticTranslator(SegmentTranslator):
    def run(self) -> None:
        self.read_records()
        self.fail_if_errors()
        self.by_alias = {
            _text(r.data.get("alias")).lower(): r
            for r in self.records["lead_field"]
            if _text(r.data.get("object") or "lead") == "lead"
        }
        for record in self.records["stage"]:
            self.add(
                "stage",
                record,
                record.name,
                {
                    "name": record.name,
                    "description": _strip_tags(record.data.get("description"), 2000),
                    "position": None,
                },
            )
        for record in self.records["email"]:
            self.email(record)
        for record in self.records["page"]:
            self.page(record)
        for record in self.records["form"]:
            self.form(record)
        for record in self.records["asset"]:
            self.asset(record)
        for record in self.records["segment"]:
            self.segment(record)
        self.fail_if_errors()
        sources = self.sources()
        for record in self.records["campaign"]:
            self.campaign(record, sources.get(record.id, []))
        self.fail_if_errors()
        for alias, (type_, label) in sorted(self.fields.items()):
            holder = self.by_alias.get(alias) or _Record(
                "lead_field",
                0,
                "",
                {},
                0,
                str(uuid_module.uuid5(_NAMESPACE, f"mautic:lead_field:{alias}")),
            )
            self.add(
                "custom_field",
                holder,
                alias,
                {
                    "object": "contact",
                    "alias": alias,
                    "label": label,
                    "type": type_,
                    "group": "custom",
                    "default_value": None,
                    "required": False,
                    "is_identifier": False,
                    # Mautic's own default for a lead field (is_publicly_updatable).
                    "publicly_updatable": False,
                    "options": [],
                    "position": 0,
                },
            )

    def sources(self) -> dict[int, list[tuple[str, str]]]:
        """Segment and form sources by Mautic campaign id, from the dependencies section and
        from the campaign records' own lists."""
        found: dict[int, list[tuple[str, str]]] = {}

        def add(campaign: int | None, kind: str, value: Any, pointer: str) -> None:
            if campaign is None or campaign not in self.by_id["campaign"]:
                return
            uuid = self.ref(kind, value, pointer)
            if uuid and (kind, uuid) not in found.setdefault(campaign, []):
                found[campaign].append((kind, uuid))

        deps = self.root.get("dependencies")
        pointer = f"{self.base}/dependencies"
        groups: Iterable[tuple[str, Any]] = []
        if isinstance(deps, dict):
            groups = [(f"{pointer}", deps)]
        elif isinstance(deps, list):
            groups = [(f"{pointer}/{i}", g) for i, g in enumerate(deps)]
        elif deps is not None:
            self.error(pointer, "Expected a list of dependency groups.", "invalid_type")
        for at, group in groups:
            if not isinstance(group, dict):
                self.error(at, "Expected a dependency group (an object).", "invalid_type")
                continue
            for name, items in group.items():
                if not isinstance(items, list):
                    self.error(f"{at}/{name}", "Expected a list of dependencies.", "invalid_type")
                    continue
                for index, dep in enumerate(items):
                    where = f"{at}/{name}/{index}"
                    if not isinstance(dep, dict):
                        self.error(where, "Expected a dependency (an object).", "invalid_type")
                        continue
                    campaign = _int(dep.get("campaign"))
                    if "campaign_event" in dep or "form_field" in dep or "form_action" in dep:
                        continue
                    for key in RECORD_KEYS["segment"]:
                        if key in dep:
                            add(campaign, "segment", dep[key], f"{where}/{key}")
                    for key in RECORD_KEYS["form"]:
                        if key in dep:
                            add(campaign, "form", dep[key], f"{where}/{key}")
        for record in self.records["campaign"]:
            for key, kind in (("lists", "segment"), ("forms", "form")):
                value = record.data.get(key)
                if isinstance(value, list):
                    for index, item in enumerate(value):
                        add(record.id, kind, item, f"{record.pointer}/{key}/{index}")
        return found

    def campaign(self, record: _Record, sources: list[tuple[str, str]]) -> None:
        """One campaign: its steps read, placed under their parents, translated; the steps
        that cannot be translated left out or, with steps below them, the file refused."""
        data = record.data
        ok, canvas = self.decoded(record, "canvas_settings", "an object (or its JSON)")
        if not ok:
            return
        if canvas in (None, "", []):
            canvas = {}
        if not isinstance(canvas, dict):
            self.error(f"{record.pointer}/canvas_settings", "Expected an object.", "invalid_type")
            return
        events = self.campaign_events(record)
        self.fail_if_errors()
        by_id = {e.record.id: e for e in events}
        self.place(events, by_id, _anchors(canvas))
        self.fail_if_errors()
        for event in events:
            try:
                event.translated = self.step(event, by_id)
            except Untranslatable as exc:
                event.problem = exc
        self.fail_if_errors()
        dropped = self.leave_out(events)
        kept = [e for e in events if e.record.id not in dropped]
        docs = [
            {
                "key": event.key,
                "type": event.translated[0],
                "name": _strip_tags(event.record.data.get("name"), 200),
                "description": _strip_tags(event.record.data.get("description"), 2000),
                "config": event.translated[1],
                "timing": self.timing(event, by_id),
            }
            for event in kept
            if event.translated is not None
        ]
        edges = [
            {
                "source": by_id[e.parent].key if e.parent is not None else None,
                "target": e.key,
                "path": e.path,
            }
            for e in kept
        ]
        behaviour = _text(data.get("republish_behavior"))
        self.add(
            "campaign",
            record,
            _strip_tags(data.get("name"), 200) or record.name,
            {
                "name": _strip_tags(data.get("name"), 200) or record.name,
                "description": _strip_tags(data.get("description"), 5000),
                "projects": [],
                "publish_up": None,
                "publish_down": None,
                "allow_restart": _truthy(data.get("allow_restart")),
                "reactivation": behaviour if behaviour in REACTIVATION else "count_all_time",
                "exit_on_source_leave": True,
                "default_timezone": None,
                "sources": [
                    {"kind": kind, "id": uuid, "audience": "live", "locked_at": None}
                    # Campaigns list their form sources before their segments.
                    for kind, uuid in sorted(sources, key=lambda s: s[0] != "form")
                ],
                "events": docs,
                "edges": edges,
                "canvas": self.canvas(canvas, {e.record.id: e.key for e in kept}),
            },
        )

    def campaign_events(self, record: _Record) -> list[_Event]:
        """The campaign's steps that are not deleted, each with a kind and a type."""
        only = len(self.records["campaign"]) == 1
        events: list[_Event] = []
        for item in self.records["event"]:
            owner = _int(item.data.get("campaign_id") or item.data.get("campaign"))
            if owner is None and only:
                owner = record.id
            if owner is None or owner not in self.by_id["campaign"]:
                self.error(
                    f"{item.pointer}/campaign_id",
                    "The step names no campaign of the file.",
                    "missing_reference",
                )
                continue
            if owner != record.id or item.data.get("deleted"):
                continue
            parent = _int(item.data.get("parent_id", item.data.get("parent")))
            path = _text(item.data.get("decision_path", item.data.get("decisionPath"))) or None
            kind = _text(item.data.get("event_type", item.data.get("eventType")))
            if kind not in ("action", "decision", "condition"):
                self.error(
                    f"{item.pointer}/event_type",
                    "Expected action, decision or condition.",
                    "invalid_value",
                )
                continue
            type_ = _text(item.data.get("type"))
            if not type_:
                self.error(f"{item.pointer}/type", "The step has no type.", "missing")
                continue
            events.append(_Event(item, type_, kind, self.props(item), parent, path, item.uuid))
        return events

    def place(
        self,
        events: list[_Event],
        by_id: Mapping[int, _Event],
        anchors: Mapping[tuple[str, str], str],
    ) -> None:
        """Each step under its parent, on the yes or no path below a decision or condition
        (from the step, else from the canvas's connection anchors)."""
        for event in events:
            if event.parent is None:
                event.path = None
                continue
            above = by_id.get(event.parent)
            if above is None:
                self.error(
                    f"{event.record.pointer}/parent_id",
                    f"The parent step {event.parent} is not in the campaign.",
                    "missing_reference",
                )
                continue
            if above.kind == "action":
                event.path = None
            elif event.path not in ("yes", "no"):
                anchor = anchors.get((str(above.record.id), str(event.record.id)))
                if anchor in ("yes", "no"):
                    event.path = anchor
                else:
                    self.error(
                        f"{event.record.pointer}/decision_path",
                        "A step under a decision or condition needs its path, yes or no.",
                        "missing",
                    )

    def leave_out(self, events: list[_Event]) -> set[int]:
        """The ids of the untranslatable steps that are left out, with a note each; raises
        ValidationFailed when such a step has steps below it."""
        children: dict[int, list[_Event]] = {}
        for event in events:
            if event.parent is not None:
                children.setdefault(event.parent, []).append(event)
        dropped: set[int] = set()
        refused: list[_Event] = []
        for event in events:
            if event.problem is not None:
                if children.get(event.record.id):
                    refused.append(event)
                else:
                    dropped.add(event.record.id)
        # A jump to a dropped step has nowhere to go: it is dropped too (jumps are leaves).
        for event in events:
            if event.translated and event.translated[0] == "campaign.jump_to_event":
                target = _int(event.props.get("jumpToEvent"))
                if target in dropped:
                    event.problem = Untranslatable(
                        "It jumps to a step that was not translated.", "/properties/jumpToEvent"
                    )
                    dropped.add(event.record.id)
        if refused:
            _refuse(refused)
        for event in events:
            if event.record.id in dropped and event.problem is not None:
                self.note(
                    event.record,
                    event.problem.where,
                    f"Step {event.type!r} left out (nothing followed it): {event.problem.message}",
                )
        return dropped

    def canvas(self, canvas: dict[str, Any], keys: dict[int, str]) -> dict[str, Any]:
        nodes: dict[str, dict[str, int]] = {}
        sources: dict[str, int] | None = None
        for node in canvas.get("nodes") or []:
            if not isinstance(node, dict):
                continue
            try:
                at = {
                    "x": round(float(node.get("positionX") or 0)),
                    "y": round(float(node.get("positionY") or 0)),
                }
            except (TypeError, ValueError):
                continue
            node_id = str(node.get("id"))
            if node_id in ("lists", "forms"):
                sources = sources or at
            elif _int(node_id) in keys:
                nodes[keys[_int(node_id)]] = at  # type: ignore[index]
        out: dict[str, Any] = {"nodes": nodes}
        if sources is not None:
            out["sources"] = sources
        return out if nodes or sources else {}

    def timing(self, event: _Event, by_id: Mapping[int, _Event]) -> dict[str, Any]:
        data = event.record.data
        at = event.record.pointer

        def get(*keys: str) -> Any:
            for key in keys:
                if data.get(key) not in (None, ""):
                    return data[key]
            return None

        mode = _text(get("trigger_mode", "triggerMode")) or "immediate"
        if event.kind == "decision":
            return TimingDoc().model_dump(mode="json")
        values: dict[str, Any] = {"mode": "immediate"}
        if mode == "interval":
            amount = _int(get("trigger_interval", "triggerInterval"))
            unit = TIMING_UNITS.get(_text(get("trigger_interval_unit", "triggerIntervalUnit")))
            if amount is None or unit is None or amount < 0:
                self.error(
                    f"{at}/trigger_interval",
                    "An interval needs a number and a unit (i, h, d, m or y).",
                    "invalid_value",
                )
                return TimingDoc().model_dump(mode="json")
            values.update(mode="interval", amount=amount, unit=unit)
        elif mode == "date":
            raw = get("trigger_date", "triggerDate")
            try:
                values.update(mode="date", at=_when(raw))
            except ValueError:
                self.error(f"{at}/triggerDate", "Expected a date and time.", "invalid_value")
                return TimingDoc().model_dump(mode="json")
        elif mode == "optimized":
            self.note(
                event.record,
                "/trigger_mode",
                "Send-time optimisation is not supported; the step runs at once.",
            )
        elif mode != "immediate":
            self.error(f"{at}/trigger_mode", f"Unknown trigger mode {mode!r}.", "invalid_value")
        try:
            hour = _hour(get("trigger_hour", "triggerHour"))
            start = _hour(get("trigger_restricted_start_hour", "triggerRestrictedStartHour"))
            stop = _hour(get("trigger_restricted_stop_hour", "triggerRestrictedStopHour"))
        except ValueError:
            self.error(f"{at}/trigger_hour", "Expected hours as HH:MM.", "invalid_value")
            return TimingDoc().model_dump(mode="json")
        if mode == "interval":
            if hour:
                values["at_hour"] = hour
            elif start and stop:
                values["window_start"], values["window_end"] = start, stop
            days = get("trigger_restricted_dow", "triggerRestrictedDaysOfWeek")
            ours = self.weekdays(event, days)
            if ours and len(ours) < 7:
                values["weekdays"] = sorted(ours)
        elif hour or (start and stop):
            self.note(
                event.record,
                "/trigger_hour",
                "Send hours apply to delayed steps only here; ignored for this step.",
            )
        if values["mode"] == "immediate":
            self.note_no_path_delay(event, by_id)
        return TimingDoc.model_validate(values).model_dump(mode="json")

    def weekdays(self, event: _Event, days: Any) -> set[int]:
        """Mautic's days of the week (from Sunday, 0; -1 for weekdays) as ours (from Monday)."""
        if isinstance(days, dict):
            days = list(days.values())
        ours: set[int] = set()
        for day in days if isinstance(days, list) else []:
            number = _int(day)
            if number == -1:
                ours.update(range(5))
            elif number is not None and 0 <= number <= 6:
                ours.add((number + 6) % 7)
            else:
                self.note(event.record, "/trigger_restricted_dow", f"Day {day!r} ignored.")
        return ours

    def note_no_path_delay(self, event: _Event, by_id: Mapping[int, _Event]) -> None:
        parent = by_id.get(event.parent) if event.parent is not None else None
        if parent is not None and parent.kind == "decision" and event.path == "no":
            self.note(
                event.record,
                "/trigger_mode",
                "A step on a decision's no path needs the time the contact has to act; set a "
                "delay before publishing.",
            )

    # -- steps -------------------------------------------------------------------------

    def step(self, event: _Event, by_id: Mapping[int, _Event]) -> tuple[str, dict[str, Any]]:
        handler = STEPS.get(event.type)
        if handler is None:
            raise Untranslatable(f"The step type {event.type!r} has no equivalent here.", "/type")
        type_, config = handler(self, event, by_id)
        return type_, self.normalise(type_, config)


def _anchors(canvas: Mapping[str, Any]) -> dict[tuple[str, str], str]:
    """The path (yes or no) of each connection drawn on the canvas, by (source, target)."""
    raw = canvas.get("connections")
    anchors: dict[tuple[str, str], str] = {}
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, dict) and isinstance(item.get("anchors"), dict):
            anchors[(str(item.get("sourceId")), str(item.get("targetId")))] = _text(
                item["anchors"].get("source")
            )
    return anchors


def _refuse(refused: list[_Event]) -> NoReturn:
    types = sorted({e.type for e in refused})
    raise ValidationFailed(
        "The Mautic campaign has steps that cannot be translated and have other steps "
        "below them: " + ", ".join(types),
        [
            FieldError(
                e.record.pointer + (e.problem.where if e.problem else ""),
                f"{e.type} ({e.record.name}): "
                + (e.problem.message if e.problem else "")
                + " Steps hang below it, so it cannot be left out.",
                "untranslatable",
                parameter="file",
            )
            for e in refused
        ],
        extra={"unknown_event_types": types},
    )
