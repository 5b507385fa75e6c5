"""`trellis serve` as deployed: a real process, started with the common umask 022.

- everything it keeps in the data directory (the SQLite database and its WAL, the secret key,
  logs, uploaded imports and assets) is for its own user only;
- behind no configured proxy, ``X-Forwarded-For`` changes nothing: a client on the same host
  cannot pose as many addresses to escape the per-address sign-in limit (uvicorn's own proxy
  support would believe it from 127.0.0.1).
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.fixtures.processes import read_until

COMMAND = [sys.executable, "-m", "trellis.cli.main"]
EMAIL = "owner@example.com"
PASSWORD = "Correct-horse-9"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class Served:
    base_url: str
    data_dir: Path
    token: str


def _run(env: dict[str, str], *args: str) -> str:
    completed = subprocess.run(
        [*COMMAND, *args], env=env, capture_output=True, text=True, timeout=300, umask=0o022
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    data_dir = tmp_path / "data"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("TRELLIS_") and key != "TRELLIS_DATABASE__URL"
    }
    env |= {"TRELLIS_DATA_DIR": str(data_dir), "TRELLIS_SERVICES__ENABLED": "true"}
    _run(env, "db", "upgrade")
    _run(env, "users", "create", "--email", EMAIL, "--password", PASSWORD)
    token = _run(env, "tokens", "create", "--user", EMAIL).strip().splitlines()[-1]
    port = _free_port()
    process = subprocess.Popen(
        [*COMMAND, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        umask=0o022,
    )
    try:
        read_until(process, "serving on")
        base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server never became ready"
            time.sleep(0.2)
        yield Served(base_url=base_url, data_dir=data_dir, token=token)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def test_spoofed_forwarded_for_does_not_escape_the_address_limit(served: Served) -> None:
    with httpx.Client(base_url=served.base_url, timeout=30) as client:
        statuses = [
            client.post(
                "/api/v2/auth/login",
                json={"email": f"guess{i}@example.com", "password": "Wrong-password-1"},
                headers={"X-Forwarded-For": f"192.0.2.{i + 1}"},
            ).status_code
            for i in range(21)
        ]
    assert statuses == [401] * 20 + [429]


def test_the_data_directory_is_private_under_umask_022(served: Served) -> None:
    headers = {"Authorization": f"Bearer {served.token}"}
    with httpx.Client(base_url=served.base_url, headers=headers, timeout=60) as client:
        asset = client.post(
            "/api/v2/assets",
            files={"file": ("logo.png", PNG, "image/png")},
            data={"name": "Logo"},
        )
        assert asset.status_code == 201, asset.text
        imported = client.post(
            "/api/v2/imports",
            files={"file": ("contacts.csv", b"email,first_name\nnot-an-email,X\n", "text/csv")},
            data={"options": "{}"},
        )
        assert imported.status_code in (201, 202), imported.text
        import_id = imported.json()["id"]
        deadline = time.monotonic() + 60
        while client.get(f"/api/v2/imports/{import_id}").json()["status"] not in ("done", "failed"):
            assert time.monotonic() < deadline, "the import never finished"
            time.sleep(0.3)

    seen: dict[str, str] = {}
    for path in [served.data_dir, *served.data_dir.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        seen[str(path.relative_to(served.data_dir))] = oct(mode)
        assert mode & 0o077 == 0, f"{path} is {oct(mode)}"
    names = {Path(p).name for p in seen}
    # What the check covered: the database with its WAL, the key, logs, an import, an asset.
    assert {"trellis.db", "trellis.db-wal", "secret.key", "trellis.log"} <= names, seen
    assert any(p.startswith("uploads/imports/") and p.endswith(".csv") for p in seen), seen
    assert any(p.startswith("assets/") and len(Path(p).name) == 32 for p in seen), seen
