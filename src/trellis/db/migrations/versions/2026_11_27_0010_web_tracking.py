"""web tracking: visitors and page hits

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 07:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import trellis.db.types

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "web_visitors",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("contact_id", BIG_ID, nullable=True),
        sa.Column("device", sa.String(length=10), nullable=False),
        sa.Column("first_seen_at", trellis.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", trellis.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("identified_at", trellis.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_web_visitors_contact_id_contacts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_visitors")),
    )
    with op.batch_alter_table("web_visitors", schema=None) as batch_op:
        batch_op.create_index("ix_web_visitors_contact_id", ["contact_id"], unique=False)

    op.create_table(
        "page_hits",
        sa.Column("visitor_id", sa.String(length=64), nullable=False),
        sa.Column("contact_id", BIG_ID, nullable=True),
        sa.Column("site", sa.String(length=100), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("url_hash", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("referrer", sa.Text(), nullable=False),
        sa.Column("utm_source", sa.String(length=200), nullable=True),
        sa.Column("utm_medium", sa.String(length=200), nullable=True),
        sa.Column("utm_campaign", sa.String(length=200), nullable=True),
        sa.Column("utm_term", sa.String(length=200), nullable=True),
        sa.Column("utm_content", sa.String(length=200), nullable=True),
        sa.Column("device", sa.String(length=10), nullable=False),
        sa.Column("created_at", trellis.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_page_hits_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_page_hits")),
    )
    with op.batch_alter_table("page_hits", schema=None) as batch_op:
        batch_op.create_index(
            "ix_page_hits_contact_id_created_at", ["contact_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_page_hits_url_hash_created_at", ["url_hash", "created_at"], unique=False
        )
        batch_op.create_index("ix_page_hits_visitor_id", ["visitor_id"], unique=False)
        batch_op.create_index("ix_page_hits_created_at", ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("page_hits", schema=None) as batch_op:
        batch_op.drop_index("ix_page_hits_created_at")
        batch_op.drop_index("ix_page_hits_visitor_id")
        batch_op.drop_index("ix_page_hits_url_hash_created_at")
        batch_op.drop_index("ix_page_hits_contact_id_created_at")
    op.drop_table("page_hits")
    with op.batch_alter_table("web_visitors", schema=None) as batch_op:
        batch_op.drop_index("ix_web_visitors_contact_id")
    op.drop_table("web_visitors")
