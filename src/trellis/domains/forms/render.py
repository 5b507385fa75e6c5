"""The form as HTML (hosted page, embed script, plain embed code) and the pages around it,
rendered with Jinja autoescape: every label, option, help text and posted value is escaped."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import Environment, select_autoescape

from trellis.db.models import Form

# The hidden field people never fill and bots do.
HONEYPOT = "_homepage"

STYLESHEET = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  background: #f4f4f4; color: #161616; line-height: 1.5; }
main { max-width: 36rem; margin: 3rem auto; padding: 2rem; background: #fff;
  border-top: 4px solid #0f62fe; }
h1 { font-size: 1.5rem; font-weight: 400; margin: 0 0 1rem; }
.tf-field { margin: 0 0 1.25rem; }
.tf-field > label, .tf-field legend { display: block; font-size: .875rem; margin-bottom: .25rem; }
.tf-field fieldset { border: 0; margin: 0; padding: 0; }
.tf-field input[type=text], .tf-field input[type=email], .tf-field input[type=number],
.tf-field input[type=date], .tf-field select, .tf-field textarea { width: 100%; font: inherit;
  padding: .6875rem 1rem; border: 0; border-bottom: 1px solid #8d8d8d; background: #f4f4f4; }
.tf-choice { display: flex; gap: .5rem; align-items: flex-start; padding: .125rem 0; }
.tf-help { color: #525252; font-size: .75rem; margin: .25rem 0 0; }
.tf-error { color: #da1e28; font-size: .75rem; margin: .25rem 0 0; }
.tf-errors { border-left: 3px solid #da1e28; padding-left: .75rem; margin-bottom: 1rem; }
.tf-required { color: #da1e28; }
.tf-hp { position: absolute; left: -10000px; width: 1px; height: 1px; overflow: hidden; }
button { font: inherit; background: #0f62fe; color: #fff; border: 0; padding: .75rem 1rem;
  min-width: 10rem; text-align: left; cursor: pointer; }
button:focus, input:focus, select:focus, textarea:focus { outline: 2px solid #0f62fe;
  outline-offset: 2px; }
.tf-success { border-left: 3px solid #24a148; padding-left: .75rem; }
"""

_env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))

FORM_TEMPLATE = _env.from_string(
    """<form class="trellis-form" method="post" action="{{ action }}" accept-charset="utf-8" \
data-trellis-form="{{ form.alias }}">
{%- if errors %}<div class="tf-errors" role="alert">Please check the answers marked below.</div>
{%- endif %}
{%- for f in fields %}
{%- set id = "tf-" ~ form.alias ~ "-" ~ f.name %}
{%- set err = errors.get(f.name) %}
{%- set val = values.get(f.name, f.default) %}
{%- if f.type == "hidden" %}
<input type="hidden" name="{{ f.name }}" value="{{ '' if val is none else val }}">
{%- else %}
<div class="tf-field tf-{{ f.type }}">
{%- if f.type in ("radio", "checkbox_group") %}
<fieldset{% if f.help %} aria-describedby="{{ id }}-help"{% endif %}><legend>{{ f.label }}\
{% if f.required %} <span class="tf-required" aria-hidden="true">*</span>{% endif %}</legend>
{%- for o in f.options %}
<label class="tf-choice"><input type="{{ 'radio' if f.type == 'radio' else 'checkbox' }}" \
name="{{ f.name }}" value="{{ o.value }}"\
{% if (val is string and val == o.value) or (val is sequence and val is not string \
and o.value in val) %} checked{% endif %}\
{% if f.required and f.type == 'radio' %} required{% endif %}> {{ o.label }}</label>
{%- endfor %}
</fieldset>
{%- elif f.type == "consent" %}
<label class="tf-choice"><input type="checkbox" id="{{ id }}" name="{{ f.name }}" value="1"\
{% if val %} checked{% endif %}{% if f.required %} required{% endif %}> \
<span>{{ f.consent_text }}</span></label>
{%- else %}
<label for="{{ id }}">{{ f.label }}\
{% if f.required %} <span class="tf-required" aria-hidden="true">*</span>{% endif %}</label>
{%- if f.type == "textarea" %}
<textarea id="{{ id }}" name="{{ f.name }}" rows="4"\
{% if f.placeholder %} placeholder="{{ f.placeholder }}"{% endif %}\
{% if f.required %} required{% endif %}\
{% if f.validation.max_length %} maxlength="{{ f.validation.max_length }}"{% endif %}\
{% if f.help %} aria-describedby="{{ id }}-help"{% endif %}>{{ '' if val is none else val }}\
</textarea>
{%- elif f.type == "select" %}
<select id="{{ id }}" name="{{ f.name }}"{% if f.required %} required{% endif %}>
<option value="">{{ f.placeholder or "Choose" }}</option>
{%- for o in f.options %}
<option value="{{ o.value }}"{% if val == o.value %} selected{% endif %}>{{ o.label }}</option>
{%- endfor %}
</select>
{%- else %}
<input id="{{ id }}" name="{{ f.name }}" type="{{ f.type }}"\
 value="{{ '' if val is none else val }}"\
{% if f.placeholder %} placeholder="{{ f.placeholder }}"{% endif %}\
{% if f.required %} required{% endif %}\
{% if f.type == "email" %} autocomplete="email"{% endif %}\
{% if f.type == "number" and f.validation.min is not none %} min="{{ f.validation.min }}"\
{% endif %}\
{% if f.type == "number" and f.validation.max is not none %} max="{{ f.validation.max }}"\
{% endif %}\
{% if f.type == "number" %} step="any"{% endif %}\
{% if f.validation.max_length and f.type == "text" %} maxlength="{{ f.validation.max_length }}"\
{% endif %}\
{% if f.help %} aria-describedby="{{ id }}-help"{% endif %}>
{%- endif %}
{%- endif %}
{%- if f.help %}<p class="tf-help" id="{{ id }}-help">{{ f.help }}</p>{% endif %}
<p class="tf-error" data-error-for="{{ f.name }}"{% if not err %} hidden{% endif %}>\
{{ err or "" }}</p>
</div>
{%- endif %}
{%- endfor %}
<div class="tf-hp" aria-hidden="true" \
style="position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden">\
<label>Leave this field empty <input type="text" name="{{ honeypot }}" tabindex="-1" \
autocomplete="off" value=""></label></div>
<p class="tf-error" data-error-for="" hidden></p>
<button type="submit">Submit</button>
</form>"""
)

