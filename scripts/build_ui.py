"""Build the UI bundle into src/trellis/ui_bundle/ when its sources changed.

Usage: uv run python scripts/build_ui.py [--force]

Hashes the UI sources (package.json, package-lock.json, index.html, the Vite config, the
tsconfig files and everything under ui/src); when the hash equals ui/.build-hash and the built
index.html exists, it prints "UI up to date" and stops. Otherwise it installs the npm packages,
runs `npm run build`, replaces src/trellis/ui_bundle/ with ui/dist/, copies Swagger UI (from the
swagger-ui-dist package) into ui_bundle/swagger/ for /api/v2/docs, checks that no built stylesheet
loads anything from another host, and writes the hash last.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UI = ROOT / "ui"
DIST = UI / "dist"
STATIC = ROOT / "src" / "trellis" / "ui_bundle"
HASH_FILE = UI / ".build-hash"
SWAGGER_FILES = ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-standalone-preset.js")
SOURCE_FILES = (
    "package.json",
    "package-lock.json",
    "index.html",
    "vite.config.ts",
    "tsconfig.json",
    "tsconfig.app.json",
    "tsconfig.node.json",
)
# url(...) or @import of an absolute or protocol-relative address in built CSS.
EXTERNAL_CSS_URL = re.compile(
    r"""(?:url\(\s*['"]?|@import\s+['"])\s*(?:[a-z][a-z0-9+.-]*:)?//""", re.I
)


class BuildError(Exception):
    pass


def source_hash() -> str:
    digest = hashlib.sha256()
    paths = [UI / name for name in SOURCE_FILES if (UI / name).is_file()]
    paths += sorted(p for p in (UI / "src").rglob("*") if p.is_file())
    for path in paths:
        digest.update(path.relative_to(UI).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def run(cmd: list[str]) -> None:
    npm = shutil.which(cmd[0])
    if npm is None:
        raise BuildError(
            f"{cmd[0]} is not installed (Node.js 20.19+ with npm is needed to build the UI)"
        )
    print("+", " ".join(cmd), flush=True)
    result = subprocess.run([npm, *cmd[1:]], cwd=UI, check=False)
    if result.returncode != 0:
        raise BuildError(f"`{' '.join(cmd)}` failed with exit code {result.returncode}")


def check_same_origin(static: Path) -> None:
    for css in static.rglob("*.css"):
        if css.parent.name == "swagger":
            continue
        match = EXTERNAL_CSS_URL.search(css.read_text(encoding="utf-8", errors="replace"))
        if match:
            raise BuildError(
                f"{css.relative_to(ROOT)} loads from another host near {match.group(0)!r}"
            )


def build() -> None:
    if (UI / "package-lock.json").is_file():
        run(["npm", "ci", "--no-audit", "--no-fund"])
    else:
        run(["npm", "install", "--no-audit", "--no-fund"])
    run(["npm", "run", "build"])
    if not (DIST / "index.html").is_file():
        raise BuildError("npm run build produced no ui/dist/index.html")

    swagger_src = UI / "node_modules" / "swagger-ui-dist"
    missing = [name for name in SWAGGER_FILES if not (swagger_src / name).is_file()]
    if missing:
        raise BuildError(f"swagger-ui-dist lacks {', '.join(missing)}: run npm install in ui/")

    if STATIC.exists():
        shutil.rmtree(STATIC)
    shutil.copytree(DIST, STATIC)
    (STATIC / "swagger").mkdir()
    for name in SWAGGER_FILES:
        shutil.copy2(swagger_src / name, STATIC / "swagger" / name)
    check_same_origin(STATIC)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--force", action="store_true", help="build even when the sources are unchanged"
    )
    args = parser.parse_args(argv)

    digest = source_hash()
    up_to_date = (
        HASH_FILE.is_file()
        and HASH_FILE.read_text().strip() == digest
        and (STATIC / "index.html").is_file()
    )
    if up_to_date and not args.force:
        print("UI up to date")
        return 0
    try:
        HASH_FILE.unlink(missing_ok=True)
        build()
    except BuildError as exc:
        print(f"build_ui: {exc}", file=sys.stderr)
        return 1
    HASH_FILE.write_text(digest + "\n")
    print(f"UI built into {STATIC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
