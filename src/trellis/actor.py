"""Who is acting, and what they may do.

Every write is attributed to an :class:`Actor` (a user, an API token or the system itself) for
the audit log, and every permission check goes through :meth:`Actor.require`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from trellis.errors import PermissionDenied


class Perm(StrEnum):
    VIEW_OWN = "view_own"
    VIEW_OTHERS = "view_others"
    CREATE = "create"
    EDIT_OWN = "edit_own"
    EDIT_OTHERS = "edit_others"
    DELETE_OWN = "delete_own"
    DELETE_OTHERS = "delete_others"
    PUBLISH = "publish"
    ASSOCIATE = "associate"


PERMISSION_LABELS: dict[Perm, str] = {
    Perm.VIEW_OWN: "View own",
    Perm.VIEW_OTHERS: "View others'",
    Perm.CREATE: "Create",
    Perm.EDIT_OWN: "Edit own",
    Perm.EDIT_OTHERS: "Edit others'",
    Perm.DELETE_OWN: "Delete own",
    Perm.DELETE_OTHERS: "Delete others'",
    Perm.PUBLISH: "Publish",
    Perm.ASSOCIATE: "Associate with projects",
}

VIEW_PERMS = frozenset({Perm.VIEW_OWN, Perm.VIEW_OTHERS})
_CRUD = (
    Perm.VIEW_OWN,
    Perm.VIEW_OTHERS,
    Perm.CREATE,
    Perm.EDIT_OWN,
    Perm.EDIT_OTHERS,
    Perm.DELETE_OWN,
    Perm.DELETE_OTHERS,
)


@dataclass(frozen=True)
class Resource:
    key: str
    label: str
    permissions: tuple[Perm, ...]
    # Administration resources are left out of the Marketer role.
    administration: bool = False


# The permission catalogue. A domain that adds a resource adds it here, so that the role
# editor, the built-in roles and token scopes all see the same list.
RESOURCES: tuple[Resource, ...] = (
    Resource("projects", "Projects", _CRUD),
    Resource("contacts", "Contacts", _CRUD),
    Resource(
        "fields",
        "Custom fields",
        (Perm.VIEW_OTHERS, Perm.CREATE, Perm.EDIT_OTHERS, Perm.DELETE_OTHERS),
    ),
    Resource("companies", "Companies", _CRUD),
    Resource(
        "stages", "Stages", (Perm.VIEW_OTHERS, Perm.CREATE, Perm.EDIT_OTHERS, Perm.DELETE_OTHERS)
    ),
    Resource("segments", "Segments", (*_CRUD, Perm.PUBLISH, Perm.ASSOCIATE)),
    Resource("campaigns", "Campaigns", (*_CRUD, Perm.PUBLISH, Perm.ASSOCIATE)),
    Resource("emails", "Emails", (*_CRUD, Perm.PUBLISH, Perm.ASSOCIATE)),
    Resource("forms", "Forms", (*_CRUD, Perm.PUBLISH, Perm.ASSOCIATE)),
    Resource("pages", "Landing pages", (*_CRUD, Perm.PUBLISH, Perm.ASSOCIATE)),
    Resource("assets", "Assets", (*_CRUD, Perm.PUBLISH, Perm.ASSOCIATE)),
    Resource("imports", "Contact imports", (Perm.VIEW_OWN, Perm.VIEW_OTHERS, Perm.CREATE)),
    Resource("audit_log", "Audit log", (Perm.VIEW_OTHERS,)),
    Resource("users", "Users", _CRUD, administration=True),
    Resource("roles", "Roles", _CRUD, administration=True),
    Resource("api_tokens", "API tokens of other users", _CRUD, administration=True),
    Resource("settings", "Settings", (Perm.VIEW_OTHERS, Perm.EDIT_OTHERS), administration=True),
)
RESOURCE_KEYS = frozenset(r.key for r in RESOURCES)


def resource(key: str) -> Resource:
    for item in RESOURCES:
        if item.key == key:
            return item
    raise KeyError(key)


def marketer_permissions() -> dict[str, list[str]]:
    return {r.key: [p.value for p in r.permissions] for r in RESOURCES if not r.administration}


def analyst_permissions() -> dict[str, list[str]]:
    return {
        r.key: [p.value for p in r.permissions if p in VIEW_PERMS]
        for r in RESOURCES
        if not r.administration
    }


BUILTIN_ROLES: dict[str, tuple[str, bool]] = {
    "Administrator": ("Full access to everything, including users, roles and settings.", True),
    "Marketer": ("Builds and runs campaigns and their content; no administration.", False),
    "Analyst": ("Read-only access to marketing data and reports.", False),
}


def builtin_role_permissions(name: str) -> dict[str, list[str]]:
    if name == "Administrator":
        return {r.key: [p.value for p in r.permissions] for r in RESOURCES}
    if name == "Marketer":
        return marketer_permissions()
    return analyst_permissions()


def token_scope_allows(scopes: Iterable[str], resource_key: str, perm: Perm) -> bool:
    """Token scopes are ``<resource>:read`` / ``<resource>:write`` or ``*:read`` / ``*:write``.

    ``write`` includes ``read``. An empty scope list means the token acts with all of its
    user's permissions.
    """
    scope_set = set(scopes)
    if not scope_set:
        return True
    writes = {f"{resource_key}:write", "*:write"}
    if perm in VIEW_PERMS:
        return bool(scope_set & (writes | {f"{resource_key}:read", "*:read"}))
    return bool(scope_set & writes)


def valid_scope(scope: str) -> bool:
    name, _, level = scope.partition(":")
    return level in {"read", "write"} and (name == "*" or name in RESOURCE_KEYS)


ActorType = Literal["user", "token", "system"]


@dataclass(frozen=True)
class Actor:
    type: ActorType
    name: str
    user_id: int | None = None
    token_id: int | None = None
    is_admin: bool = False
    permissions: Mapping[str, frozenset[str]] = field(default_factory=dict)
    scopes: tuple[str, ...] = ()
    ip: str | None = None
    user_agent: str | None = None

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls(type="system", name=name, is_admin=True)

    def can(self, resource_key: str, perm: Perm) -> bool:
        if self.type == "token" and not token_scope_allows(self.scopes, resource_key, perm):
            return False
        if self.is_admin:
            return True
        return perm.value in self.permissions.get(resource_key, frozenset())

    def can_on(self, resource_key: str, own: Perm, others: Perm, owner_id: int | None) -> bool:
        """Own/others permission pairs: the owner needs ``own``, anyone else ``others``."""
        if owner_id is not None and owner_id == self.user_id and self.can(resource_key, own):
            return True
        return self.can(resource_key, others)

    def require(self, resource_key: str, perm: Perm) -> None:
        if not self.can(resource_key, perm):
            raise PermissionDenied(
                f"You lack the permission '{PERMISSION_LABELS[perm]}' on "
                f"{resource(resource_key).label.lower()}."
            )

    def require_on(self, resource_key: str, own: Perm, others: Perm, owner_id: int | None) -> None:
        if not self.can_on(resource_key, own, others, owner_id):
            self.require(resource_key, others)

    @property
    def may_manage_account(self) -> bool:
        """Whether this caller may manage its user's account (profile, password, tokens).

        A token with scopes was given for a narrow job (``contacts:read``); if it could
        change the password or mint and revoke tokens, whoever holds it would hold the
        account. Account self-service therefore needs a signed-in session, or a token
        without scopes (which acts with all of its user's rights anyway)."""
        return self.type != "token" or not self.scopes

    def require_account_access(self) -> None:
        if not self.may_manage_account:
            raise PermissionDenied(
                "A token with scopes cannot manage its user's account (profile, password, "
                "tokens); sign in, or use a token without scopes."
            )

    def can_view_any(self, resource_key: str) -> bool:
        return self.can(resource_key, Perm.VIEW_OWN) or self.can(resource_key, Perm.VIEW_OTHERS)

    def require_view_any(self, resource_key: str) -> None:
        """Viewing own or others' is enough (lists filter to what the actor may see)."""
        if not self.can_view_any(resource_key):
            self.require(resource_key, Perm.VIEW_OTHERS)
