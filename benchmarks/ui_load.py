"""Page load times of the main UI pages and the JavaScript the dashboard ships, in Chromium.

    uv run python benchmarks/ui_load.py [--runs 3] [--db URL]

Starts ``trellis serve`` on a fresh SQLite data directory (or a fresh database on the PostgreSQL
server given by ``--db``) with the built UI (run ``uv run python scripts/build_ui.py`` first),
creates a little of everything a marketer has (contacts, a segment, an email, a campaign) through
the API, then opens each main page at 1280x720 in Debian's Chromium, logged in, in a fresh
browser context each time (an empty cache, as on a first visit), and times the navigation until
the network is idle (no request for 500 ms, Playwright's ``networkidle``). Each page is loaded
``--runs`` times; the median is reported, in ms.

For the dashboard it also reports the JavaScript of that first load: the number of scripts, the
bytes over the wire (``transferSize``, compressed when the server compresses) and decoded
(``decodedBodySize``), from the Resource Timing entries.

Progress goes to stderr; the last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, fresh_database, log, serving

ROOT = Path(__file__).resolve().parents[1]
STATIC_INDEX = ROOT / "src" / "trellis" / "ui_bundle" / "index.html"
CHROMIUM = os.environ.get("TRELLIS_E2E_CHROMIUM", "/usr/bin/chromium")
EMAIL = "bench@example.com"
PASSWORD = "Bench-pass-123456"
WIDTH, HEIGHT = 1280, 720

SCRIPT_BYTES = """() => performance.getEntriesByType("resource")
  .filter((e) => e.initiatorType === "script" || /\\.m?js(\\?|$)/.test(e.name))
  .map((e) => ({ name: e.name, transfer: e.transferSize, decoded: e.decodedBodySize }))"""


def trellis_command() -> list[str]:
    script = Path(sys.executable).parent / "trellis"
    return [str(script)] if script.exists() else [sys.executable, "-m", "trellis.cli.main"]


def cli(env: dict[str, str], *args: str) -> None:
    result = subprocess.run(
        [*trellis_command(), *args], env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"trellis {' '.join(args[:2])} failed: {result.stderr[-2000:]}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"trellis serve exited with {server.returncode}")
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("trellis serve did not become ready in 90 s")


def created(response: httpx.Response) -> int:
    if response.status_code != 201:
        raise RuntimeError(
            f"{response.request.url} answered {response.status_code}: {response.text}"
        )
    return int(response.json()["id"])


def seed(base: str) -> dict[str, int]:
    """A small account: 50 contacts, a segment, an email and a campaign that sends it."""
    with httpx.Client(base_url=base, timeout=60) as client:
        client.post("/api/v2/auth/login", json={"email": EMAIL, "password": PASSWORD})
        client.headers["X-CSRF-Token"] = client.cookies.get("trellis_csrf") or ""
        contacts = [
            {"email": f"person{i}@example.com", "first_name": f"Person {i}"} for i in range(50)
        ]
        response = client.post("/api/v2/contacts/batch", json={"contacts": contacts})
        if response.status_code >= 400:
            raise RuntimeError(f"seeding contacts failed: {response.text[:2000]}")
        segment = created(
            client.post(
                "/api/v2/segments",
                json={
                    "name": "Example customers",
                    "filters": {
                        "match": "all",
                        "conditions": [
                            {
                                "type": "field",
                                "field": "email",
                                "operator": "like",
                                "value": "%@example.com",
                            }
                        ],
                    },
                },
            )
        )
        email = created(
            client.post(
                "/api/v2/emails",
                json={
                    "name": "Welcome",
                    "subject": "Welcome aboard",
                    "body": '<p>Hello <a href="https://example.com/start">start</a></p>',
                    "body_format": "html",
                },
            )
        )
        campaign = created(
            client.post(
                "/api/v2/campaigns",
                json={
                    "name": "Onboarding",
                    "sources": [{"kind": "segment", "id": segment}],
                    "events": [
                        {
                            "key": "send",
                            "type": "email.send",
                            "name": "Send welcome",
                            "config": {"email_id": email},
                        }
                    ],
                    "edges": [{"source": None, "target": "send"}],
                },
            )
        )
    return {"segment": segment, "email": email, "campaign": campaign}


def pages(ids: dict[str, int]) -> dict[str, str]:
    return {
        "dashboard": "/",
        "contacts": "/contacts",
        "segments": "/segments",
        "segment": f"/segments/{ids['segment']}",
        "emails": "/emails",
        "email_editor": f"/emails/{ids['email']}",
        "campaigns": "/campaigns",
        "campaign": f"/campaigns/{ids['campaign']}",
        "campaign_builder": f"/campaigns/{ids['campaign']}/edit",
        "audit_log": "/audit-log",
    }


def measure(base: str, targets: dict[str, str], runs: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    load_ms: dict[str, list[float]] = {name: [] for name in targets}
    dashboard_js: dict[str, Any] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            for run in range(runs):
                for name, path in targets.items():
                    context = browser.new_context(
                        base_url=base, viewport={"width": WIDTH, "height": HEIGHT}
                    )
                    login = context.request.post(
                        "/api/v2/auth/login", data={"email": EMAIL, "password": PASSWORD}
                    )
                    assert login.ok, login.text()
                    page = context.new_page()
                    started = time.perf_counter()
                    page.goto(path, wait_until="networkidle", timeout=120_000)
                    elapsed = round((time.perf_counter() - started) * 1000, 1)
                    load_ms[name].append(elapsed)
                    if name == "dashboard" and run == 0:
                        scripts = page.evaluate(SCRIPT_BYTES)
                        dashboard_js = {
                            "scripts": len(scripts),
                            "transfer_kb": round(sum(s["transfer"] for s in scripts) / 1024, 1),
                            "decoded_kb": round(sum(s["decoded"] for s in scripts) / 1024, 1),
                        }
                    context.close()
                    log(f"run {run + 1}/{runs} {name}: {elapsed} ms")
        finally:
            browser.close()
    return {
        "median_load_ms": {name: statistics.median(times) for name, times in load_ms.items()},
        "dashboard_js": dashboard_js,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", default=None, help="PostgreSQL server URL (default: SQLite)")
    args = parser.parse_args()
    if not STATIC_INDEX.is_file():
        sys.exit("The UI is not built: run `uv run python scripts/build_ui.py` first.")
    if not Path(CHROMIUM).is_file():
        sys.exit(f"No Chromium at {CHROMIUM} (apt-get install -y chromium).")

    data_dir = Path(tempfile.mkdtemp(prefix="trellis-ui-load-"))
    started = time.perf_counter()
    try:
        with fresh_database(args.db, prefix="ui_load") as db_url:
            env = {k: v for k, v in os.environ.items() if not k.startswith("TRELLIS_")}
            env["TRELLIS_DATA_DIR"] = str(data_dir)
            if args.db:
                env["TRELLIS_DATABASE__URL"] = db_url
            cli(env, "db", "upgrade")
            cli(
                env,
                "users",
                "create",
                "--email",
                EMAIL,
                "--password",
                PASSWORD,
                "--role",
                "Administrator",
            )
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            env["TRELLIS_BASE_URL"] = base
            command = [*trellis_command(), "serve", "--host", "127.0.0.1", "--port", str(port)]
            with serving(command, env, data_dir / "serve.log") as server:
                wait_ready(base, server)
                log(f"trellis serve is up on {base}")
                ids = seed(base)
                figures = measure(base, pages(ids), args.runs)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)

    emit(
        {
            "benchmark": "ui_load",
            "db": "postgresql" if args.db else "sqlite",
            "runs": args.runs,
            "viewport": f"{WIDTH}x{HEIGHT}",
            "seconds": round(time.perf_counter() - started, 1),
            **figures,
        }
    )


if __name__ == "__main__":
    main()
