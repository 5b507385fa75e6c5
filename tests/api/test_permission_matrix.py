"""Who may see and touch what, on every route of the API (ADR 0015).

Every operation of the OpenAPI document has an entry below saying what it needs (a resource
and an action, or a signed-in user, or nothing), and which seeded object it acts on: one of
Alice's (an own-only user) or one of the administrator's ("others'"). For each built-in role
and an own-only custom role the test computes the answer the permission model gives and
checks the API gives it: 2xx, 403 (may not), or 404 (may not even see). Lists must not show
another's rows to whoever sees only their own. A route without an entry fails the test.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
import pytest

from tests.fixtures.api import PASSWORD, Harness
from trellis.actor import RESOURCES, Actor, Perm, builtin_role_permissions

Action = Literal[
    "read",
    "list",
    "create",
    "clone",
    "write",
    "delete",
    "publish",
    "perm",
    "reference",
    "user",
    "session",
    "public",
]
Target = Literal["own", "others"]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
MJML = (
    "<mjml><mj-body><mj-section><mj-column><mj-text>Hi</mj-text></mj-column></mj-section>"
    "</mj-body></mjml>"
)


def own_only_permissions() -> dict[str, list[str]]:
    """View, create, edit and delete their own, on every resource that has owners."""
    wanted = {Perm.VIEW_OWN, Perm.CREATE, Perm.EDIT_OWN, Perm.DELETE_OWN}
    return {
        r.key: [p.value for p in r.permissions if p in wanted]
        for r in RESOURCES
        if not r.administration and Perm.VIEW_OWN in r.permissions
    }


ROLES: dict[str, dict[str, list[str]] | None] = {
    "Administrator": None,
    "Marketer": None,
    "Analyst": None,
    "OwnOnly": own_only_permissions(),
}


def actor_for(role: str) -> Actor:
    permissions = ROLES[role] or builtin_role_permissions(role)
    return Actor(
        type="user",
        name=role,
        user_id=1,
        is_admin=role == "Administrator",
        permissions={k: frozenset(v) for k, v in permissions.items()},
    )


@dataclass
class World:
    """What the seeding made: per kind, an object of Alice's and one of the administrator's."""

    harness: Harness
    admin: httpx.AsyncClient
    own: dict[str, int] = field(default_factory=dict)
    others: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)
    clients: dict[str, httpx.AsyncClient] = field(default_factory=dict)
    # Whose object the request being made acts on (bodies that name one read it).
    current: Target = "own"
    # An export of Alice's campaign, to import.
    export: bytes = b""
    spares: list[int] = field(default_factory=list)

    def spare(self) -> int:
        """A contact of Alice's to merge away (each merge uses one up)."""
        return self.spares.pop()

    def target(self, kind: str, which: Target) -> int:
        return (self.own if which == "own" else self.others)[kind]


Body = Callable[[World, str], Any]
Factory = Callable[[World, httpx.AsyncClient], Awaitable[int]]


@dataclass(frozen=True)
class Rule:
    action: Action
    resource: str = ""
    kind: str = ""  # the seeded object a path parameter names
    perm: Perm | None = None  # for action "perm"
    body: Body | None = None
    files: Body | None = None
    query: dict[str, Any] | None = None
    # A fresh object to act on, made by its owner (deletes must not consume the seed).
    fresh: Factory | None = None
    # Other parameters of the path (a contact of the campaign, ...).
    extra: Callable[[World, Target], dict[str, Any]] | None = None
    # The list route answers a rows key other than "data".
    rows: str = "data"
    # A body that passes validation, for routes that authenticate after reading it (the
    # track API authenticates in its group commit).
    valid: dict[str, Any] | None = None
    # An answer that comes only after every permission check passed (a 404 for a step the
    # contact is not on), counted as allowed.
    past_checks: tuple[int, str] | None = None


def alices_contact(world: World, role: str) -> dict[str, Any]:
    return {"contact_ids": [world.own["contact"]]}


def unique(role: str, prefix: str) -> str:
    return f"{prefix} {role} {uuid.uuid4().hex[:6]}"


# -- bodies ---------------------------------------------------------------------------------


def email_body(world: World, role: str) -> dict[str, Any]:
    return {"name": unique(role, "Email"), "subject": "Hello", "body": MJML}


def form_body(world: World, role: str) -> dict[str, Any]:
    return {
        "name": unique(role, "Form"),
        "fields": [{"label": "Email", "type": "email", "name": "email", "contact_field": "email"}],
    }