PAGE_TEMPLATE = _env.from_string(
    """<!doctype html><html lang="en"><head><meta charset="utf-8">\
<meta name="viewport" content="width=device-width, initial-scale=1">\
<meta name="robots" content="noindex"><title>{{ title }}</title>\
<link rel="stylesheet" href="/f/forms.css"></head>\
<body><main id="main"><h1>{{ title }}</h1>{{ body }}</main></body></html>"""
)

THANKS_TEMPLATE = _env.from_string("""<p class="tf-success" role="status">{{ message }}</p>""")

SCRIPT_TEMPLATE = """(function () {
  "use strict";
  var html = %(html)s, url = %(url)s;
  var here = document.currentScript;
  var box = document.createElement("div");
  box.className = "trellis-form-box";
  box.innerHTML = html;
  if (here && here.parentNode) { here.parentNode.insertBefore(box, here); }
  else { document.body.appendChild(box); }
  var form = box.querySelector("form");
  function show(name, text) {
    var sel = '[data-error-for="' + name.replace(/["\\\\]/g, "") + '"]';
    var el = form.querySelector(sel) || form.querySelector('[data-error-for=""]');
    if (el) { el.textContent = text; el.hidden = false; }
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var data = {};
    new FormData(form).forEach(function (value, key) {
      if (!(key in data)) { data[key] = value; }
      else if (Array.isArray(data[key])) { data[key].push(value); }
      else { data[key] = [data[key], value]; }
    });
    form.querySelectorAll('input[type="checkbox"]').forEach(function (box) {
      if (box.name && !(box.name in data) && box.value !== "1") { data[box.name] = []; }
    });
    data.%(page)s = window.location.href;
    try {
      var vid = window.localStorage.getItem("trellis_vid") ||
        (document.cookie.match(/(?:^|; )trellis_vid=([A-Za-z0-9_-]{16,64})/) || [])[1];
      if (vid) { data._visitor = vid; }
    } catch (e) { /* storage blocked: the visitor stays anonymous */ }
    form.querySelectorAll("[data-error-for]").forEach(function (el) {
      el.hidden = true; el.textContent = "";
    });
    var button = form.querySelector('button[type="submit"]');
    if (button) { button.disabled = true; }
    fetch(url, {
      method: "POST", credentials: "omit", mode: "cors",
      headers: {"Content-Type": "application/json", "Accept": "application/json"},
      body: JSON.stringify(data)
    }).then(function (response) {
      return response.json().then(function (body) {
        return {status: response.status, body: body};
      });
    }).then(function (result) {
      if (button) { button.disabled = false; }
      var body = result.body || {};
      if (result.status === 200 && body.ok) {
        if (body.redirect_url) { window.location.assign(body.redirect_url); return; }
        var done = document.createElement("p");
        done.className = "tf-success";
        done.setAttribute("role", "status");
        done.textContent = body.message || "";
        form.parentNode.replaceChild(done, form);
        return;
      }
      var errors = body.errors || [];
      if (!errors.length) { show("", body.detail || "The form could not be sent."); }
      errors.forEach(function (e) {
        show(String(e.pointer || "").replace(/^\\/fields\\//, ""), e.detail || "");
      });
    }).catch(function () {
      if (button) { button.disabled = false; }
      show("", "The form could not be sent; check your connection and try again.");
    });
  });
})();
"""


def render_form(
    form: Form,
    *,
    action: str,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
) -> str:
    return FORM_TEMPLATE.render(
        form=form,
        fields=form.fields,
        action=action,
        values=values or {},
        errors=errors or {},
        honeypot=HONEYPOT,
    )
