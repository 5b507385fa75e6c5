"""`trellis serve --port N` without a configured base URL puts that address in links and embed
codes; a configured one wins. Real server processes, asked over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.fixtures.cli import COMMAND, Cli

PASSWORD = "Correct-horse-9"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(env: Mapping[str, str], port: int, log: Path) -> Iterator[str]:
    clean = {k: v for k, v in os.environ.items() if k != "TRELLIS_BASE_URL"}
    with log.open("w") as output:
        process = subprocess.Popen(
            [*COMMAND, "serve", "--port", str(port), "--no-services"],
            env={**clean, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    address = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            try:
                if httpx.get(f"{address}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        yield address
    finally:
        process.terminate()
        process.wait(timeout=60)


def base_url_seen(address: str, token: str) -> str:
    with httpx.Client(base_url=address, headers={"Authorization": f"Bearer {token}"}) as client:
        response = client.get("/api/v2/settings")
        assert response.status_code == 200, response.text
        return str(response.json()["base_url"])


def test_links_follow_the_port_served_unless_configured(cli: Cli, tmp_path: Path) -> None:
    assert cli("db", "upgrade").exit_code == 0
    created = cli("users", "create", "--email", "admin@example.com", "--password", PASSWORD)
    assert created.exit_code == 0, created.output
    issued = cli("tokens", "create", "--user", "admin@example.com")
    assert issued.exit_code == 0, issued.output
    token = issued.stdout.strip().splitlines()[-1]
    env = {k: v for k, v in cli.env.items() if k != "TRELLIS_BASE_URL"}

    port = free_port()
    with serving(env, port, tmp_path / "serve.log") as address:
        assert base_url_seen(address, token) == f"http://127.0.0.1:{port}"

    port = free_port()
    configured = {**env, "TRELLIS_BASE_URL": "https://mail.example.test"}
    with serving(configured, port, tmp_path / "serve2.log") as address:
        assert base_url_seen(address, token) == "https://mail.example.test"
