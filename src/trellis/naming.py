"""Names made from names: URL slugs, and the first one not taken."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection


def url_slug(name: str, *, limit: int, fallback: str) -> str:
    """Lower-case ASCII words joined by '-' (accents dropped), at most ``limit`` characters."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:limit].strip("-")
    return slug or fallback


def first_free(base: str, taken: Collection[str]) -> str:
    """``base``, else ``base-2``, ``base-3``…: the first that is not taken."""
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate
