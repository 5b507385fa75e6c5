"""The bounce mailbox: an IMAP folder that receives the delivery reports (DSNs) of bounced
messages, polled by a background service of ``serve``/``worker``."""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from trellis.clock import Clock
from trellis.db.session import Database
from trellis.domains.tracking.service import tracking_service

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImapConfig:
    host: str
    port: int = 993
    tls: str = "tls"  # tls | starttls | none
    user: str = ""
    password: str = ""
    mailbox: str = "INBOX"
    delete: bool = False
    batch: int = 200
    timeout_s: float = 60.0


ImapFactory = Callable[[ImapConfig], Any]


def connect(config: ImapConfig) -> Any:
    context = ssl.create_default_context()
    client: imaplib.IMAP4
    if config.tls == "tls":
        client = imaplib.IMAP4_SSL(
            config.host, config.port, ssl_context=context, timeout=config.timeout_s
        )
    else:
        client = imaplib.IMAP4(config.host, config.port, timeout=config.timeout_s)
        if config.tls == "starttls":
            client.starttls(ssl_context=context)
    client.login(config.user, config.password)
    return client


def fetch_unseen(config: ImapConfig, factory: ImapFactory = connect) -> list[tuple[bytes, bytes]]:
    """(uid, raw message) of unread messages, at most a batch, left unread (BODY.PEEK)."""
    client = factory(config)
    try:
        status, _ = client.select(config.mailbox)
        if status != "OK":
            raise OSError(f"cannot open the mailbox {config.mailbox!r}")
        status, data = client.uid("SEARCH", None, "UNSEEN")
        if status != "OK" or not data or not data[0]:
            return []
        found: list[tuple[bytes, bytes]] = []
        for uid in data[0].split()[: config.batch]:
            status, parts = client.uid("FETCH", uid, "(BODY.PEEK[])")
            if status != "OK":
                continue
            for part in parts:
                if isinstance(part, tuple) and len(part) == 2:
                    found.append((uid, bytes(part[1])))
                    break
        return found
    finally:
        # The connection may already be gone.
        with contextlib.suppress(Exception):
            client.logout()


def finish_messages(config: ImapConfig, uids: list[bytes], factory: ImapFactory = connect) -> None:
    """Processed messages are marked read (or deleted), so the next poll skips them."""
    if not uids:
        return
    client = factory(config)
    try:
        client.select(config.mailbox)
        joined = b",".join(uids).decode()
        if config.delete:
            client.uid("STORE", joined, "+FLAGS.SILENT", r"(\Deleted)")
            client.expunge()
        else:
            client.uid("STORE", joined, "+FLAGS.SILENT", r"(\Seen)")
    finally:
        with contextlib.suppress(Exception):
            client.logout()


async def poll_bounces(
    database: Database, clock: Clock, config: ImapConfig, factory: ImapFactory = connect
) -> int:
    """One poll: read the unread reports, record them, then mark them read. A crash between
    the commit and the marking makes the next poll read them again, which records nothing
    twice (first bounce and complaint times are only set once)."""
    messages = await asyncio.to_thread(fetch_unseen, config, factory)
    if not messages:
        return 0
    events = 0
    async with database.unit_of_work() as session:
        for _, raw in messages:
            try:
                events += await tracking_service.ingest_report(session, raw, now=clock.now())
            except (ValueError, LookupError, UnicodeError):
                log.warning("an unreadable message in the bounce mailbox", exc_info=True)
    await asyncio.to_thread(finish_messages, config, [uid for uid, _ in messages], factory)
    if events:
        log.info("bounce mailbox", extra={"messages": len(messages), "events": events})
    return events
