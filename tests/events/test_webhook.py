"""The webhook.send action, driven through its handler with the real GuardedHttp against an
HTTP server the tests start on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.runtime.test_http import LocalServer, local_server
from trellis.events.base import OutcomeStatus, Ports, StepContext
from trellis.events.webhook import CONCURRENCY, SendWebhook, send_webhook
from trellis.runtime.http import GuardedHttp

ANN = {"email": "ann@example.test", "firstname": 'Ann "Nan" \\ O\'Neil\n<b>', "city": "Lyon"}
BOB = {"email": "bob@example.test", "firstname": "Bob", "city": ""}


class FakeContacts:
    def __init__(self, values: Mapping[int, Mapping[str, Any]]) -> None:
        self._values = values
        self.asked: list[list[int]] = []

    async def values(self, contact_ids: Sequence[int]) -> Mapping[int, Mapping[str, Any]]:
        self.asked.append(list(contact_ids))
        return {cid: self._values[cid] for cid in contact_ids if cid in self._values}


def context(
    http: GuardedHttp,
    values: Mapping[int, Mapping[str, Any]],
    *,
    rotations: Mapping[int, int] | None = None,
) -> StepContext:
    ports = Ports(contacts=FakeContacts(values), campaigns=None, filters=None, http=http)  # type: ignore[arg-type]
    return StepContext(
        campaign_id=7,
        event_id=3,
        event_key="0b4e-evt",
        event_name="Notify the CRM",
        now=datetime(2025, 1, 1, tzinfo=UTC),
        ports=ports,
        rotations=rotations or {},
    )


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    async with local_server() as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[GuardedHttp]:
    async with GuardedHttp(allow_private=True) as client:
        yield client


def config(server: LocalServer, path: str = "/hook", **kwargs: Any) -> SendWebhook:
    return SendWebhook.model_validate({"url": server.url(path), **kwargs})


async def test_json_bodies_get_json_escaped_tokens(server: LocalServer, http: GuardedHttp) -> None:
    webhook = config(
        server,
        headers=[{"name": "Content-Type", "value": "application/json; charset=utf-8"}],
        body='{"email": "{contactfield=email}", "name": "{contactfield=firstname}", '
        '"city": "{contactfield=city|Unknown}", "zip": "{contactfield=zip}"}',
    )
    outcomes = await send_webhook(context(http, {1: ANN, 2: BOB}), webhook, [1, 2])
    assert {cid: o.status for cid, o in outcomes.items()} == {
        1: OutcomeStatus.DONE,
        2: OutcomeStatus.DONE,
    }
    by_key = {r.header("Idempotency-Key"): r for r in server.requests}
    ann = json.loads(by_key["trellis:7:0b4e-evt:1:1"].body)
    bob = json.loads(by_key["trellis:7:0b4e-evt:2:1"].body)
    assert ann == {"email": ANN["email"], "name": ANN["firstname"], "city": "Lyon", "zip": ""}
    assert bob == {"email": BOB["email"], "name": "Bob", "city": "Unknown", "zip": ""}
    for received in server.requests:
        assert received.method == "POST"
        assert received.target == "/hook"
        assert received.header("Content-Type") == "application/json; charset=utf-8"


async def test_other_bodies_get_tokens_verbatim(server: LocalServer, http: GuardedHttp) -> None:
    webhook = config(
        server,
        method="PUT",
        headers=[
            {"name": "Content-Type", "value": "text/plain"},
            {"name": "X-Token", "value": "s3"},
        ],
        body="Hello {contactfield=firstname}, from {contactfield=city|nowhere}",
    )
    outcomes = await send_webhook(context(http, {1: ANN}), webhook, [1])
    assert outcomes[1].status is OutcomeStatus.DONE
    [received] = server.requests
    assert received.method == "PUT"
    assert received.body.decode() == f"Hello {ANN['firstname']}, from Lyon"
    assert received.header("X-Token") == "s3"


async def test_tokens_in_the_query_string(server: LocalServer, http: GuardedHttp) -> None:
    webhook = config(server, "/hook?email={contactfield=email}", method="GET")
    await send_webhook(context(http, {1: ANN}), webhook, [1])
    # Values are URL-encoded, so an address with + or & cannot break the query.
    assert [r.target for r in server.requests] == ["/hook?email=ann%40example.test"]


@pytest.mark.parametrize(
    ("path", "status", "reason"),
    [
        ("/status/200", OutcomeStatus.DONE, ""),
        ("/status/201", OutcomeStatus.DONE, ""),
        ("/status/204", OutcomeStatus.DONE, ""),
        ("/status/299", OutcomeStatus.DONE, ""),
        ("/status/404", OutcomeStatus.FAILED, "The server answered 404."),
        ("/status/429", OutcomeStatus.FAILED, "The server answered 429."),
        ("/status/500", OutcomeStatus.FAILED, "The server answered 500."),
        ("/status/400", OutcomeStatus.FAILED, "The server answered 400."),
        ("/redirect", OutcomeStatus.FAILED, "The server answered 302 (a redirect to "),
    ],
)
async def test_only_2xx_is_done(
    server: LocalServer, http: GuardedHttp, path: str, status: OutcomeStatus, reason: str
) -> None:
    outcomes = await send_webhook(context(http, {1: ANN}), config(server, path, body="x"), [1])
    assert outcomes[1].status is status
    assert outcomes[1].reason.startswith(reason)
    if path == "/redirect":
        assert "redirects are not followed" in outcomes[1].reason
        assert [r.target for r in server.requests] == ["/redirect"]


async def test_a_timeout_fails_with_a_reason(server: LocalServer, http: GuardedHttp) -> None:
    webhook = config(server, "/slow", timeout_s=1)
    outcomes = await send_webhook(context(http, {1: ANN}), webhook, [1])
    assert outcomes[1].status is OutcomeStatus.FAILED
    assert outcomes[1].reason == "No answer from 127.0.0.1 within 1 s."


async def test_a_refused_address_fails_with_a_clear_reason(server: LocalServer) -> None:
    async with GuardedHttp(allow_private=False) as guarded:
        outcomes = await send_webhook(context(guarded, {1: ANN}), config(server), [1])
    assert outcomes[1].status is OutcomeStatus.FAILED
    assert outcomes[1].reason == (
        "Refused: 127.0.0.1 is a loopback address; set TRELLIS_WEBHOOKS__ALLOW_PRIVATE=true for "
        "every Trellis process (serve, worker and the command line) to allow private targets."
    )
    assert server.connections == 0


async def test_a_retry_carries_the_same_idempotency_key(
    server: LocalServer, http: GuardedHttp
) -> None:
    webhook = config(server, "/status/500", body="{contactfield=email}")
    first = await send_webhook(context(http, {1: ANN}, rotations={1: 2}), webhook, [1])
    # A new worker (after a crash) builds a new context for the same step.
    second = await send_webhook(context(http, {1: ANN}, rotations={1: 2}), webhook, [1])
    restarted = await send_webhook(context(http, {1: ANN}, rotations={1: 3}), webhook, [1])
    assert first[1].status is second[1].status is OutcomeStatus.FAILED
    assert restarted[1].status is OutcomeStatus.FAILED
    keys = [r.header("Idempotency-Key") for r in server.requests]
    assert keys == ["trellis:7:0b4e-evt:1:2", "trellis:7:0b4e-evt:1:2", "trellis:7:0b4e-evt:1:3"]


@pytest.mark.parametrize("method", ["GET", "DELETE"])
async def test_get_and_delete_send_no_body(
    server: LocalServer, http: GuardedHttp, method: str
) -> None:
    webhook = config(server, method=method, body='{"email": "{contactfield=email}"}')
    outcomes = await send_webhook(context(http, {1: ANN}), webhook, [1])
    assert outcomes[1].status is OutcomeStatus.DONE
    [received] = server.requests
    assert received.method == method
    assert received.body == b""
    assert received.header("Content-Length") is None
    assert received.header("Idempotency-Key") == "trellis:7:0b4e-evt:1:1"


async def test_calls_run_in_parallel_up_to_the_limit(
    server: LocalServer, http: GuardedHttp
) -> None:
    ids = list(range(1, 31))
    values = {cid: {"email": f"c{cid}@example.test"} for cid in ids}
    webhook = config(server, "/delay/100", body="{contactfield=email}")
    outcomes = await send_webhook(context(http, values), webhook, ids)
    assert all(o.status is OutcomeStatus.DONE for o in outcomes.values())
    assert sorted(outcomes) == ids
    assert len({r.header("Idempotency-Key") for r in server.requests}) == len(ids)
    assert sorted(r.body.decode() for r in server.requests) == sorted(
        v["email"] for v in values.values()
    )
    assert 1 < server.max_in_flight <= CONCURRENCY
