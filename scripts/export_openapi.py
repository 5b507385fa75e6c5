"""Write the OpenAPI document of the API to ui/openapi.json (or the path given).

The UI's TypeScript client is generated from that file; nothing needs to be running.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from trellis.api.app import create_app
from trellis.settings import Settings


def main() -> None:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("ui/openapi.json")
    with tempfile.TemporaryDirectory() as scratch:
        app = create_app(Settings(data_dir=Path(scratch)), run_services=False)
        document = app.openapi()
    target.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(document, indent=2, sort_keys=False) + "\n"
    if target.exists() and target.read_text() == text:
        print(f"{target} is up to date", file=sys.stderr)
        return
    target.write_text(text)
    print(f"wrote {target}", file=sys.stderr)


if __name__ == "__main__":
    main()
