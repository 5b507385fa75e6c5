"""Custom fields: defined at run time, stored in each row's JSON, filterable in SQL."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from trellis.actor import Actor, Perm
from trellis.db.models import CustomField
from trellis.domains.audit.service import AuditAction, audit, diff
from trellis.domains.fields.repository import FieldRepository
from trellis.domains.fields.schemas import FieldCreate, FieldRead, FieldUpdate
from trellis.domains.fields.types import (
    CORE_COMPANY_ALIASES,
    CORE_CONTACT_FIELDS,
    RESERVED_ALIASES,
    FieldType,
    InvalidValue,
    coerce,
)
from trellis.errors import Conflict, FieldError, NotFound, ValidationFailed
from trellis.kit.versions import check_version
from trellis.wiring import Slot

MAX_FIELDS_PER_OBJECT = 500

# Other domains say whether a field is in use (segment filters, forms, campaigns) so that
# deleting it is refused with the list of users instead of silently breaking them.
FieldUsage = Callable[[AsyncSession, str, str], Awaitable[list[str]]]


@dataclass(frozen=True)
class FieldSpec:
    alias: str
    label: str
    type: FieldType
    is_core: bool
    is_identifier: bool = False
    required: bool = False
    default_value: Any = None
    options: tuple[str, ...] = ()
    # Whether an anonymous request (a public form post) may replace the value a contact
    # already has. When not, such a request only fills the field while it is empty: whoever
    # knows someone's email address must not be able to rewrite that person's data.
    publicly_updatable: bool = False

    def coerce(self, value: Any) -> Any:
        return coerce(self.type, value, options=self.options)


@dataclass(frozen=True)
class FieldCatalog:
    """Every field of an object, core and custom, by alias: read once per batch of work."""

    object: str
    fields: Mapping[str, FieldSpec] = field(default_factory=dict)

    def get(self, alias: str) -> FieldSpec | None:
        return self.fields.get(alias)

    @property
    def custom(self) -> list[FieldSpec]:
        return [f for f in self.fields.values() if not f.is_core]

    @property
    def fill_only(self) -> frozenset[str]:
        """The fields an anonymous request may fill but not overwrite."""
        return frozenset(f.alias for f in self.fields.values() if not f.publicly_updatable)

    @property
    def identifiers(self) -> list[FieldSpec]:
        return [f for f in self.fields.values() if f.is_identifier]

    def by_label(self) -> dict[str, FieldSpec]:
        return {f.label.strip().lower(): f for f in self.fields.values()}


def _spec(custom: CustomField) -> FieldSpec:
    return FieldSpec(
        alias=custom.alias,
        label=custom.label,
        type=FieldType(custom.type),
        is_core=False,
        is_identifier=custom.is_identifier,
        required=custom.required,
        default_value=custom.default_value,
        options=tuple(o["value"] for o in custom.options),
        publicly_updatable=custom.publicly_updatable,
    )


def slugify(label: str) -> str:
    ascii_label = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_label.lower()).strip("_")
    if not slug or not slug[0].isalpha():
        slug = f"field_{slug}".rstrip("_")
    return slug[:64]


def _snapshot(custom: CustomField) -> dict[str, Any]:
    return {
        "label": custom.label,
        "type": custom.type,
        "group": custom.group,
        "default_value": custom.default_value,
        "required": custom.required,
        "is_identifier": custom.is_identifier,
        "options": [o["value"] for o in custom.options],
        "position": custom.position,
        "publicly_updatable": custom.publicly_updatable,
    }


def core_field_reads() -> list[FieldRead]:
    return [
        FieldRead(
            id=None,
            object="contact",
            alias=f.alias,
            label=f.label,
            type=f.type,
            group=f.group,
            required=False,
            is_identifier=f.is_identifier,
            is_core=True,
            publicly_updatable=f.publicly_updatable,
            position=index,
        )
        for index, f in enumerate(CORE_CONTACT_FIELDS)
    ]


class FieldService:
    usage_checks: Slot[Sequence[FieldUsage]] = Slot()

    def configure(self, *, usage_checks: Sequence[FieldUsage]) -> None:
        self.usage_checks = tuple(usage_checks)

    async def catalog(self, session: AsyncSession, object_: str = "contact") -> FieldCatalog:
        specs: dict[str, FieldSpec] = {}
        if object_ == "contact":
            for core in CORE_CONTACT_FIELDS:
                specs[core.alias] = FieldSpec(
                    alias=core.alias,
                    label=core.label,
                    type=core.type,
                    is_core=True,
                    is_identifier=core.is_identifier,
                    publicly_updatable=core.publicly_updatable,
                )
        for custom in await FieldRepository(session).for_object(object_):
            specs[custom.alias] = _spec(custom)
        return FieldCatalog(object=object_, fields=specs)

    async def list_fields(
        self, session: AsyncSession, *, actor: Actor, object_: str
    ) -> list[FieldRead]:
        # Everyone who may see contacts needs to know their fields.
        if not (actor.can("fields", Perm.VIEW_OTHERS) or actor.can_view_any("contacts")):
            actor.require("fields", Perm.VIEW_OTHERS)
        custom = [
            FieldRead.model_validate(f) for f in await FieldRepository(session).for_object(object_)
        ]
        return (core_field_reads() if object_ == "contact" else []) + custom

    async def get(self, session: AsyncSession, field_id: int, *, actor: Actor) -> CustomField:
        # Everyone who may see contacts needs to know their fields.
        if not (actor.can("fields", Perm.VIEW_OTHERS) or actor.can_view_any("contacts")):
            actor.require("fields", Perm.VIEW_OTHERS)
        custom = await FieldRepository(session).get(field_id)
        if custom is None:
            raise NotFound(f"No custom field with id {field_id}.")
        return custom

    def _check_default(self, field_type: FieldType, default: Any, options: list[str]) -> Any:
        try:
            return coerce(field_type, default, options=options)
        except InvalidValue as exc:
            raise ValidationFailed(
                "The default value does not fit the field.",
                [FieldError("/default_value", str(exc), "invalid_value")],
            ) from None

    async def create(
        self, session: AsyncSession, *, data: FieldCreate, actor: Actor, now: datetime
    ) -> CustomField:
        actor.require("fields", Perm.CREATE)
        repo = FieldRepository(session)
        alias = data.alias or slugify(data.label)
        reserved = RESERVED_ALIASES if data.object == "contact" else CORE_COMPANY_ALIASES
        if alias in reserved:
            raise Conflict(
                f"The alias {alias!r} belongs to a built-in field; choose another.",
                [FieldError("/alias", "Reserved for a built-in field.", "reserved")],
            )
        if await repo.by_alias(data.object, alias) is not None:
            raise Conflict(
                f"A {data.object} field with the alias {alias!r} exists.",
                [FieldError("/alias", "This alias is taken.", "duplicate")],
            )
        if await repo.count_for_object(data.object) >= MAX_FIELDS_PER_OBJECT:
            raise Conflict(f"At most {MAX_FIELDS_PER_OBJECT} custom fields per object.")
        options = [o.value for o in data.options]
        if data.type in (FieldType.SELECT, FieldType.MULTISELECT) and not options:
            raise ValidationFailed(
                "Select fields need choices.",
                [FieldError("/options", "Give at least one choice.", "required")],
            )
        if data.is_identifier and data.type not in (
            FieldType.TEXT,
            FieldType.EMAIL,
            FieldType.PHONE,
            FieldType.NUMBER,
        ):
            raise ValidationFailed(
                "Only text, email, phone and number fields can identify a contact.",
                [FieldError("/is_identifier", "Not possible for this type.", "invalid")],
            )
        default = self._check_default(data.type, data.default_value, options)
        custom = CustomField(
            object=data.object,
            alias=alias,
            label=data.label,
            type=data.type.value,
            group=data.group,
            default_value=default,
            required=data.required,
            is_identifier=data.is_identifier,
            publicly_updatable=data.publicly_updatable,
            options=[{"value": o.value, "label": o.label or o.value} for o in data.options],
            position=data.position,
            created_at=now,
            updated_at=now,
        )
        repo.add(custom)
        await session.flush()
        await audit.record(
            session,
            actor=actor,
            action=AuditAction.CREATE,
            entity_type="field",
            entity_id=custom.id,
            entity_name=f"{custom.object}.{custom.alias}",
            changes=diff({}, _snapshot(custom)),
            now=now,
        )
        return custom

    async def update(
        self,
        session: AsyncSession,
        field_id: int,
        *,
        data: FieldUpdate,
        actor: Actor,
        now: datetime,
        expected_version: int | None,
    ) -> CustomField:
        actor.require("fields", Perm.EDIT_OTHERS)
        custom = await FieldRepository(session).get(field_id)
        if custom is None:
            raise NotFound(f"No custom field with id {field_id}.")
        check_version(custom, expected_version)
        before = _snapshot(custom)
        changes = data.model_dump(exclude_unset=True)
        field_type = FieldType(custom.type)
        if changes.get("options") is not None:
            custom.options = [
                {"value": o["value"], "label": o.get("label") or o["value"]}
                for o in changes.pop("options")
            ]
        options = [o["value"] for o in custom.options]
        if "default_value" in changes:
            custom.default_value = self._check_default(
                field_type, changes.pop("default_value"), options
            )
        for name, value in changes.items():
            if value is not None:
                setattr(custom, name, value)
        after = _snapshot(custom)
        if after != before:
            custom.version += 1
            custom.updated_at = now
            await session.flush()
            await audit.record(
                session,
                actor=actor,
                action=AuditAction.UPDATE,
                entity_type="field",
                entity_id=custom.id,
                entity_name=f"{custom.object}.{custom.alias}",
                changes=diff(before, after),
                now=now,
            )
        return custom

    async def delete(
        self, session: AsyncSession, field_id: int, *, actor: Actor, now: datetime
    ) -> None:
        actor.require("fields", Perm.DELETE_OTHERS)
        repo = FieldRepository(session)
        custom = await repo.get(field_id)
        if custom is None:
            raise NotFound(f"No custom field with id {field_id}.")
        users = [
            u
            for check in self.usage_checks
            for u in await check(session, custom.object, custom.alias)
        ]
        if users:
            raise Conflict(
                f"The field {custom.alias!r} is used by: {', '.join(users)}. Change those first.",
                extra={"used_by": users},
            )
        snapshot = _snapshot(custom)
        await repo.drop_values(custom.object, custom.alias)
        await repo.delete(custom)
        await session.flush()
        await audit.record(
            session,
            actor=actor,
            action=AuditAction.DELETE,
            entity_type="field",
            entity_id=field_id,
            entity_name=f"{custom.object}.{custom.alias}",
            changes=diff(snapshot, {}),
            now=now,
        )


field_service = FieldService()