def page_body(world: World, role: str) -> dict[str, Any]:
    return {"name": unique(role, "Page"), "title": "Welcome", "html": "<p>Hi</p>"}


def segment_body(world: World, role: str) -> dict[str, Any]:
    return {
        "name": unique(role, "Segment"),
        "is_published": False,
        "filters": {
            "match": "all",
            "conditions": [{"type": "points", "operator": ">=", "value": 0}],
        },
    }


def campaign_body(world: World, role: str) -> dict[str, Any]:
    key = uuid.uuid4().hex[:12]
    return {
        "name": unique(role, "Campaign"),
        "events": [
            {
                "key": key,
                "type": "contact.change_points",
                "config": {"delta": 1},
                "timing": {"mode": "immediate"},
            }
        ],
        "edges": [{"source": None, "target": key, "path": None}],
        "sources": [],
    }


def contact_body(world: World, role: str) -> dict[str, Any]:
    return {"email": f"{uuid.uuid4().hex[:10]}@example.com", "first_name": role}


def name_body(prefix: str) -> Body:
    return lambda world, role: {"name": unique(role, prefix)}


def asset_files(world: World, role: str) -> dict[str, Any]:
    return {"file": ("paper.pdf", PDF, "application/pdf")}


def csv_file(world: World, role: str) -> dict[str, Any]:
    rows = f"email,first_name\n{uuid.uuid4().hex[:8]}@example.com,{role}\n"
    return {"file": ("people.csv", rows.encode(), "text/csv")}


def csv_options(world: World, role: str) -> dict[str, Any]:
    return {}


def broadcast_body(world: World, role: str) -> dict[str, Any]:
    return {
        "name": unique(role, "Broadcast"),
        "email_id": world.own["broadcast_email"],
        "segment_ids": [world.own["segment"]],
    }


# -- fresh objects to delete ------------------------------------------------------------------


def creating(path: str, body: Body, *, files: Body | None = None) -> Factory:
    async def make(world: World, owner: httpx.AsyncClient) -> int:
        if files is not None:
            response = await owner.post(path, data=body(world, "x"), files=files(world, "x"))
        else:
            response = await owner.post(path, json=body(world, "x"))
        assert response.status_code in (200, 201), (path, response.text)
        return int(response.json()["id"])

    return make


# -- the table --------------------------------------------------------------------------------

R = Rule
API = "/api/v2"
EMAIL = f"{API}/emails/{{email_id}}"
BROADCAST = f"{API}/broadcasts/{{broadcast_id}}"
FORM = f"{API}/forms/{{form_id}}"
PAGE = f"{API}/pages/{{page_id}}"
SEGMENT = f"{API}/segments/{{segment_id}}"
CONTACT = f"{API}/contacts/{{contact_id}}"
CAMPAIGN = f"{API}/campaigns/{{campaign_id}}"

