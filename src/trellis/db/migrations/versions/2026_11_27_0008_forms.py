"""forms

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 06:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import trellis.db.types

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _json() -> Any:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "forms",
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("alias", sa.String(length=60), nullable=False),
        sa.Column("identify_by", sa.String(length=100), nullable=False),
        sa.Column("fields", _json(), nullable=False),
        sa.Column("actions", _json(), nullable=False),
        sa.Column("success", _json(), nullable=False),
        sa.Column("allowed_origins", _json(), nullable=False),
        sa.Column("is_published", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", BIG_ID, nullable=True),
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("created_at", trellis.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", trellis.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_forms_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forms")),
        sa.UniqueConstraint("uuid", name=op.f("uq_forms_uuid")),
    )
    with op.batch_alter_table("forms", schema=None) as batch_op:
        batch_op.create_index("ix_forms_alias", ["alias"], unique=True)
        batch_op.create_index("ix_forms_name", ["name"], unique=False)

    op.create_table(
        "form_submissions",
        sa.Column("form_id", BIG_ID, nullable=False),
        sa.Column("contact_id", BIG_ID, nullable=True),
        sa.Column("values", _json(), nullable=False),
        sa.Column("consent_text", sa.Text(), nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("user_agent", sa.String(length=500), nullable=False),
        sa.Column("page_url", sa.String(length=2000), nullable=True),
        sa.Column("created_at", trellis.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_form_submissions_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["form_id"],
            ["forms.id"],
            name=op.f("fk_form_submissions_form_id_forms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_submissions")),
    )
    with op.batch_alter_table("form_submissions", schema=None) as batch_op:
        batch_op.create_index("ix_form_submissions_form_id_id", ["form_id", "id"], unique=False)
        batch_op.create_index(
            "ix_form_submissions_contact_id_id", ["contact_id", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("form_submissions", schema=None) as batch_op:
        batch_op.drop_index("ix_form_submissions_contact_id_id")
        batch_op.drop_index("ix_form_submissions_form_id_id")
    op.drop_table("form_submissions")
    with op.batch_alter_table("forms", schema=None) as batch_op:
        batch_op.drop_index("ix_forms_name")
        batch_op.drop_index("ix_forms_alias")
    op.drop_table("forms")
