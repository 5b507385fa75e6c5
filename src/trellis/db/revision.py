"""Is the database's schema up to date? Answered without Alembic.

``trellis serve`` migrates before it serves; importing Alembic and walking its script
directory costs more start-up than everything else the check needs, and the answer is almost
always "yes, at head". The head is read from the migration files' ``revision`` and
``down_revision`` lines, the database's revision from ``alembic_version``. Anything unusual
(a branch, a line this reading does not understand, no table yet) answers "not known", and
the caller runs Alembic as before.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from trellis.db.quick import fetch_one

VERSIONS = Path(__file__).parent / "migrations" / "versions"
_ASSIGNMENT = re.compile(r"^(revision|down_revision)\b[^=]*=\s*(.+?)\s*$", re.MULTILINE)


def head_revision(versions: Path = VERSIONS) -> str | None:
    """The single head of the migration chain, or None when it cannot be told this way."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in versions.glob("*.py"):
        found = dict(_ASSIGNMENT.findall(path.read_text(encoding="utf-8")))
        try:
            revision = ast.literal_eval(found["revision"])
            down = ast.literal_eval(found["down_revision"])
        except (KeyError, ValueError, SyntaxError):
            return None
        if not isinstance(revision, str):
            return None
        revisions.add(revision)
        if isinstance(down, str):
            parents.add(down)
        elif isinstance(down, tuple | list):
            parents.update(str(d) for d in down)
        elif down is not None:
            return None
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def at_head(url: str) -> bool:
    """True only when the database is known to be at the head revision."""
    head = head_revision()
    if head is None:
        return False
    try:
        row = fetch_one(url, "SELECT version_num FROM alembic_version", {})
    except Exception:  # no database or no table yet: Alembic creates them
        return False
    return row is not None and row[0] == head
