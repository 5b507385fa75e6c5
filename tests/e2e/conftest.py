"""Browser tests: a real `trellis serve` on a free port, driven by Debian's Chromium.

The UI is not built here: run `uv run python scripts/build_ui.py` first. Tests are skipped,
with the reason, when the built UI or Chromium is missing.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
STATIC_INDEX = ROOT / "src" / "trellis" / "ui_bundle" / "index.html"
CHROMIUM = os.environ.get("TRELLIS_E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "Secret-pass-123"
READY_TIMEOUT_S = 90.0  # a loaded CI machine starts a server slowly


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


def _trellis_command() -> list[str]:
    """`uv run trellis`, or the console script of this environment when uv is not on PATH."""
    if shutil.which("uv"):
        return ["uv", "run", "--project", str(ROOT), "trellis"]
    script = Path(sys.executable).with_name("trellis")
    if script.exists():
        return [str(script)]
    pytest.fail("neither uv nor the trellis console script is available")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_cli(args: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(
        [*_trellis_command(), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(
            f"`trellis {' '.join(args[:2])}` exited {result.returncode}:\n"
            f"{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
        )


@dataclass(frozen=True)
class Server:
    base_url: str
    log: Path


@pytest.fixture(scope="session")
def trellis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not STATIC_INDEX.is_file():
        pytest.skip(
            f"E2E SKIPPED: the web UI is not built ({STATIC_INDEX.relative_to(ROOT)} is missing). "
            "Run `uv run python scripts/build_ui.py` first."
        )
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"E2E SKIPPED: no Chromium at {CHROMIUM} (apt-get install -y chromium)")

    data_dir = tmp_path_factory.mktemp("trellis-e2e")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRELLIS_")}
    env["TRELLIS_DATA_DIR"] = str(data_dir)
    if os.environ.get("TRELLIS_DATABASE__URL"):
        env["TRELLIS_DATABASE__URL"] = os.environ["TRELLIS_DATABASE__URL"]

    _run_cli(["db", "upgrade"], env)
    _run_cli(
        [
            "users",
            "create",
            "--email",
            ADMIN_EMAIL,
            "--password",
            ADMIN_PASSWORD,
            "--name",
            "Ada Admin",
            "--role",
            "Administrator",
        ],
        env,
    )

    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    # Links, hosted form pages and their own-origin check use the public URL: this server's.
    env["TRELLIS_BASE_URL"] = base_url
    log_path = data_dir / "serve.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [*_trellis_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"trellis serve exited with {proc.returncode} before it was ready:\n"
                    + log_path.read_text(errors="replace")[-4000:]
                )
            try:
                if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"trellis serve was not ready within {READY_TIMEOUT_S:.0f} s:\n"
                    + log_path.read_text(errors="replace")[-4000:]
                )
            time.sleep(0.2)
        yield Server(base_url=base_url, log=log_path)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture(scope="session")
def base_url(trellis_server: Server) -> str:
    return trellis_server.base_url


@pytest.fixture(scope="session")
def browser(trellis_server: Server) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: object, base_url: str) -> Iterator[object]:
    from playwright.sync_api import Browser

    assert isinstance(browser, Browser)
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    pg = context.new_page()
    try:
        yield pg
    finally:
        context.close()
