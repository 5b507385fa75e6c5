"""portability: stable uuids on every exportable entity, and the record of campaign imports

Segments, emails, custom fields, stages, projects and landing pages get a ``uuid`` (campaigns,
their steps, forms and assets had one): the key that ties the entities of an export file together and recognises them
when the file is imported again. Existing rows get a fresh uuid each.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27 07:20:00
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import trellis.db.types

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TABLES = ("segments", "emails", "custom_fields", "stages", "projects", "pages")


def _json() -> Any:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    bind = op.get_bind()
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("uuid", sa.String(length=36), nullable=True))
        # Configuration tables (hundreds of rows at most): one fresh uuid per row.
        ids = [row[0] for row in bind.execute(sa.text(f"SELECT id FROM {table}"))]  # noqa: S608
        if ids:
            bind.execute(
                sa.text(f"UPDATE {table} SET uuid = :uuid WHERE id = :id"),  # noqa: S608
                [{"id": id_, "uuid": str(uuid.uuid4())} for id_ in ids],
            )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("uuid", existing_type=sa.String(length=36), nullable=False)
            batch_op.create_unique_constraint(f"uq_{table}_uuid", ["uuid"])

    op.create_table(
        "campaign_imports",
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("format_version", sa.Integer(), nullable=False),
        sa.Column("exported_by", sa.String(length=40), nullable=False),
        sa.Column("summary", _json(), nullable=False),
        sa.Column("created_by_id", BIG_ID, nullable=True),
        sa.Column("created_at", trellis.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("undone_at", trellis.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_campaign_imports_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_imports")),
    )
    with op.batch_alter_table("campaign_imports", schema=None) as batch_op:
        batch_op.create_index("ix_campaign_imports_created_at", ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("campaign_imports", schema=None) as batch_op:
        batch_op.drop_index("ix_campaign_imports_created_at")
    op.drop_table("campaign_imports")
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"uq_{table}_uuid", type_="unique")
            batch_op.drop_column("uuid")
