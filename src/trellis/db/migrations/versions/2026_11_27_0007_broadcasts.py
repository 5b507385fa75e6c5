"""broadcasts: segment broadcasts, their segments and their recipients

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 06:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import trellis.db.types

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "broadcasts",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email_id", BIG_ID, nullable=False),
        sa.Column("audience_mode", sa.String(length=8), nullable=False),
        sa.Column("over_cap", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("start_at", trellis.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("stop_at", trellis.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("started_at", trellis.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", trellis.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", trellis.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", BIG_ID, nullable=True),
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("created_at", trellis.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", trellis.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_broadcasts_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["email_id"],
            ["emails.id"],
            name=op.f("fk_broadcasts_email_id_emails"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcasts")),
    )
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.create_index("ix_broadcasts_status_start_at", ["status", "start_at"], unique=False)

    op.create_table(
        "broadcast_segments",
        sa.Column("broadcast_id", BIG_ID, nullable=False),
        sa.Column("segment_id", BIG_ID, nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["broadcast_id"],
            ["broadcasts.id"],
            name=op.f("fk_broadcast_segments_broadcast_id_broadcasts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["segments.id"],
            name=op.f("fk_broadcast_segments_segment_id_segments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("broadcast_id", "segment_id", name=op.f("pk_broadcast_segments")),
    )
    with op.batch_alter_table("broadcast_segments", schema=None) as batch_op:
        batch_op.create_index("ix_broadcast_segments_segment_id", ["segment_id"], unique=False)

    op.create_table(
        "broadcast_recipients",
        sa.Column("broadcast_id", BIG_ID, nullable=False),
        sa.Column("contact_id", BIG_ID, nullable=False),
        sa.Column("added_at", trellis.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("send_id", BIG_ID, nullable=True),
        sa.Column("skip_reason", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["broadcast_id"],
            ["broadcasts.id"],
            name=op.f("fk_broadcast_recipients_broadcast_id_broadcasts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_broadcast_recipients_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("broadcast_id", "contact_id", name=op.f("pk_broadcast_recipients")),
    )
    with op.batch_alter_table("broadcast_recipients", schema=None) as batch_op:
        batch_op.create_index(
            "ix_broadcast_recipients_broadcast_id_send_id",
            ["broadcast_id", "send_id"],
            unique=False,
        )
        batch_op.create_index("ix_broadcast_recipients_contact_id", ["contact_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("broadcast_recipients", schema=None) as batch_op:
        batch_op.drop_index("ix_broadcast_recipients_contact_id")
        batch_op.drop_index("ix_broadcast_recipients_broadcast_id_send_id")
    op.drop_table("broadcast_recipients")
    with op.batch_alter_table("broadcast_segments", schema=None) as batch_op:
        batch_op.drop_index("ix_broadcast_segments_segment_id")
    op.drop_table("broadcast_segments")
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.drop_index("ix_broadcasts_status_start_at")
    op.drop_table("broadcasts")
