"""bulk tables without foreign keys: the journal, memberships, tags and points history

The tables the engine and the segment rebuild write a million rows at a time lose their
foreign keys (each one a trigger per row on PostgreSQL); deletions clean them up (ADR 0009).
Campaign members get an index for counting a campaign's members by status.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 07:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> (column, referred table, referred column)
FOREIGN_KEYS: dict[str, list[tuple[str, str, str]]] = {
    "campaign_event_log": [("contact_id", "contacts", "id"), ("event_id", "campaign_events", "id")],
    "campaign_members": [("campaign_id", "campaigns", "id"), ("contact_id", "contacts", "id")],
    "segment_members": [("segment_id", "segments", "id"), ("contact_id", "contacts", "id")],
    "segment_membership_log": [("segment_id", "segments", "id"), ("contact_id", "contacts", "id")],
    "contact_tags": [("contact_id", "contacts", "id"), ("tag_id", "tags", "id")],
    "points_history": [("contact_id", "contacts", "id")],
}


def upgrade() -> None:
    for table, keys in FOREIGN_KEYS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, referred, _ in keys:
                batch_op.drop_constraint(f"fk_{table}_{column}_{referred}", type_="foreignkey")
    op.create_index(
        "ix_campaign_members_campaign_id_status", "campaign_members", ["campaign_id", "status"]
    )


def downgrade() -> None:
    op.drop_index("ix_campaign_members_campaign_id_status", table_name="campaign_members")
    # Rows whose contact, campaign step, segment or tag is gone would refuse the keys.
    for table, keys in FOREIGN_KEYS.items():
        for column, referred, referred_column in keys:
            op.execute(
                f"DELETE FROM {table} WHERE {column} NOT IN "  # noqa: S608 (fixed names)
                f"(SELECT {referred_column} FROM {referred})"
            )
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, referred, referred_column in keys:
                batch_op.create_foreign_key(
                    f"fk_{table}_{column}_{referred}",
                    referred,
                    [column],
                    [referred_column],
                    ondelete="CASCADE",
                )