ROUTES: dict[tuple[str, str], Rule] = {
    # health and the unauthenticated entrance
    ("GET", "/healthz"): R("public"),
    ("GET", "/readyz"): R("public"),
    ("GET", f"{API}/setup"): R("public"),
    ("POST", f"{API}/setup"): R("public"),
    ("POST", f"{API}/auth/login"): R("public"),
    ("POST", f"{API}/auth/logout"): R("public"),
    ("GET", f"{API}/auth/me"): R("user"),
    ("POST", f"{API}/auth/password"): R(
        "user",
        body=lambda w, r: {"current_password": PASSWORD, "new_password": PASSWORD},
        valid={},
    ),
    ("GET", f"{API}/permissions"): R("user"),
    ("GET", f"{API}/notifications"): R("user"),
    ("POST", f"{API}/notifications/read-all"): R("user"),
    ("POST", f"{API}/notifications/{{notification_id}}/read"): R("user"),
    ("GET", f"{API}/tokens"): R("user"),
    # Tokens are made by a signed-in person, never by another token.
    ("POST", f"{API}/tokens"): R("session", body=lambda w, r: {"name": unique(r, "token")}),
    ("DELETE", f"{API}/tokens/{{token_id}}"): R("user"),
    # administration
    ("GET", f"{API}/users"): R("perm", "users", perm=Perm.VIEW_OTHERS),
    ("POST", f"{API}/users"): R(
        "perm",
        "users",
        perm=Perm.CREATE,
        body=lambda w, r: {
            "email": f"{uuid.uuid4().hex[:8]}@example.com",
            "password": "Correct-horse-9x",
            "role_id": w.others["role"],
        },
    ),
    ("GET", f"{API}/users/{{user_id}}"): R("perm", "users", perm=Perm.VIEW_OTHERS, kind="user"),
    ("PATCH", f"{API}/users/{{user_id}}"): R(
        "perm", "users", perm=Perm.EDIT_OTHERS, kind="user", body=lambda w, r: {"name": r}
    ),
    ("DELETE", f"{API}/users/{{user_id}}"): R(
        "perm",
        "users",
        perm=Perm.DELETE_OTHERS,
        kind="user",
        fresh=creating(
            f"{API}/users",
            lambda w, r: {
                "email": f"{uuid.uuid4().hex[:8]}@example.com",
                "password": "Correct-horse-9x",
                "role_id": w.others["role"],
            },
        ),
    ),
    ("GET", f"{API}/roles"): R("perm", "roles", perm=Perm.VIEW_OTHERS),
    ("POST", f"{API}/roles"): R("perm", "roles", perm=Perm.CREATE, body=name_body("Role")),
    ("GET", f"{API}/roles/{{role_id}}"): R("perm", "roles", perm=Perm.VIEW_OTHERS, kind="role"),
    ("PATCH", f"{API}/roles/{{role_id}}"): R(
        "perm", "roles", perm=Perm.EDIT_OTHERS, kind="role", body=name_body("Role")
    ),
    ("DELETE", f"{API}/roles/{{role_id}}"): R(
        "perm",
        "roles",
        perm=Perm.DELETE_OTHERS,
        kind="role",
        fresh=creating(f"{API}/roles", name_body("Role")),
    ),
    # The instance's name, timezone and language: what every screen shows.
    ("GET", f"{API}/settings"): R("user"),
    # Every signed-in user has one; its figures are limited by visibility (tests/domains/dashboard).
    ("GET", f"{API}/dashboard"): R("user"),
    ("PATCH", f"{API}/settings"): R(
        "perm", "settings", perm=Perm.EDIT_OTHERS, body=lambda w, r: {"instance_name": r}
    ),
    ("GET", f"{API}/system"): R("perm", "settings", perm=Perm.VIEW_OTHERS),
    ("GET", f"{API}/audit-log"): R("perm", "audit_log", perm=Perm.VIEW_OTHERS),
    # catalogues
    ("GET", f"{API}/event-types"): R("list", "campaigns", rows=""),
    ("GET", f"{API}/segment-filter-types"): R("list", "segments", rows=""),
    ("GET", f"{API}/form-field-types"): R("list", "forms", rows=""),
    # custom fields, stages, tags (no owners)
    ("GET", f"{API}/fields"): R("reference", "fields"),
    ("POST", f"{API}/fields"): R(
        "perm",
        "fields",
        perm=Perm.CREATE,
        body=lambda w, role: {"label": unique(role, "Field"), "type": "text"},
    ),
    ("GET", f"{API}/fields/{{field_id}}"): R("reference", "fields", kind="field"),
    ("PATCH", f"{API}/fields/{{field_id}}"): R(
        "perm", "fields", perm=Perm.EDIT_OTHERS, kind="field", body=lambda w, r: {"label": "Plan"}
    ),
    ("DELETE", f"{API}/fields/{{field_id}}"): R(
        "perm",
        "fields",
        perm=Perm.DELETE_OTHERS,
        kind="field",
        fresh=creating(f"{API}/fields", lambda w, r: {"label": unique(r, "Temp"), "type": "text"}),
    ),
    ("GET", f"{API}/stages"): R("reference", "stages"),
    ("POST", f"{API}/stages"): R("perm", "stages", perm=Perm.CREATE, body=name_body("Stage")),
    ("GET", f"{API}/stages/{{stage_id}}"): R("reference", "stages", kind="stage"),
    ("PATCH", f"{API}/stages/{{stage_id}}"): R(
        "perm", "stages", perm=Perm.EDIT_OTHERS, kind="stage", body=name_body("Stage")
    ),
    ("DELETE", f"{API}/stages/{{stage_id}}"): R(
        "perm",
        "stages",
        perm=Perm.DELETE_OTHERS,
        kind="stage",
        fresh=creating(f"{API}/stages", name_body("Stage")),
    ),
    ("GET", f"{API}/tags"): R("reference", "contacts"),
    ("PATCH", f"{API}/tags/{{tag_id}}"): R(
        "perm", "contacts", perm=Perm.EDIT_OTHERS, kind="tag", body=name_body("tag")
    ),
    ("DELETE", f"{API}/tags/{{tag_id}}"): R("perm", "contacts", perm=Perm.EDIT_OTHERS, kind="tag"),
}


