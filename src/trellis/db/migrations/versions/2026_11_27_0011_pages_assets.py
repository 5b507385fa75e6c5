"""landing pages and assets

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 07:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import trellis.db.types

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _times() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at", trellis.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", trellis.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "pages",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("language", sa.String(length=35), nullable=False),
        sa.Column("meta_description", sa.String(length=500), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("css", sa.Text(), nullable=False),
        sa.Column("is_published", sa.Boolean(), nullable=False),
        sa.Column("content_version", sa.Integer(), nullable=False),
        sa.Column("created_by_id", BIG_ID, nullable=True),
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        *_times(),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_pages_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pages")),
    )
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.create_index("ix_pages_slug", ["slug"], unique=True)
        batch_op.create_index("ix_pages_name", ["name"], unique=False)

    op.create_table(
        "assets",
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("storage_key", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("extension", sa.String(length=10), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("is_published", sa.Boolean(), nullable=False),
        sa.Column("gate_form_id", BIG_ID, nullable=True),
        sa.Column("created_by_id", BIG_ID, nullable=True),
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        *_times(),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_assets_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["gate_form_id"],
            ["forms.id"],
            name=op.f("fk_assets_gate_form_id_forms"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assets")),
        sa.UniqueConstraint("uuid", name=op.f("uq_assets_uuid")),
    )
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.create_index("ix_assets_slug", ["slug"], unique=True)
        batch_op.create_index("ix_assets_name", ["name"], unique=False)

    op.create_table(
        "asset_downloads",
        sa.Column("asset_id", BIG_ID, nullable=False),
        sa.Column("contact_id", BIG_ID, nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("created_at", trellis.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["assets.id"],
            name=op.f("fk_asset_downloads_asset_id_assets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_asset_downloads_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset_downloads")),
    )
    with op.batch_alter_table("asset_downloads", schema=None) as batch_op:
        batch_op.create_index("ix_asset_downloads_asset_id_id", ["asset_id", "id"], unique=False)
        batch_op.create_index(
            "ix_asset_downloads_contact_id_created_at",
            ["contact_id", "created_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("asset_downloads", schema=None) as batch_op:
        batch_op.drop_index("ix_asset_downloads_contact_id_created_at")
        batch_op.drop_index("ix_asset_downloads_asset_id_id")
    op.drop_table("asset_downloads")
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.drop_index("ix_assets_name")
        batch_op.drop_index("ix_assets_slug")
    op.drop_table("assets")
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.drop_index("ix_pages_name")
        batch_op.drop_index("ix_pages_slug")
    op.drop_table("pages")
