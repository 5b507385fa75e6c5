"""The file a data-subject access request is answered with: a ZIP holding one JSON file per
kind of data and ``index.html``, a summary a person can read without tools."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from jinja2 import BaseLoader, Environment, select_autoescape

# The order and the headings of the summary.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("contact", "Contact details and custom fields"),
    ("companies", "Companies"),
    ("tags", "Tags"),
    ("points_history", "Points history"),
    ("segment_memberships", "Segment memberships"),
    ("segment_history", "Segment joins and leaves"),
    ("campaign_memberships", "Campaign memberships"),
    ("journeys", "Campaign journeys, step by step"),
    ("emails_sent", "Emails sent (with the content version)"),
    ("email_opens_and_clicks", "Email opens and clicks, per message"),
    ("email_hits", "Each email open and click"),
    ("page_hits", "Website page visits"),
    ("web_visitors", "Browsers recognised as this person"),
    ("form_submissions", "Form submissions"),
    ("asset_downloads", "Downloads"),
    ("consents", "Consents given and withdrawn"),
    ("do_not_contact", "Do not contact"),
    ("email_preferences", "Email frequency preferences"),
    ("category_opt_outs", "Email categories opted out of"),
    ("broadcasts", "Broadcast audiences"),
    ("tracked_events", "Events sent by the website or apps"),
    ("notes_and_activity", "Notes and activity timeline"),
    ("audit_entries", "Changes made to the record (audit log)"),
)

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Personal data held by {{ instance }}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;max-width:72rem;color:#161616}
table{border-collapse:collapse;margin:.5rem 0 1.5rem;font-size:.85rem}
th,td{border:1px solid #c6c6c6;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f4f4} .none{color:#6f6f6f}
</style></head><body>
<h1>Personal data held by {{ instance }}</h1>
<p>About {{ who }}, as of {{ generated_at }}. Every section is also in this archive as a JSON
file of the same name, for reuse by another service.</p>
<ul>{% for name, title, rows in sections %}<li><a href="#{{ name }}">{{ title }}</a>
({{ rows|length }})</li>{% endfor %}</ul>
{% for name, title, rows in sections %}
<h2 id="{{ name }}">{{ title }}</h2>
{% if rows %}<table><tr>{% for key in rows[0] %}<th>{{ key }}</th>{% endfor %}</tr>
{% for row in rows %}<tr>{% for value in row.values() %}<td>{{ show(value) }}</td>{% endfor %}</tr>
{% endfor %}</table>{% else %}<p class="none">Nothing held.</p>{% endif %}
{% endfor %}
</body></html>
"""


def _show(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


_environment = Environment(loader=BaseLoader(), autoescape=select_autoescape(default=True))
_summary = _environment.from_string(_TEMPLATE)


def build_archive(
    sections: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    who: str,
    instance: str,
    generated_at: datetime,
) -> bytes:
    ordered = [(name, title, list(sections.get(name, []))) for name, title in SECTIONS]
    html = _summary.render(
        sections=ordered,
        who=who,
        instance=instance,
        generated_at=generated_at.isoformat(),
        show=_show,
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("index.html", html)
        for name, _title, rows in ordered:
            archive.writestr(
                f"{name}.json", json.dumps(rows, ensure_ascii=False, indent=2, sort_keys=True)
            )
    return buffer.getvalue()