def _crud(
    collection: str,
    param: str,
    resource: str,
    kind: str,
    body: Body,
    *,
    publishable: bool = False,
    files: Body | None = None,
    patch: Body | None = None,
) -> None:
    base = f"{API}/{collection}"
    one = f"{base}/{{{param}}}"
    ROUTES[("GET", base)] = R("list", resource, kind=kind)
    ROUTES[("POST", base)] = R("create", resource, body=body, files=files)
    ROUTES[("GET", one)] = R("read", resource, kind=kind)
    ROUTES[("PATCH", one)] = R(
        "write", resource, kind=kind, body=patch or name_body(kind.capitalize())
    )
    ROUTES[("DELETE", one)] = R(
        "delete", resource, kind=kind, fresh=creating(base, body, files=files)
    )


_crud("emails", "email_id", "emails", "email", email_body, publishable=True)
_crud("forms", "form_id", "forms", "form", form_body, publishable=True)
_crud("pages", "page_id", "pages", "page", page_body, publishable=True)
_crud(
    "assets",
    "asset_id",
    "assets",
    "asset",
    lambda w, r: {"name": unique(r, "Asset")},
    files=asset_files,
)
_crud("segments", "segment_id", "segments", "segment", segment_body, publishable=True)
_crud("projects", "project_id", "projects", "project", name_body("Project"))
_crud("companies", "company_id", "companies", "company", name_body("Company"))
_crud(
    "contacts",
    "contact_id",
    "contacts",
    "contact",
    contact_body,
    patch=lambda w, r: {"first_name": r},
)
_crud("broadcasts", "broadcast_id", "emails", "broadcast", broadcast_body)

