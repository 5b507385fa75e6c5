"""privacy: retention policy overrides, clean-up runs, the suppression list, consents

Revision ID: 0015_privacy
Revises: 0014
Create Date: 2026-12-07 17:40:00
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import trellis.db.types

revision: str = "0015_privacy"
down_revision: str | Sequence[str] | None = "0015_auth"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _json() -> Any:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _time() -> Any:
    return trellis.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "retention_policies",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=True),
        sa.Column("updated_at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_retention_policies")),
    )
    op.create_table(
        "cleanup_runs",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("policy", sa.String(length=40), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("started_at", _time(), nullable=False),
        sa.Column("finished_at", _time(), nullable=True),
        sa.Column("cutoff", _time(), nullable=False),
        sa.Column("rows", BIG_ID, nullable=False),
        sa.Column("details", _json(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cleanup_runs")),
    )
    op.create_index("ix_cleanup_runs_policy_id", "cleanup_runs", ["policy", "id"], unique=False)
    op.create_table(
        "privacy_suppressions",
        sa.Column("email_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("email_hash", name=op.f("pk_privacy_suppressions")),
    )
    op.create_table(
        "consents",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("contact_id", BIG_ID, nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("wording", sa.Text(), nullable=False),
        sa.Column("wording_version", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("source_id", BIG_ID, nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("occurred_at", _time(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_consents_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
    )
    op.create_index(
        "ix_consents_contact_id_purpose_id", "consents", ["contact_id", "purpose", "id"]
    )
    op.create_index("ix_consents_purpose", "consents", ["purpose"])
    op.create_index("ix_consents_occurred_at", "consents", ["occurred_at"])
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("anonymised_at", _time(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_column("anonymised_at")
    op.drop_index("ix_consents_occurred_at", table_name="consents")
    op.drop_index("ix_consents_purpose", table_name="consents")
    op.drop_index("ix_consents_contact_id_purpose_id", table_name="consents")
    op.drop_table("consents")
    op.drop_table("privacy_suppressions")
    op.drop_index("ix_cleanup_runs_policy_id", table_name="cleanup_runs")
    op.drop_table("cleanup_runs")
    op.drop_table("retention_policies")
