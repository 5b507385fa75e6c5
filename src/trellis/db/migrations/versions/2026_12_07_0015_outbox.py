"""outbox: a claim token on email sends, one kept message per send

Revision ID: 0015_outbox
Revises: 0014
Create Date: 2026-12-07 17:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_outbox"
down_revision: str | Sequence[str] | None = "0015_effects"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("email_sends", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claim_token", sa.String(length=64), nullable=True))
    # A send delivered twice before this revision kept two copies; the first one stays (the
    # copies are the same message: same send, same Message-ID).
    op.execute(
        "DELETE FROM email_outbox WHERE send_id IS NOT NULL AND id NOT IN ("
        "SELECT MIN(id) FROM email_outbox WHERE send_id IS NOT NULL GROUP BY send_id)"
    )
    with op.batch_alter_table("email_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_email_outbox_send_id")
        batch_op.create_index("uq_email_outbox_send_id", ["send_id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("email_outbox", schema=None) as batch_op:
        batch_op.drop_index("uq_email_outbox_send_id")
        batch_op.create_index("ix_email_outbox_send_id", ["send_id"], unique=False)
    with op.batch_alter_table("email_sends", schema=None) as batch_op:
        batch_op.drop_column("claim_token")
