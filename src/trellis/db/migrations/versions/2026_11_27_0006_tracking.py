"""tracking: opens, clicks, links, per-email aggregates, categories and opt-outs

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 04:22:43.865370
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import trellis.db.types

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contact_category_opt_outs",
        sa.Column(
            "contact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("category", sa.String(length=60), nullable=False),
        sa.Column("created_at", trellis.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_contact_category_opt_outs_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "contact_id", "category", name=op.f("pk_contact_category_opt_outs")
        ),
    )
    op.create_table(
        "email_categories",
        sa.Column("email_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("category", sa.String(length=60), nullable=False),
        sa.ForeignKeyConstraint(
            ["email_id"],
            ["emails.id"],
            name=op.f("fk_email_categories_email_id_emails"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("email_id", name=op.f("pk_email_categories")),
    )
    with op.batch_alter_table("email_categories", schema=None) as batch_op:
        batch_op.create_index("ix_email_categories_category", ["category"], unique=False)

    op.create_table(
        "email_links",
        sa.Column("email_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("url_key", sa.String(length=64), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("clicks", sa.Integer(), nullable=False),
        sa.Column("unique_clicks", sa.Integer(), nullable=False),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["email_id"],
            ["emails.id"],
            name=op.f("fk_email_links_email_id_emails"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_links")),
    )
    with op.batch_alter_table("email_links", schema=None) as batch_op:
        batch_op.create_index("uq_email_links_email_id", ["email_id", "url_key"], unique=True)

    op.create_table(
        "email_stats",
        sa.Column("email_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("opens", sa.Integer(), nullable=False),
        sa.Column("unique_opens", sa.Integer(), nullable=False),
        sa.Column("clicks", sa.Integer(), nullable=False),
        sa.Column("unique_clicks", sa.Integer(), nullable=False),
        sa.Column("unsubscribes", sa.Integer(), nullable=False),
        sa.Column("delivered", sa.Integer(), nullable=False),
        sa.Column("bounces", sa.Integer(), nullable=False),
        sa.Column("hard_bounces", sa.Integer(), nullable=False),
        sa.Column("complaints", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["email_id"],
            ["emails.id"],
            name=op.f("fk_email_stats_email_id_emails"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("email_id", name=op.f("pk_email_stats")),
    )
    op.create_table(
        "email_send_links",
        sa.Column("send_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("link_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("first_clicked_at", trellis.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["link_id"],
            ["email_links.id"],
            name=op.f("fk_email_send_links_link_id_email_links"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["send_id"],
            ["email_sends.id"],
            name=op.f("fk_email_send_links_send_id_email_sends"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("send_id", "link_id", name=op.f("pk_email_send_links")),
    )
    with op.batch_alter_table("email_send_links", schema=None) as batch_op:
        batch_op.create_index("ix_email_send_links_link_id", ["link_id"], unique=False)

    op.create_table(
        "email_send_tracking",
        sa.Column("send_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("email_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "contact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("opens", sa.Integer(), nullable=False),
        sa.Column("first_opened_at", trellis.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_opened_at", trellis.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("clicks", sa.Integer(), nullable=False),
        sa.Column("first_clicked_at", trellis.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_clicked_at", trellis.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("unsubscribed_at", trellis.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", trellis.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("bounced_at", trellis.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("bounce_type", sa.String(length=8), nullable=True),
        sa.Column("bounce_reason", sa.Text(), nullable=True),
        sa.Column("complained_at", trellis.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_email_send_tracking_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["email_id"],
            ["emails.id"],
            name=op.f("fk_email_send_tracking_email_id_emails"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["send_id"],
            ["email_sends.id"],
            name=op.f("fk_email_send_tracking_send_id_email_sends"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("send_id", name=op.f("pk_email_send_tracking")),
    )
    with op.batch_alter_table("email_send_tracking", schema=None) as batch_op:
        batch_op.create_index(
            "ix_email_send_tracking_contact_id_email_id", ["contact_id", "email_id"], unique=False
        )
        batch_op.create_index("ix_email_send_tracking_email_id", ["email_id"], unique=False)

    op.create_table(
        "tracking_hits",
        sa.Column("send_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("email_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "contact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("link_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("occurred_at", trellis.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["send_id"],
            ["email_sends.id"],
            name=op.f("fk_tracking_hits_send_id_email_sends"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracking_hits")),
    )
    with op.batch_alter_table("tracking_hits", schema=None) as batch_op:
        batch_op.create_index(
            "ix_tracking_hits_contact_id_occurred_at", ["contact_id", "occurred_at"], unique=False
        )
        batch_op.create_index("ix_tracking_hits_send_id", ["send_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tracking_hits", schema=None) as batch_op:
        batch_op.drop_index("ix_tracking_hits_send_id")
        batch_op.drop_index("ix_tracking_hits_contact_id_occurred_at")

    op.drop_table("tracking_hits")
    with op.batch_alter_table("email_send_tracking", schema=None) as batch_op:
        batch_op.drop_index("ix_email_send_tracking_email_id")
        batch_op.drop_index("ix_email_send_tracking_contact_id_email_id")

    op.drop_table("email_send_tracking")
    with op.batch_alter_table("email_send_links", schema=None) as batch_op:
        batch_op.drop_index("ix_email_send_links_link_id")

    op.drop_table("email_send_links")
    op.drop_table("email_stats")
    with op.batch_alter_table("email_links", schema=None) as batch_op:
        batch_op.drop_index("uq_email_links_email_id")

    op.drop_table("email_links")
    with op.batch_alter_table("email_categories", schema=None) as batch_op:
        batch_op.drop_index("ix_email_categories_category")

    op.drop_table("email_categories")
    op.drop_table("contact_category_opt_outs")
