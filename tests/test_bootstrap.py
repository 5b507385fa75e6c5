"""The composition root: every entry point builds the same application.

Each entry point runs in a fresh interpreter that imports only what the command imports; a
small import hook records the catalogue the composition root built there, and the test
compares them all with each other.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.domains.campaigns.helpers import campaign, edge, step
from tests.fixtures.api import Harness
from tests.fixtures.cli import Cli
from tests.fixtures.database import DatabaseUnderTest
from trellis import bootstrap
from trellis.wiring import NotWired

# Runs `trellis ARGS` with a hook that, once trellis.bootstrap is imported by the command,
# wraps build() to write the catalogue of the application it builds.
RECORDING = """
import importlib.abc, importlib.machinery, json, os, sys

class Recorder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "trellis.bootstrap":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        execute = spec.loader.exec_module

        def exec_module(module):
            execute(module)
            build = module.build

            def recording_build(*args, **kwargs):
                application = build(*args, **kwargs)
                with open(os.environ["CATALOGUE_FILE"], "w") as out:
                    json.dump(application.catalogue.describe(), out)
                return application

            module.build = recording_build

        spec.loader.exec_module = exec_module
        return spec

sys.meta_path.insert(0, Recorder())
sys.argv = ["trellis", *sys.argv[1:]]
from trellis.cli.main import app
app()
"""


def _run(cli: Cli, tmp_path: Path, name: str, *args: str) -> tuple[dict[str, list[str]], str]:
    out = tmp_path / f"{name}.json"
    completed = subprocess.run(
        [sys.executable, "-c", RECORDING, *args],
        env={**os.environ, **cli.env, "CATALOGUE_FILE": str(out)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.exists(), f"{name} built no application: {completed.stderr}"
    return json.loads(out.read_text()), completed.stderr


def _run_service(
    cli: Cli, tmp_path: Path, name: str, *args: str, extra_env: dict[str, str] | None = None
) -> dict[str, list[str]]:
    """A long-running entry point: started, read once it has built, then stopped."""
    out = tmp_path / f"{name}.json"
    process = subprocess.Popen(
        [sys.executable, "-c", RECORDING, *args],
        env={**os.environ, **cli.env, **(extra_env or {}), "CATALOGUE_FILE": str(out)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while not out.exists() or not out.read_text():
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
            assert time.monotonic() < deadline, f"{name} never built its application"
            time.sleep(0.1)
        time.sleep(0.2)  # the file is written in one go; let the writer close it
        return json.loads(out.read_text())
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()


def test_the_catalogue_lists_every_contribution() -> None:
    described = bootstrap.build_catalogue().describe()
    assert "visited_url" in described["segment_filters"]
    assert {"email_opened", "form_submitted", "campaign"} <= set(described["segment_filters"])
    assert "email.send" in described["events"]
    assert {"emails", "forms", "web", "campaigns"} <= set(described["timeline_sources"])
    assert described["timeline_sources"] == described["merge_hooks"]
    assert {"campaign", "email", "form", "page", "asset", "segment"} == set(
        described["projectables"]
    )
    assert "campaigns.tick" in described["jobs"]


def test_importing_a_service_wires_nothing() -> None:
    """Registration by import is gone: a service nobody wired says so instead of running
    with part of the catalogue."""
    code = (
        "from trellis.domains.segments.service import segment_service\n"
        "from trellis.wiring import NotWired\n"
        "try:\n"
        "    segment_service.filters\n"
        "except NotWired as exc:\n"
        "    print('not wired:', exc)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "not wired: SegmentService.filters" in completed.stdout
    assert issubclass(NotWired, RuntimeError)


PASSWORD = "Pw-123456789"


# Ten fresh interpreters, one after the other.
@pytest.mark.timeout(900)
async def test_every_entry_point_builds_the_same_application(
    harness: Harness,
    admin: httpx.AsyncClient,
    cli: Cli,
    test_database: DatabaseUnderTest,
    tmp_path: Path,
) -> None:
    points = step("contact.change_points", {"delta": 1})
    journey = await campaign(admin, events=[points], edges=[edge(None, points)], publish=False)
    people = tmp_path / "people.csv"
    people.write_text("email\nada@example.com\n")
    export = tmp_path / "export.zip"

    seen: dict[str, dict[str, list[str]]] = {}
    commands: list[tuple[str, list[str]]] = [
        (
            "users create",
            ["users", "create", "--email", "u@example.com", "--password", "Pw-123456789"],
        ),
        ("tokens create", ["tokens", "create", "--user", "u@example.com"]),
        ("contacts import", ["contacts", "import", str(people)]),
        ("segments update", ["segments", "update"]),
        # With nothing due, a plain trigger answers without building the application (see
        # tests/cli/test_startup.py); a walk through time always builds it.
        (
            "campaigns trigger",
            ["campaigns", "trigger", "--now", "2100-01-01T00:00:00Z", "--until", "2100-01-01"],
        ),
        ("emails broadcasts run", ["emails", "broadcasts", "run"]),
        ("campaigns export", ["campaigns", "export", str(journey["id"]), "-o", str(export)]),
        ("campaigns import", ["campaigns", "import", str(export), "--dry-run"]),
        ("data cleanup", ["data", "cleanup", "--dry-run"]),
    ]
    for name, args in commands:
        seen[name], stderr = _run(cli, tmp_path, name.replace(" ", "-"), *args)
        assert "Traceback" not in stderr, (name, stderr)
    seen["serve"] = _run_service(
        cli, tmp_path, "serve", "serve", "--port", str(_free_port()), "--no-migrate"
    )
    if test_database.dialect == "postgresql":
        seen["worker"] = _run_service(cli, tmp_path, "worker", "worker")

    expected = bootstrap.build_catalogue().describe()
    for name, catalogue in seen.items():
        assert catalogue == expected, name


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(autouse=True)
def _no_ambient_trellis_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("TRELLIS_") and key != "TRELLIS_TEST_DATABASE_URL":
            monkeypatch.delenv(key)
