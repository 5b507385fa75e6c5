"""Build the UI bundle into src/trellis/ui_bundle/ when its sources changed.

Usage: uv run python scripts/build_ui.py [--force] [--no-install]

Hashes the UI sources (package.json, package-lock.json, index.html, the Vite config, the
tsconfig files and everything under ui/src); when the hash equals ui/.build-hash and the built
index.html exists, it prints "UI up to date" and stops. Otherwise it installs the npm packages,
runs `npm run build`, checks that the first page load stays within its JavaScript budget,
replaces src/trellis/ui_bundle/ with ui/dist/, copies Swagger UI (from the swagger-ui-dist
package) into ui_bundle/swagger/ for /api/v2/docs, checks that no built stylesheet loads anything
from another host, writes a gzip copy of each text file for the server to send as is, and writes
the hash last.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
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
# Served precompressed by trellis.api.ui.BundleFiles (keep the two lists the same).
COMPRESSIBLE = (".js", ".mjs", ".css", ".svg", ".json", ".html", ".txt", ".map")
# What the first page load may ship, decoded: the entry script and the scripts it imports
# statically. The editors (GrapesJS, React Flow) and every page but the first ones are chunks
# loaded on demand and do not count.
FIRST_LOAD_JS_BUDGET = 600 * 1024
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
    # Carbon's packages report installs to IBM from a postinstall script unless told not to.
    env = {**os.environ, "IBM_TELEMETRY_DISABLED": "true"}
    result = subprocess.run([npm, *cmd[1:]], cwd=UI, env=env, check=False)
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


def compress(static: Path) -> None:
    """A gzip copy (name + ".gz", level 9, no timestamp) of every compressible file it shrinks."""
    for path in static.rglob("*"):
        if not path.is_file() or path.suffix not in COMPRESSIBLE:
            continue
        data = path.read_bytes()
        packed = gzip.compress(data, compresslevel=9, mtime=0)
        if len(packed) < len(data):
            path.with_name(path.name + ".gz").write_bytes(packed)


def first_load_js(dist: Path) -> int:
    """Bytes of the entry script and of everything it imports statically (Vite's manifest)."""
    manifest = json.loads((dist / ".vite" / "manifest.json").read_text())
    entries = [key for key, chunk in manifest.items() if chunk.get("isEntry")]
    seen: set[str] = set()
    while entries:
        key = entries.pop()
        if key not in seen:
            seen.add(key)
            entries.extend(manifest[key].get("imports", []))
    return sum((dist / manifest[key]["file"]).stat().st_size for key in seen)


def build(*, install: bool = True) -> None:
    if install:
        lock = (UI / "package-lock.json").is_file()
        run(["npm", "ci" if lock else "install", "--no-audit", "--no-fund"])
    run(["npm", "run", "build"])
    if not (DIST / "index.html").is_file():
        raise BuildError("npm run build produced no ui/dist/index.html")
    initial = first_load_js(DIST)
    if initial > FIRST_LOAD_JS_BUDGET:
        raise BuildError(
            f"the first page load ships {initial // 1024} KiB of JavaScript, over the budget of "
            f"{FIRST_LOAD_JS_BUDGET // 1024} KiB: load the new dependency on demand (import())"
        )

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
    shutil.rmtree(STATIC / ".vite", ignore_errors=True)
    compress(STATIC)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--force", action="store_true", help="build even when the sources are unchanged"
    )
    parser.add_argument(
        "--no-install",
        action="store_true",
        help="use ui/node_modules as it is instead of running npm ci first",
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
        build(install=not args.no_install)
    except BuildError as exc:
        print(f"build_ui: {exc}", file=sys.stderr)
        return 1
    HASH_FILE.write_text(digest + "\n")
    print(f"UI built into {STATIC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
