"""The JSON Schema in docs/ is the one the code validates with."""

from __future__ import annotations

import json
from pathlib import Path

from trellis.domains.portability.manifest import manifest_schema

SCHEMA = Path(__file__).parents[3] / "docs" / "portability" / "manifest.schema.json"


def test_the_documented_schema_is_current() -> None:
    assert json.loads(SCHEMA.read_text()) == manifest_schema(), (
        "regenerate docs/portability/manifest.schema.json from manifest_schema()"
    )