ROUTES.update(
    {
        # emails
        ("GET", f"{EMAIL}/category"): R("read", "emails", kind="email"),
        ("PUT", f"{EMAIL}/category"): R(
            "write", "emails", kind="email", body=lambda w, r: {"category": "news"}
        ),
        ("POST", f"{EMAIL}/preview"): R("read", "emails", kind="email", body=lambda w, r: {}),
        ("GET", f"{EMAIL}/sends"): R("read", "emails", kind="email"),
        ("GET", f"{EMAIL}/stats"): R("read", "emails", kind="email"),
        ("POST", f"{EMAIL}/test-send"): R("read", "emails", kind="email", body=lambda w, r: {}),
        ("GET", f"{API}/outbox"): R("perm", "emails", perm=Perm.VIEW_OTHERS),
        ("GET", f"{API}/outbox/{{message_id}}"): R(
            "perm", "emails", perm=Perm.VIEW_OTHERS, kind="message"
        ),
        ("POST", f"{API}/email-events"): R(
            "perm",
            "contacts",
            perm=Perm.EDIT_OTHERS,
            body=lambda w, r: [{"type": "delivered", "message_id": "<none@example.com>"}],
        ),
        # broadcasts
        ("POST", f"{BROADCAST}/schedule"): R(
            "publish", "emails", kind="broadcast", body=lambda w, r: {}
        ),
        ("POST", f"{BROADCAST}/cancel"): R(
            "publish", "emails", kind="broadcast", body=lambda w, r: {}
        ),
        ("GET", f"{BROADCAST}/recipients"): R("read", "emails", kind="broadcast"),
        # forms
        ("POST", f"{FORM}/clone"): R("clone", "forms", kind="form", body=lambda w, r: {}),
        ("GET", f"{FORM}/embed"): R("read", "forms", kind="form"),
        ("GET", f"{FORM}/submissions"): R("read", "forms", kind="form"),
        ("GET", f"{FORM}/submissions.csv"): R("read", "forms", kind="form"),
        # pages and assets
        ("POST", f"{PAGE}/clone"): R("clone", "pages", kind="page", body=lambda w, r: {}),
        ("POST", f"{PAGE}/preview"): R("read", "pages", kind="page", body=lambda w, r: {}),
        ("GET", f"{API}/assets/{{asset_id}}/link"): R("read", "assets", kind="asset"),
        # Every visitor's page views, identified or not.
        ("GET", f"{API}/page-hits"): R("perm", "contacts", perm=Perm.VIEW_OTHERS),
        # segments
        ("POST", f"{API}/segments/count"): R(
            "list",
            "segments",
            rows="",
            body=lambda w, r: {"filters": segment_body(w, r)["filters"]},
        ),
        ("GET", f"{SEGMENT}/members"): R("read", "segments", kind="segment"),
        ("POST", f"{SEGMENT}/members"): R(
            "write",
            "segments",
            kind="segment",
            body=alices_contact,
        ),
        ("DELETE", f"{SEGMENT}/members"): R(
            "write",
            "segments",
            kind="segment",
            body=alices_contact,
        ),
        ("POST", f"{SEGMENT}/rebuild"): R("write", "segments", kind="segment"),
        # projects
        ("GET", f"{API}/projects/{{project_id}}/entities"): R("read", "projects", kind="project"),
        # contacts
        ("POST", f"{API}/contacts/batch"): R(
            "create", "contacts", body=lambda w, r: {"contacts": [contact_body(w, r)]}
        ),
        ("POST", f"{API}/contacts/bulk"): R(
            "perm",
            "contacts",
            perm=Perm.EDIT_OWN,
            body=lambda w, r: {
                "contact_ids": [w.own["contact"]],
                "action": "add_tags",
                "tags": ["bulk"],
            },
        ),
        ("GET", f"{CONTACT}/activity"): R("read", "contacts", kind="contact"),
        ("GET", f"{CONTACT}/campaigns"): R("read", "contacts", kind="contact"),
        ("GET", f"{CONTACT}/segments"): R("read", "contacts", kind="contact"),
        ("GET", f"{CONTACT}/submissions"): R("read", "contacts", kind="contact"),
        ("GET", f"{CONTACT}/page-hits"): R("read", "contacts", kind="contact"),
        ("GET", f"{CONTACT}/email-sends"): R("read", "contacts", kind="contact"),
        ("GET", f"{CONTACT}/email-frequency"): R("read", "contacts", kind="contact"),
        ("PUT", f"{CONTACT}/email-frequency"): R(
            "write",
            "contacts",
            kind="contact",
            body=lambda w, r: {"frequency_limit": 2, "frequency_days": 7},
        ),
        ("POST", f"{CONTACT}/points"): R(
            "write", "contacts", kind="contact", body=lambda w, r: {"delta": 1}
        ),
        ("POST", f"{CONTACT}/dnc"): R(
            "write", "contacts", kind="contact", body=lambda w, r: {"channel": "sms"}
        ),
        ("DELETE", f"{CONTACT}/dnc/{{channel}}"): R(
            "write", "contacts", kind="contact", extra=lambda w, t: {"channel": "sms"}
        ),
        ("POST", f"{CONTACT}/companies"): R(
            "write",
            "contacts",
            kind="contact",
            body=lambda w, r: {"company_id": w.own["company"]},
        ),
        ("DELETE", f"{CONTACT}/companies/{{company_id}}"): R(
            "write",
            "contacts",
            kind="contact",
            extra=lambda w, t: {"company_id": w.target("company", t)},
        ),
        ("POST", f"{CONTACT}/merge"): R(
            "delete",
            "contacts",
            kind="contact",
            body=lambda w, r: {"other_id": w.spare()},
        ),
        # data-subject requests and consents (the privacy domain)
        ("GET", f"{CONTACT}/personal-data"): R("read", "contacts", kind="contact"),
        ("POST", f"{CONTACT}/erase"): R(
            "delete",
            "contacts",
            kind="contact",
            fresh=creating(f"{API}/contacts", contact_body),
        ),
        ("GET", f"{CONTACT}/consents"): R("read", "contacts", kind="contact"),
        ("POST", f"{CONTACT}/consents"): R(
            "write",
            "contacts",
            kind="contact",
            body=lambda w, r: [{"purpose": "newsletter", "granted": True, "wording": "Yes"}],
        ),
        ("POST", f"{API}/privacy/suppressions/lift"): R(
            "perm", "contacts", perm=Perm.CREATE, body=lambda w, r: {"email": "x@example.com"}
        ),
        # data retention: instance settings
        ("GET", f"{API}/privacy/retention"): R("perm", "settings", perm=Perm.VIEW_OTHERS),
        ("PATCH", f"{API}/privacy/retention/{{name}}"): R(
            "perm",
            "settings",
            perm=Perm.EDIT_OTHERS,
            body=lambda w, r: {"period": 31},
            extra=lambda w, t: {"name": "outbox"},
        ),
        ("POST", f"{API}/privacy/cleanup"): R(
            "perm", "settings", perm=Perm.EDIT_OTHERS, body=lambda w, r: {"dry_run": True}
        ),
        ("GET", f"{API}/privacy/cleanup/runs"): R("perm", "settings", perm=Perm.VIEW_OTHERS),
        # imports
        ("GET", f"{API}/imports"): R("list", "imports", kind="import"),
        ("POST", f"{API}/imports"): R("create", "imports", body=csv_options, files=csv_file),
        ("POST", f"{API}/imports/preview"): R(
            "create", "imports", body=csv_options, files=csv_file
        ),
        ("GET", f"{API}/imports/{{import_id}}"): R("read", "imports", kind="import"),
        ("GET", f"{API}/imports/{{import_id}}/errors.csv"): R("read", "imports", kind="import"),
        # campaigns
        ("GET", f"{API}/campaigns"): R("list", "campaigns", kind="campaign"),
        ("POST", f"{API}/campaigns"): R("create", "campaigns", body=campaign_body),
        ("POST", f"{API}/campaigns/validate"): R("list", "campaigns", rows="", body=campaign_body),
        ("GET", f"{CAMPAIGN}"): R("read", "campaigns", kind="campaign"),
        ("PUT", f"{CAMPAIGN}"): R("write", "campaigns", kind="campaign", body=campaign_body),
        ("DELETE", f"{CAMPAIGN}"): R(
            "delete",
            "campaigns",
            kind="campaign",
            fresh=creating(f"{API}/campaigns", campaign_body),
        ),
        ("POST", f"{CAMPAIGN}/clone"): R("clone", "campaigns", kind="campaign"),
        ("GET", f"{CAMPAIGN}/stats"): R("read", "campaigns", kind="campaign"),
        ("GET", f"{CAMPAIGN}/members"): R("read", "campaigns", kind="campaign"),
        ("POST", f"{CAMPAIGN}/members"): R(
            "write",
            "campaigns",
            kind="campaign",
            body=alices_contact,
        ),
        ("POST", f"{CAMPAIGN}/members/remove"): R(
            "write",
            "campaigns",
            kind="campaign",
            body=alices_contact,
        ),
        ("GET", f"{CAMPAIGN}/failures"): R("read", "campaigns", kind="campaign"),
        ("POST", f"{CAMPAIGN}/retry-failed"): R("write", "campaigns", kind="campaign"),
        ("GET", f"{CAMPAIGN}/publish-preview"): R("read", "campaigns", kind="campaign"),
        ("POST", f"{CAMPAIGN}/publish"): R("publish", "campaigns", kind="campaign"),
        ("POST", f"{CAMPAIGN}/unpublish"): R("publish", "campaigns", kind="campaign"),
        ("GET", f"{CAMPAIGN}/export"): R("read", "campaigns", kind="campaign"),
        ("POST", f"{API}/campaigns/export"): R(
            "read",
            "campaigns",
            kind="campaign",
            body=lambda w, r: {"campaign_ids": [w.target("campaign", w.current)]},
        ),
        ("GET", f"{CAMPAIGN}/contacts/{{contact_id}}/journey"): R(
            "read",
            "campaigns",
            kind="campaign",
            extra=lambda w, t: {"contact_id": w.own["contact"]},
        ),
        ("POST", f"{CAMPAIGN}/contacts/{{contact_id}}/steps/{{event_key}}"): R(
            "write",
            "campaigns",
            kind="campaign",
            extra=lambda w, t: {"contact_id": w.own["contact"], "event_key": "nope"},
            body=lambda w, r: {"action": "cancel"},
            past_checks=(404, "No such step for this contact"),
        ),
        ("POST", f"{API}/campaigns/import"): R(
            "create",
            "campaigns",
            files=lambda w, r: {"file": ("export.zip", w.export, "application/zip")},
            body=lambda w, r: {"dry_run": "true"},
        ),
        ("GET", f"{API}/campaigns/imports/{{import_id}}"): R(
            "read", "campaigns", kind="campaign_import"
        ),
        ("POST", f"{API}/campaigns/imports/{{import_id}}/undo"): R(
            "write", "campaigns", kind="campaign_import"
        ),
        ("POST", f"{API}/events"): R(
            "perm",
            "contacts",
            perm=Perm.EDIT_OTHERS,
            body=lambda w, r: {"name": "visited", "contact_id": w.own["contact"]},
            valid={"name": "visited", "email": "ada@example.com"},
        ),
    }
)


