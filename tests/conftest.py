from __future__ import annotations

import os

from hypothesis import settings

pytest_plugins = ["tests.fixtures.database", "tests.fixtures.api", "tests.fixtures.cli"]

# CI runs the same examples every time (a red build always means a change broke something);
# local runs keep exploring new ones.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
