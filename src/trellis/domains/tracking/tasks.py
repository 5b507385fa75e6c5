"""Background work of tracking: the hit buffer that writes opens and clicks in batches, and
the poller of the bounce mailbox.

The buffer answers a hit at once (the pixel, the redirect) and writes it with the others that
arrived in the same ~200 ms, or as soon as 500 are waiting, in one transaction. A batch whose
transaction fails goes back to the front of the queue and is tried again; on shutdown
everything left is written before the process ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
import logging
import ssl
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from trellis.clock import Clock
from trellis.db.session import Database
from trellis.domains.tracking.service import Hit, tracking_service

log = logging.getLogger(__name__)


class BufferFull(Exception):
    """The database has not answered for so long that the buffer reached its bound."""


class HitBuffer:
    def __init__(
        self,
        database: Database,
        clock: Clock,
        *,
        interval_s: float = 0.2,
        batch_size: int = 500,
        max_buffered: int = 200_000,
    ) -> None:
        self.database = database
        self.clock = clock
        self.interval_s = interval_s
        self.batch_size = batch_size
        self.max_buffered = max_buffered
        self._pending: deque[Hit] = deque()
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.written = 0
        self.failures = 0

    def __len__(self) -> int:
        return len(self._pending)

    def add(self, hit: Hit) -> None:
        if len(self._pending) >= self.max_buffered:
            raise BufferFull
        self._pending.append(hit)
        if len(self._pending) >= self.batch_size:
            self._wake.set()

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="trellis-tracking-hits")

    async def stop(self) -> None:
        """Write everything accepted so far, then stop."""
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        for _ in range(5):
            try:
                await self.flush()
                return
            except Exception:
                log.exception("writing tracking hits at shutdown failed; retrying")
                await asyncio.sleep(0.5)
        if self._pending:
            log.error("tracking hits lost at shutdown", extra={"count": len(self._pending)})

    async def _run(self) -> None:
        delay = self.interval_s
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
            self._wake.clear()
            try:
                await self.flush()
                delay = self.interval_s
            except asyncio.CancelledError:
                raise
            except Exception:
                self.failures += 1
                # The database is away: keep the hits and back off, up to 10 s.
                delay = min(max(delay * 2, self.interval_s), 10.0)
                log.exception("writing tracking hits failed; they are kept and retried")

    async def flush(self) -> int:
        """Write every waiting hit, a batch per transaction; how many were written."""
        written = 0
        async with self._lock:
            while self._pending:
                count = min(self.batch_size, len(self._pending))
                batch = [self._pending.popleft() for _ in range(count)]
                try:
                    async with self.database.unit_of_work(brief=True) as session:
                        await tracking_service.record_hits(session, batch, self.clock.now())
                except BaseException:
                    self._pending.extendleft(reversed(batch))
                    raise
                written += count
                self.written += count
        return written


# -- the bounce mailbox -----------------------------------------------------------------------


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
