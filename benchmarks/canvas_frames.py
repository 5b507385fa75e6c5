"""Frame timing of the campaign builder canvas with a large campaign, in headless Chromium.

    uv run python benchmarks/canvas_frames.py [--steps N] [--db URL]

Starts ``trellis serve`` (a fresh SQLite data directory by default, or a fresh database on the
PostgreSQL server given by ``--db``) with the built UI (run ``uv run python
scripts/build_ui.py`` first), creates a campaign of N steps (default 200: a tree of
conditions with yes/no branches ending in actions) through the API, opens its builder page at
1280x800 in Debian's Chromium and records ``requestAnimationFrame`` deltas while it

* pans the canvas (a mouse drag across the pane),
* zooms in and out (mouse wheel),
* drags a step around.

Each phase reports the frame times (p50/p95/p99/max in ms), the frames per second and the
share of long frames (over 16.7 ms, i.e. below 60 fps, and over 50 ms, a visible hitch). The
time from navigation to every visible node drawn is ``load_ms``. Progress goes to stderr; the
last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, fresh_database, log, process_peak_rss_mb, server_data, serving
from decision_latency import cli, free_port, trellis_command

from trellis.api.ui import STATIC_DIR

STATIC_INDEX = STATIC_DIR / "index.html"  # where `trellis serve` finds the built UI
CHROMIUM = os.environ.get("TRELLIS_E2E_CHROMIUM", "/usr/bin/chromium")
EMAIL = "bench@example.com"
PASSWORD = "Bench-pass-123456"

# Collects requestAnimationFrame deltas between start() and stop(), in the page.
FRAME_PROBE = """
window.__frames = { on: false, last: 0, deltas: [] };
window.__startFrames = () => {
  const f = window.__frames;
  f.on = true; f.deltas = []; f.last = 0;
  const tick = (t) => {
    if (!f.on) return;
    if (f.last) f.deltas.push(t - f.last);
    f.last = t;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
};
window.__stopFrames = () => { window.__frames.on = false; return window.__frames.deltas; };
"""


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


def campaign_document(steps: int) -> dict[str, Any]:
    """A binary tree: step i hangs under step (i - 1) // 2, on its yes or no path; the first
    half are conditions, the rest actions."""
    conditions = steps // 2
    events: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    for i in range(steps):
        key = f"s{i}"
        if i < conditions:
            events.append(
                {
                    "key": key,
                    "type": "contact.tags",
                    "name": f"Tagged {i}?",
                    "config": {"tags": [f"t{i}"]},
                }
            )
        else:
            events.append(
                {
                    "key": key,
                    "type": "contact.change_points",
                    "name": f"Score {i}",
                    "config": {"delta": 1},
                    "timing": {
                        "mode": "interval",
                        "amount": 1 + i % 3,
                        "unit": "day",
                        "at_hour": "09:00",
                    },
                }
            )
        if i == 0:
            edges.append({"source": None, "target": key})
        else:
            parent = (i - 1) // 2
            edges.append({"source": f"s{parent}", "target": key, "path": "yes" if i % 2 else "no"})
    return {"name": f"Canvas benchmark ({steps} steps)", "events": events, "edges": edges}


def summarise(deltas: list[float]) -> dict[str, Any]:
    if not deltas:
        return {"frames": 0}
    ordered = sorted(deltas)

    def pct(share: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 1)

    total = sum(deltas)
    return {
        "frames": len(deltas),
        "fps": round(len(deltas) / (total / 1000), 1) if total else None,
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "max_ms": round(ordered[-1], 1),
        "mean_ms": round(statistics.fmean(deltas), 1),
        "over_16_7ms": round(sum(1 for d in deltas if d > 16.7 * 1.2) / len(deltas), 3),
        "over_50ms": sum(1 for d in deltas if d > 50),
    }


def measure(base: str, campaign_id: int, steps: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 800})
            response = context.request.post(
                "/api/v2/auth/login", data={"email": EMAIL, "password": PASSWORD}
            )
            assert response.ok, response.text()
            page = context.new_page()
            page.add_init_script(FRAME_PROBE)
            started = time.perf_counter()
            page.goto(f"/campaigns/{campaign_id}/edit")
            page.locator(".react-flow__node-step").first.wait_for(timeout=60_000)
            # React Flow measures nodes before it shows them: wait until they are visible.
            page.locator(".react-flow__node-step").first.wait_for(state="visible", timeout=60_000)
            load_ms = round((time.perf_counter() - started) * 1000, 1)
            rendered = page.locator(".react-flow__node").count()
            log(f"builder loaded in {load_ms} ms, {rendered} nodes in the DOM")
            pane = page.locator(".react-flow__pane")
            box = pane.bounding_box()
            assert box
            cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
            # Zoom to a working scale first (fit view shows all 200 steps very small).
            page.mouse.move(cx, cy)
            for _ in range(8):
                page.mouse.wheel(0, -120)
                page.wait_for_timeout(30)
            page.wait_for_timeout(300)
            figures: dict[str, Any] = {}

            page.evaluate("window.__startFrames()")
            for rep in range(3):
                page.mouse.move(cx - 250, cy - 150)
                page.mouse.down()
                page.mouse.move(cx + 250, cy + 150, steps=60)
                page.mouse.move(cx - 250, cy - 150, steps=60)
                page.mouse.up()
                log(f"pan {rep + 1}/3")
            figures["pan"] = summarise(page.evaluate("window.__stopFrames()"))

            page.evaluate("window.__startFrames()")
            for _ in range(3):
                for _ in range(10):
                    page.mouse.wheel(0, 120)
                    page.wait_for_timeout(16)
                for _ in range(10):
                    page.mouse.wheel(0, -120)
                    page.wait_for_timeout(16)
            figures["zoom"] = summarise(page.evaluate("window.__stopFrames()"))

            node = page.locator(".react-flow__node-step").first
            node_box = node.bounding_box()
            assert node_box
            nx, ny = node_box["x"] + 30, node_box["y"] + 12
            page.evaluate("window.__startFrames()")
            for _ in range(3):
                page.mouse.move(nx, ny)
                page.mouse.down()
                page.mouse.move(nx + 300, ny + 200, steps=60)
                page.mouse.move(nx, ny, steps=60)
                page.mouse.up()
            figures["drag"] = summarise(page.evaluate("window.__stopFrames()"))
            figures["load_ms"] = load_ms
            figures["nodes_in_dom"] = rendered
            return figures
        finally:
            browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--db", default=None, help="PostgreSQL server URL (default: SQLite)")
    args = parser.parse_args()
    if not STATIC_INDEX.is_file():
        sys.exit("The UI is not built: run `uv run python scripts/build_ui.py` first.")
    if not Path(CHROMIUM).is_file():
        sys.exit(f"No Chromium at {CHROMIUM} (apt-get install -y chromium).")

    started = time.perf_counter()
    with (
        server_data("canvas", keep=False) as (data_dir, env),
        fresh_database(args.db, prefix="canvas_frames") as db_url,
    ):
        if args.db:
            env["TRELLIS_DATABASE__URL"] = db_url
        cli(env, "db", "upgrade")
        administrator = ("--email", EMAIL, "--password", PASSWORD, "--role", "Administrator")
        cli(env, "users", "create", *administrator)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        command = [*trellis_command(), "serve", "--host", "127.0.0.1", "--port", str(port)]
        with serving(command, env, data_dir / "serve.log") as server:
            wait_ready(base, server)
            log(f"trellis serve is up on {base}")
            with httpx.Client(base_url=base, timeout=60) as client:
                response = client.post(
                    "/api/v2/auth/login", json={"email": EMAIL, "password": PASSWORD}
                )
                response.raise_for_status()
                client.headers["X-CSRF-Token"] = client.cookies.get("trellis_csrf") or ""
                response = client.post("/api/v2/campaigns", json=campaign_document(args.steps))
                if response.status_code != 201:
                    raise RuntimeError(f"creating the campaign failed: {response.text[:2000]}")
                campaign_id = int(response.json()["id"])
            log(f"campaign {campaign_id} with {args.steps} steps created")
            figures = measure(base, campaign_id, args.steps)
            server_rss = process_peak_rss_mb(server.pid)

    p95 = max(figures[phase].get("p95_ms") or 0 for phase in ("pan", "zoom", "drag"))
    emit(
        {
            "benchmark": "canvas_frames",
            "db": "postgresql" if args.db else "sqlite",
            "n": args.steps,
            "seconds": round(time.perf_counter() - started, 1),
            "p95_ms": p95,
            "server_peak_rss_mb": server_rss,
            **figures,
        }
    )


if __name__ == "__main__":
    main()
