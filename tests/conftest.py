from __future__ import annotations

pytest_plugins = ["tests.fixtures.database", "tests.fixtures.api"]
