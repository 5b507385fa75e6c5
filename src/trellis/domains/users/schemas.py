from __future__ import annotations

import functools
import zoneinfo
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from trellis.actor import (
    PERMISSION_LABELS,
    RESOURCE_KEYS,
    RESOURCES,
    Perm,
    resource,
    valid_scope,
)
from trellis.schemas import EntityId, InputModel


@functools.cache
def _known_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _timezone(value: str) -> str:
    if value not in _known_timezones():
        raise ValueError(f"unknown IANA timezone {value!r}")
    return value


def _email(value: str) -> str:
    return value.strip().lower()


def _permission_map(value: dict[str, list[str]]) -> dict[str, list[str]]:
    cleaned: dict[str, list[str]] = {}
    for key, perms in value.items():
        if key not in RESOURCE_KEYS:
            raise ValueError(f"unknown resource {key!r}")
        allowed = {p.value for p in resource(key).permissions}
        for perm in perms:
            if perm not in allowed:
                raise ValueError(f"permission {perm!r} does not apply to {key!r}")
        cleaned[key] = sorted(set(perms))
    return cleaned


def _scopes(value: list[str]) -> list[str]:
    for scope in value:
        if not valid_scope(scope):
            raise ValueError(
                f"invalid scope {scope!r}: use '<resource>:read', '<resource>:write' or '*:read'"
            )
    return sorted(set(value))


Timezone = Annotated[str, StringConstraints(max_length=64), AfterValidator(_timezone)]
Email = Annotated[EmailStr, AfterValidator(_email)]
Name = Annotated[str, StringConstraints(max_length=200)]
Locale = Annotated[
    str, StringConstraints(pattern=r"^[a-z]{2,3}([_-][A-Za-z0-9]{2,8})*$", max_length=35)
]
Password = Annotated[str, StringConstraints(min_length=1, max_length=1024, strip_whitespace=False)]
PermissionMap = Annotated[dict[str, list[str]], AfterValidator(_permission_map)]


class LoginRequest(InputModel):
    email: Annotated[str, StringConstraints(max_length=320)]
    password: Password


class SetupRequest(InputModel):
    email: Email
    name: Name = ""
    password: Password


class SetupStatus(BaseModel):
    needs_setup: bool


class PasswordChange(InputModel):
    current_password: Password
    new_password: Password
    revoke_tokens: bool = Field(
        default=False,
        description="Also revoke every API token of the account. Other browser sessions end "
        "in any case; tokens keep working unless this is set, so that programs using them "
        "do not stop because a person changed their password.",
    )


class RoleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str
    is_builtin: bool
    is_admin: bool
    permissions: dict[str, list[str]]
    created_at: datetime
    updated_at: datetime
    version: int


class RoleCreate(InputModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    description: Annotated[str, StringConstraints(max_length=2000)] = ""
    permissions: PermissionMap = Field(default_factory=dict)


class RoleUpdate(InputModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    description: Annotated[str, StringConstraints(max_length=2000)] | None = None
    permissions: PermissionMap | None = None


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    is_active: bool
    timezone: str
    locale: str
    role_id: EntityId
    role_name: str
    last_login_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int


class UserCreate(InputModel):
    email: Email
    name: Name = ""
    password: Password
    role_id: EntityId
    timezone: Timezone = "UTC"
    locale: Locale = "en"
    is_active: bool = True


class UserUpdate(InputModel):
    email: Email | None = None
    name: Name | None = None
    password: Password | None = None
    role_id: EntityId | None = None
    timezone: Timezone | None = None
    locale: Locale | None = None
    is_active: bool | None = None


class Me(BaseModel):
    user: UserRead
    role: RoleRead
    is_admin: bool
    permissions: dict[str, list[str]]


class TokenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None


class TokenCreated(TokenRead):
    token: str = Field(description="The secret. Shown once; only its hash is kept.")


class TokenCreate(InputModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    scopes: Annotated[list[str], AfterValidator(_scopes)] = Field(
        default_factory=list,
        description="Empty: the token may do whatever its user may. Otherwise "
        "'<resource>:read' / '<resource>:write' / '*:read' / '*:write'.",
        max_length=100,
    )
    expires_at: datetime | None = None


class ResourceInfo(BaseModel):
    key: str
    label: str
    permissions: list[str]


class PermissionInfo(BaseModel):
    key: str
    label: str


class PermissionCatalog(BaseModel):
    resources: list[ResourceInfo]
    permissions: list[PermissionInfo]


def permission_catalog() -> PermissionCatalog:
    return PermissionCatalog(
        resources=[
            ResourceInfo(key=r.key, label=r.label, permissions=[p.value for p in r.permissions])
            for r in RESOURCES
        ],
        permissions=[PermissionInfo(key=p.value, label=PERMISSION_LABELS[p]) for p in Perm],
    )
