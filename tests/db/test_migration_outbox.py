"""0015_outbox: a send kept twice in the outbox before the unique key keeps its first copy."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from tests.fixtures.database import DatabaseUnderTest
from trellis.db import migrate
from trellis.db.base import table_of
from trellis.db.models import Email, EmailSend, OutboxMessage
from trellis.db.session import create_engine

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def _kept(send_id: int | None, message_id: str, raw: str) -> dict[str, object]:
    return {
        "send_id": send_id,
        "message_id": message_id,
        "sender": "news@example.com",
        "recipients": ["ada@example.com"],
        "subject": "Hi",
        "raw": raw,
        "size": len(raw),
        "created_at": NOW,
    }


async def test_upgrade_keeps_the_first_copy_of_each_send(test_database: DatabaseUnderTest) -> None:
    url = test_database.url
    await migrate.downgrade(url, "0015_effects")
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            email_id = (
                await conn.execute(
                    table_of(Email)
                    .insert()
                    .values(name="Spring", subject="Hi", created_at=NOW, updated_at=NOW)
                    .returning(Email.id)
                )
            ).scalar_one()
            send = {
                "email_id": email_id,
                "email_version": 1,
                "to_address": "ada@example.com",
                "kind": "marketing",
                "source": "test",
                "status": "sent",
                "attempts": 1,
                "created_at": NOW,
            }
            send_ids = [
                (
                    await conn.execute(
                        table_of(EmailSend)
                        .insert()
                        .values(**send, message_id=f"<{n}@example.com>")
                        .returning(table_of(EmailSend).c.id)
                    )
                ).scalar_one()
                for n in (1, 2)
            ]
            await conn.execute(
                table_of(OutboxMessage).insert(),
                [
                    _kept(send_ids[0], "<1@example.com>", "first copy"),
                    _kept(send_ids[0], "<1@example.com>", "second copy"),
                    _kept(send_ids[1], "<2@example.com>", "only copy"),
                    _kept(None, "<3@example.com>", "send deleted"),
                    _kept(None, "<4@example.com>", "another send deleted"),
                ],
            )
        await migrate.upgrade(url)
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(OutboxMessage.send_id, OutboxMessage.raw).order_by(OutboxMessage.id)
                )
            ).all()
    finally:
        await engine.dispose()
    assert [tuple(r) for r in rows] == [
        (send_ids[0], "first copy"),
        (send_ids[1], "only copy"),
        (None, "send deleted"),
        (None, "another send deleted"),
    ]
