"""Personalised MJML emails through SMTP to a local aiosmtpd server.

    uv run python benchmarks/email_send.py [--contacts N] [--db URL] [--pool P] [--batch B]
                                           [--tracking]

Workload (issue 6, "Speed"): N contacts, one MJML email with contact tokens, a UTM-tagged
link and the unsubscribe link; every contact gets it queued (marketing rules: DNC, once per
contact) and delivered over SMTP through a pool of connections to an aiosmtpd server that runs
in its own process (started here), as a mail relay on the same machine would.

Timed: queueing (one set-based pass) and delivery (claim, render, build, send, record) until
nothing is due. Afterwards the server must have received exactly N messages, one per contact,
and every send must be ``sent``, or the script exits 1. ``per_second`` is messages delivered
per second of delivery; ``queue_seconds`` the queueing on its own. ``cpu_us_per_message`` and
``server_cpu_us_per_message`` are the CPU time (user + system) of this process and of the
SMTP server during delivery, per message: on a shared machine they move far less than the
rate does. The server advertises PIPELINING (RFC 2920), as relays such as Postfix do;
aiosmtplib sends one command at a time all the same (ADR 0017).
``--tracking`` turns on click and open tracking (signed redirects and a pixel), the default of
``trellis serve``.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime

from _common import emit, fresh_database, log, peak_rss_mb, wired
from campaign_kickoff import generate
from sqlalchemy import text

from trellis.actor import Actor
from trellis.db import migrate
from trellis.domains.emails.delivery import email_delivery
from trellis.domains.emails.schemas import EmailCreate
from trellis.domains.emails.service import email_service
from trellis.events.base import EmailRequest

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SYSTEM = Actor.system("benchmark")
MJML = """<mjml>
  <mj-head><mj-title>Spring</mj-title></mj-head>
  <mj-body background-color="#f4f4f4">
    <mj-section background-color="#ffffff">
      <mj-column>
        <mj-text font-size="18px">Hello {contactfield=first_name|friend},</mj-text>
        <mj-text>Spring is here in {contactfield=city|your town}. Our new collection is
          waiting for you.</mj-text>
        <mj-button href="https://shop.example.com/spring">Shop the collection</mj-button>
        <mj-divider />
        <mj-text font-size="11px">You receive this as {contactfield=email}.
          <a href="{unsubscribe_url}">Unsubscribe</a> or
          <a href="{preferences_url}">change your preferences</a>.</mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>"""

SERVER = r"""
import resource, socket, sys, threading
from aiosmtpd.controller import Controller
with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
count = 0
recipients = set()
lock = threading.Lock()
class Handler:
    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        # aiosmtpd reads commands from a buffered stream, so it copes with pipelined ones,
        # but does not say so; a relay such as Postfix does (RFC 2920).
        session.host_name = hostname
        return responses[:-1] + ["250-PIPELINING", responses[-1]]

    async def handle_DATA(self, server, session, envelope):
        global count
        with lock:
            count += 1
            recipients.update(envelope.rcpt_tos)
        return "250 OK"
controller = Controller(Handler(), hostname="127.0.0.1", port=port)
controller.start()
print(port, flush=True)
for line in sys.stdin:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    with lock:
        print(count, len(recipients), usage.ru_utime + usage.ru_stime, flush=True)