def expected(rule: Rule, role: str, target: Target | None) -> int | str:
    """What the permission model answers: "2xx", 403 or 404."""
    actor = actor_for(role)
    if rule.action in ("public", "user"):
        return "2xx"
    if rule.action == "session":
        return 403  # every client of this test signs in with a token
    resource = rule.resource
    if rule.action == "perm":
        assert rule.perm is not None
        return "2xx" if actor.can(resource, rule.perm) else 403
    if rule.action == "reference":
        # Data with no owner that every contact screen shows (stages, fields, tags).
        seen = actor.can(resource, Perm.VIEW_OTHERS) or actor.can_view_any("contacts")
        return "2xx" if seen else 403
    if rule.action == "create":
        return "2xx" if actor.can(resource, Perm.CREATE) else 403
    if not actor.can_view_any(resource):
        return 403
    if rule.action == "list":
        return "2xx"
    if target == "others" and not actor.can(resource, Perm.VIEW_OTHERS):
        return 404
    own = target == "own"
    if rule.action == "clone" and not actor.can(resource, Perm.CREATE):
        return 403
    needed = {
        "read": None,
        "clone": None,
        "write": Perm.EDIT_OWN if own else Perm.EDIT_OTHERS,
        "delete": Perm.DELETE_OWN if own else Perm.DELETE_OTHERS,
        "publish": Perm.PUBLISH,
    }[rule.action]
    if needed is not None and not actor.can(resource, needed):
        return 403
    return "2xx"


