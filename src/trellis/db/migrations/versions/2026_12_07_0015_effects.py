"""claimed effects: a claim token on journal steps, the time a call was attempted, and a
lease row per campaign for its one dispatcher, and the claimed ranges of a campaign's intake
(ADR 0016)

Revision ID: 0015_effects
Revises: 0014
Create Date: 2026-12-07 17:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import trellis.db.types

revision: str = "0015_effects"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("campaign_event_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claim", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("attempted_at", trellis.db.types.UTCDateTime(timezone=True), nullable=True)
        )
    op.create_table(
        "campaign_leases",
        sa.Column("campaign_id", BIG_ID, nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("until", trellis.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("campaign_id", name=op.f("pk_campaign_leases")),
    )
    op.create_table(
        "campaign_intake_ranges",
        sa.Column("campaign_id", BIG_ID, nullable=False),
        sa.Column("source_id", BIG_ID, nullable=False),
        sa.Column("after_contact", BIG_ID, nullable=False),
        sa.Column("upto_contact", BIG_ID, nullable=False),
        sa.Column("claim", sa.String(length=64), nullable=True),
        sa.Column("until", trellis.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint(
            "campaign_id", "source_id", "after_contact", name=op.f("pk_campaign_intake_ranges")
        ),
    )


def downgrade() -> None:
    op.drop_table("campaign_intake_ranges")
    op.drop_table("campaign_leases")
    with op.batch_alter_table("campaign_event_log", schema=None) as batch_op:
        batch_op.drop_column("attempted_at")
        batch_op.drop_column("claim")