controller.stop()
"""


def _cpu_seconds() -> float:
    """User and system CPU of this process, every thread included."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def main(args: argparse.Namespace, url: str, port: int) -> dict[str, object]:
    await migrate.upgrade(url)
    # Delivery as `trellis serve` configures it for an SMTP relay (the transport's pool,
    # messages in flight, signed links); with --tracking, every link a signed redirect and an
    # open pixel, the default of a deployment.
    mail = {
        "transport": "smtp",
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_tls": "none",
        "pool_size": args.pool,
        "batch_size": args.batch,
        "from_address": "news@example.com",
        "from_name": "Example News",
    }
    async with wired(
        url,
        base_url="https://mail.example.com",
        mail=mail,
        tracking={"enabled": args.tracking},
    ) as application:
        database = application.database
        await generate(database, args.contacts)
        async with database.unit_of_work() as session:
            email = await email_service.create(
                session,
                data=EmailCreate(
                    name="Spring",
                    subject="{contactfield=first_name|Hello}, spring is here",
                    body=MJML,
                    is_published=True,
                    utm={"source": "trellis", "medium": "email", "campaign": "spring"},
                ),
                actor=SYSTEM,
                now=NOW,
            )
            email_id = email.id
            ids = list((await session.scalars(text("SELECT id FROM contacts ORDER BY id"))).all())
        started = time.perf_counter()
        for start in range(0, len(ids), 20_000):
            async with database.unit_of_work() as session:
                await email_service.queue(
                    session, EmailRequest(email_id=email_id), ids[start : start + 20_000], now=NOW
                )
        queued = time.perf_counter() - started
        log(f"queued {len(ids):,} messages in {queued:.2f} s")
        started = time.perf_counter()
        cpu_started = _cpu_seconds()
        sent = 0
        while True:
            result = await email_delivery.deliver_due(database, now=NOW, max_batches=10)
            if not (result.sent or result.failed or result.retried):
                break
            sent += result.sent
            log(f"delivered {sent:,} ({sent / (time.perf_counter() - started):,.0f}/s)")
        seconds = time.perf_counter() - started
        cpu = _cpu_seconds() - cpu_started
        async with database.unit_of_work(read_only=True) as session:
            statuses = dict(
                (
                    await session.execute(
                        text("SELECT status, COUNT(*) FROM email_sends GROUP BY status")
                    )
                ).all()
            )
        return {
            "seconds": round(seconds, 2),
            "queue_seconds": round(queued, 2),
            "sent": sent,
            "cpu_seconds": cpu,
            "statuses": statuses,
        }


def run() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--db", default=None)
    parser.add_argument("--pool", type=int, default=8, help="SMTP connections")
    parser.add_argument("--batch", type=int, default=1000, help="messages per delivery pass")
    parser.add_argument(
        "--tracking", action="store_true", help="click and open tracking, as `trellis serve` has"
    )
    args = parser.parse_args()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdin is not None
    assert server.stdout is not None
    port = int(server.stdout.readline())
    server.stdin.write("cpu\n")
    server.stdin.flush()
    server_cpu_started = float(server.stdout.readline().split()[2])
    log(f"aiosmtpd listening on 127.0.0.1:{port} (pid {server.pid})")
    try:
        with fresh_database(args.db, prefix="email") as url:
            figures = asyncio.run(main(args, url, port))
        server.stdin.write("count\n")
        server.stdin.flush()
        answer = server.stdout.readline().split()
        received, recipients = int(answer[0]), int(answer[1])
        server_cpu = float(answer[2]) - server_cpu_started
    finally:
        server.stdin.close()
        server.wait(timeout=30)
    n = args.contacts
    ok = received == n and recipients == n and figures["statuses"] == {"sent": n}
    seconds = float(figures["seconds"])  # type: ignore[arg-type]
    emit(
        {
            "benchmark": "email_send",
            "db": "postgresql" if args.db and args.db.startswith("postgres") else "sqlite",
            "n": n,
            "seconds": seconds,
            "per_second": round(n / seconds, 1) if seconds else None,
            "queue_seconds": figures["queue_seconds"],
            "received": received,
            # CPU per message delivered: Trellis (render, build, SMTP client, records) and the
            # aiosmtpd server, apart, since the two share the machine's cores.
            "cpu_us_per_message": round(float(figures["cpu_seconds"]) / n * 1e6)  # type: ignore[arg-type]
            if n
            else None,
            "server_cpu_us_per_message": round(server_cpu / n * 1e6) if n else None,
            "smtp_pool": args.pool,
            "tracking": args.tracking,
            "peak_rss_mb": peak_rss_mb(),
            "ok": ok,
        }
    )
    if not ok:
        log(f"FAILED: server received {received} ({recipients} recipients), {figures}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(run())