def test_every_route_has_an_entry(harness: Harness) -> None:
    operations = {
        (method.upper(), path)
        for path, item in harness.app.openapi()["paths"].items()
        for method in item
    }
    missing = sorted(operations - set(ROUTES))
    assert not missing, f"routes without a permission rule: {missing}"
    stale = sorted(set(ROUTES) - operations)
    assert not stale, f"rules for routes that do not exist: {stale}"


def _fill_rest(path: str) -> str:
    return re.sub(r"\{[a-z_]+\}", "1", path)


async def test_anonymous_requests_are_refused_everywhere_but_the_allow_list(
    harness: Harness,
) -> None:
    leaks = []
    async with harness.client() as anonymous:
        for (method, path), rule in ROUTES.items():
            if rule.action == "public" or not path.startswith(API):
                continue
            response = await anonymous.request(
                method, _fill_rest(path), json=rule.valid if rule.valid is not None else {}
            )
            if response.status_code != 401:
                leaks.append(f"{method} {path}: {response.status_code}")
    assert leaks == []


# -- the matrix ---------------------------------------------------------------------------


async def _seed(harness: Harness, admin: httpx.AsyncClient) -> World:
    role = await admin.post(
        f"{API}/roles", json={"name": "OwnOnly", "permissions": own_only_permissions()}
    )
    assert role.status_code == 201, role.text
    world = World(harness=harness, admin=admin)
    for name in ("Marketer", "Analyst", "OwnOnly"):
        email = f"{name.lower()}.matrix@example.com"
        world.users[name] = await harness.create_user(email, role=name)
        world.clients[name] = harness.client(token=await harness.create_token(world.users[name]))
    world.users["Administrator"] = 0
    world.clients["Administrator"] = admin
    alice = world.clients["OwnOnly"]
    for owner, store in ((alice, world.own), (admin, world.others)):
        for kind, path, body in (
            ("email", "emails", email_body),
            ("form", "forms", form_body),
            ("page", "pages", page_body),
            ("segment", "segments", segment_body),
            ("project", "projects", name_body("Project")),
            ("company", "companies", name_body("Company")),
            ("contact", "contacts", contact_body),
            ("spare_contact", "contacts", contact_body),
            ("campaign", "campaigns", campaign_body),
        ):
            response = await owner.post(f"{API}/{path}", json=body(world, "seed"))
            assert response.status_code == 201, (kind, response.text)
            store[kind] = int(response.json()["id"])
        upload = await owner.post(
            f"{API}/assets", data={"name": "seed"}, files=asset_files(world, "seed")
        )
        assert upload.status_code == 201, upload.text
        store["asset"] = int(upload.json()["id"])
        imported = await owner.post(f"{API}/imports", files=csv_file(world, "seed"))
        assert imported.status_code == 202, imported.text
        store["import"] = int(imported.json()["id"])
        mail = await owner.post(
            f"{API}/emails", json={**email_body(world, "seed"), "kind": "broadcast"}
        )
        assert mail.status_code == 201, mail.text
        store["broadcast_email"] = int(mail.json()["id"])
        # Publishing is not theirs to do: the administrator publishes Alice's broadcast email.
        published = await admin.patch(
            f"{API}/emails/{store['broadcast_email']}", json={"is_published": True}
        )
        assert published.status_code == 200, published.text
        broadcast = await owner.post(
            f"{API}/broadcasts",
            json={
                "name": "seed",
                "email_id": store["broadcast_email"],
                "segment_ids": [store["segment"]],
            },
        )
        assert broadcast.status_code == 201, broadcast.text
        store["broadcast"] = int(broadcast.json()["id"])
    # What has no owner is the administrator's.
    for kind, path, body in (
        ("field", "fields", lambda w, r: {"label": unique(r, "Field"), "type": "text"}),
        ("stage", "stages", name_body("Stage")),
        ("role", "roles", name_body("Role")),
    ):
        response = await admin.post(f"{API}/{path}", json=body(world, "seed"))
        assert response.status_code == 201, (kind, response.text)
        world.others[kind] = int(response.json()["id"])
    # Someone else (an administrator's own profile is theirs to edit, whatever the role).
    world.others["user"] = await harness.create_user("bystander@example.com", role="Analyst")
    for _ in range(4):
        spare = await alice.post(f"{API}/contacts", json=contact_body(world, "spare"))
        world.spares.append(int(spare.json()["id"]))
    export = await admin.get(f"{API}/campaigns/{world.own['campaign']}/export")
    assert export.status_code == 200, export.text
    world.export = export.content
    tagged = await admin.post(
        f"{API}/contacts/bulk",
        json={"contact_ids": [world.others["contact"]], "action": "add_tags", "tags": ["seed"]},
    )
    assert tagged.status_code == 200, tagged.text
    tags = (await admin.get(f"{API}/tags")).json()
    world.others["tag"] = next(t["id"] for t in tags["data"] if t["name"] == "seed")
    return world


