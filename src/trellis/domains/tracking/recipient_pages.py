"""The recipient-facing pages (unsubscribe, preference centre, not found): small
server-rendered HTML with one bundled stylesheet, every value escaped, no script and nothing
loaded from another host."""

from __future__ import annotations

from html import escape

from trellis.domains.tracking.service import Preferences

STYLESHEET = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  background: #f4f4f4; color: #161616; line-height: 1.5; }
main { max-width: 32rem; margin: 4rem auto; padding: 2rem; background: #fff;
  border-top: 4px solid #0f62fe; }
h1 { font-size: 1.5rem; font-weight: 400; margin: 0 0 1rem; }
p { margin: 0 0 1rem; }
fieldset { border: 0; padding: 0; margin: 0 0 1.5rem; }
legend { font-weight: 600; margin-bottom: .5rem; }
label { display: flex; gap: .5rem; align-items: center; padding: .25rem 0; }
input[type=checkbox] { width: 1.125rem; height: 1.125rem; }
button { font: inherit; background: #0f62fe; color: #fff; border: 0; padding: .75rem 1rem;
  min-width: 10rem; text-align: left; cursor: pointer; }
button:focus, input:focus { outline: 2px solid #0f62fe; outline-offset: 2px; }
.note { color: #525252; font-size: .875rem; }
.done { border-left: 3px solid #24a148; padding-left: .75rem; }
"""


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{escape(title)}</title>"
        '<link rel="stylesheet" href="/t/pages.css"></head>'
        f'<body><main id="main">{body}</main></body></html>'
    )


def not_found() -> str:
    return _page("Not found", "<h1>Not found</h1><p>This link is not valid.</p>")


def unsubscribe_form(address: str, form_token: str, *, done: bool = False) -> str:
    if done:
        return _page(
            "Unsubscribed",
            '<h1>You are unsubscribed</h1><p class="done" role="status">'
            f"{escape(address)} will no longer receive marketing email from us.</p>",
        )
    return _page(
        "Unsubscribe",
        "<h1>Unsubscribe</h1>"
        f"<p>Stop marketing email to <strong>{escape(address)}</strong>?</p>"
        '<form method="post">'
        f'<input type="hidden" name="form_token" value="{escape(form_token)}">'
        '<button type="submit">Unsubscribe</button></form>',
    )


def preferences_form(prefs: Preferences, form_token: str, *, saved: bool = False) -> str:
    status = '<p class="done" role="status">Your preferences are saved.</p>' if saved else ""
    subscribed = " checked" if prefs.subscribed else ""
    disabled = "" if prefs.can_resubscribe else " disabled"
    channel = (
        "<fieldset><legend>Channels</legend>"
        f'<label><input type="checkbox" name="email" value="1"{subscribed}{disabled}> '
        "Marketing email</label>"
        + (
            ""
            if prefs.can_resubscribe
            else '<p class="note">This address cannot receive email again from here.</p>'
        )
        + "</fieldset>"
    )
    categories = ""
    if prefs.categories:
        boxes = "".join(
            f'<label><input type="checkbox" name="category" value="{escape(name)}"'
            f"{' checked' if wanted else ''}> {escape(name)}</label>"
            for name, wanted in prefs.categories
        )
        categories = f"<fieldset><legend>Topics</legend>{boxes}</fieldset>"
    return _page(
        "Email preferences",
        "<h1>Email preferences</h1>"
        f"{status}<p>For <strong>{escape(prefs.send.to_address)}</strong></p>"
        '<form method="post">'
        f'<input type="hidden" name="form_token" value="{escape(form_token)}">'
        f'{channel}{categories}<button type="submit">Save preferences</button></form>',
    )
