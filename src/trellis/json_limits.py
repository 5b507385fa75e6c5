"""JSON from outside, bounded in nesting depth before it is parsed.

Python's ``json`` parser recurses once per nested array or object: 100,000 nested ``[`` make it
raise ``RecursionError`` (a 500 with a traceback where it was not caught), and documents a few
thousand levels deep cost stack and time in every layer that walks them afterwards (pydantic,
the filter and campaign validators). No document the product reads needs more than a few dozen
levels, so every JSON text the server parses, request bodies and uploaded files alike, is held
to :data:`MAX_JSON_DEPTH`: the API's bodies by :class:`trellis.api.middleware.JsonDepthMiddleware`,
everything parsed by hand through :func:`loads`. Both use :func:`nests_deeper`, which counts
brackets outside strings without recursing, one C-speed pass per level.

The size of a text is bounded where it is read (the request body limit, each upload's limit).
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_JSON_DEPTH = 100

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
# Arrays and objects nest alike: every opener becomes "(", every closer ")".
_AS_PARENS = bytes.maketrans(b"[{]}", b"(())")


class JsonTooDeep(json.JSONDecodeError):
    """A JSON text nested deeper than allowed; a ``JSONDecodeError``, so every place that
    refuses invalid JSON refuses it the same way."""


def _outside_strings(raw: bytes) -> bytes:
    if b'\\"' in raw:
        return _STRING.sub(b"", raw)
    # No escaped quote: every other piece between quotes is a string.
    return b"".join(raw.split(b'"')[0::2])


def nests_deeper(data: bytes | str, max_depth: int = MAX_JSON_DEPTH) -> bool:
    """Whether the arrays and objects of a JSON text nest deeper than ``max_depth`` (brackets
    inside strings do not count)."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if raw.count(b"[") + raw.count(b"{") <= max_depth:
        return False
    parens = _outside_strings(raw).translate(_AS_PARENS, _NOT_BRACKETS)
    if b"(" * (max_depth + 1) in parens:  # the usual attack: one long run of openers
        return True
    # Each pass removes the innermost level (the pairs adjacent now), one C-speed pass each.
    for level in range(max_depth + 1):
        if not parens:
            return False
        inner = parens.replace(b"()", b"")
        if inner == parens:
            # Unbalanced (not JSON): what is left is ")))(((", whose openers still nest.
            return level + parens.count(b"(") > max_depth
        parens = inner
    return True


def check_depth(data: bytes | str, *, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Raise :class:`JsonTooDeep` when the text nests deeper than ``max_depth``."""
    if nests_deeper(data, max_depth):
        text = data if isinstance(data, str) else data[:200].decode("utf-8", "replace")
        raise JsonTooDeep(f"JSON nested deeper than {max_depth} levels", text, 0)


def loads(data: bytes | str, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` of a text from outside, refused when it nests deeper than ``max_depth``."""
    check_depth(data, max_depth=max_depth)
    return json.loads(data)