@pytest.mark.timeout(600)
@pytest.mark.parametrize("role", sorted(ROLES))
async def test_the_matrix(harness: Harness, admin: httpx.AsyncClient, role: str) -> None:
    world = await _seed(harness, admin)
    client = world.clients[role]
    problems: list[str] = []
    for (method, path), rule in sorted(ROUTES.items(), key=lambda item: item[0][0] == "DELETE"):
        if rule.action in ("public",) or not path.startswith(API):
            continue
        targets: list[Target | None] = [None]
        if rule.kind in world.own:
            targets = ["own", "others"]
        elif rule.kind in world.others:
            targets = ["others"]
        for target in targets:
            want = expected(rule, role, target)
            got = await _call(world, client, method, path, rule, role, target)
            if got is None:
                continue
            status, body = got
            ok = 200 <= status < 300 if want == "2xx" else status == want
            if want == "2xx" and rule.past_checks is not None:
                ok = ok or (status == rule.past_checks[0] and rule.past_checks[1] in body)
            if not ok:
                problems.append(
                    f"{method} {path} [{target}]: want {want}, got {status} {body[:160]}"
                )
            elif rule.action == "list" and rule.kind and rule.rows and want == "2xx":
                problems += _leaks(world, role, rule, path, body)
    assert not problems, "\n".join(problems)


def _leaks(world: World, role: str, rule: Rule, path: str, body: str) -> list[str]:
    """A list shows another's row only to whoever may see others'."""
    rows = json.loads(body)[rule.rows]
    ids = {row["id"] for row in rows}
    problems = []
    if not actor_for(role).can(rule.resource, Perm.VIEW_OTHERS) and world.others[rule.kind] in ids:
        problems.append(f"GET {path}: lists another's {rule.kind} to {role}")
    if world.own.get(rule.kind) is not None and world.own[rule.kind] not in ids:
        problems.append(f"GET {path}: does not list {role}'s view of Alice's {rule.kind}")
    return problems


async def _call(
    world: World,
    client: httpx.AsyncClient,
    method: str,
    path: str,
    rule: Rule,
    role: str,
    target: Target | None,
) -> tuple[int, str] | None:
    params: dict[str, Any] = {}
    world.current = target or "own"
    names = re.findall(r"\{([a-z_]+)\}", path)
    if rule.kind and target is not None and names:
        owner = world.clients["OwnOnly"] if target == "own" else world.admin
        value = (
            await rule.fresh(world, owner)
            if rule.fresh is not None
            else world.target(rule.kind, target)
        )
        params[names[0]] = value
    if rule.extra is not None:
        params.update(rule.extra(world, target or "own"))
    concrete = path.format(**params) if params else path
    if "{" in concrete:
        return None  # a route whose object this table does not seed (checked elsewhere)
    kwargs: dict[str, Any] = {}
    if rule.files is not None:
        kwargs["files"] = rule.files(world, role)
        if rule.body is not None:
            kwargs["data"] = rule.body(world, role)
    elif rule.body is not None:
        kwargs["json"] = rule.body(world, role)
    response = await client.request(method, concrete, **kwargs)
    return response.status_code, response.text
