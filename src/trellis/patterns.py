"""Regular expressions users write (segment filters, form field patterns) and the ``*`` URL
patterns of campaign steps: RE2, bounded.

Python's ``re`` backtracks: ``^(a+)+$`` against 25 ``a`` and a ``!`` takes seconds and doubles
with every character, holding the GIL (on SQLite the filter runs inside the database callback,
so the whole server stalls). Every pattern a user supplies is therefore compiled and run by
RE2 (google-re2), whose matching time is linear in the subject whatever the pattern. RE2 does
not support the constructs that need backtracking (backreferences, lookaround, possessive and
atomic groups): such a pattern is refused when it is saved, with the reason.

Bounds: a pattern has at most :data:`MAX_PATTERN_LENGTH` characters and compiles to at most
:data:`MAX_PROGRAM_BYTES` of RE2 program (``a{1000}{1000}`` does not fit, nor does RE2 take a
repeat count over 1000); a value longer than :data:`MAX_SUBJECT_LENGTH` characters never
matches (the same on both databases).

PostgreSQL runs segment filters in the database with its own engine (``~*``), which needs
backtracking only for backreferences, refused here. Constructs RE2 accepts that PostgreSQL
reads differently or not at all are refused too (:data:`NOT_PORTABLE`), so that a segment
means the same on both databases.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import re2

MAX_PATTERN_LENGTH = 200
MAX_SUBJECT_LENGTH = 10_000
MAX_PROGRAM_BYTES = 1 << 20

# RE2 syntax PostgreSQL's engine does not share: named groups, Unicode classes, \C, \Q..\E,
# \z, and \b (a word boundary in RE2, a backspace in PostgreSQL).
NOT_PORTABLE = (
    ("(?P<", "named groups"),
    ("(?<", "named groups"),
    ("\\p", "Unicode classes (\\p)"),
    ("\\P", "Unicode classes (\\P)"),
    ("\\C", "\\C"),
    ("\\Q", "\\Q...\\E quoting"),
    ("\\z", "\\z (use $)"),
    ("\\b", "\\b (use \\y on PostgreSQL, or spell the boundary out)"),
    ("\\B", "\\B"),
)


class PatternError(ValueError):
    """A pattern that cannot be used; the message says why, for the person who wrote it."""


def _options(*, ignore_case: bool) -> Any:
    options = re2.Options()
    options.case_sensitive = not ignore_case
    options.max_mem = MAX_PROGRAM_BYTES
    options.log_errors = False
    return options


@lru_cache(maxsize=512)
def compile_pattern(pattern: str, *, ignore_case: bool = False) -> Any:
    """The RE2 program of a user pattern; :class:`PatternError` when it cannot be one."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise PatternError(f"A pattern has at most {MAX_PATTERN_LENGTH} characters.")
    try:
        return re2.compile(pattern, _options(ignore_case=ignore_case))
    except re2.error as exc:
        reason = exc.args[0] if exc.args else ""
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise PatternError(
            f"Not a supported regular expression ({reason or 'invalid'}); backreferences, "
            "lookahead and lookbehind are not supported."
        ) from None


def check_pattern(pattern: str, *, portable: bool = False) -> None:
    """Refuse what cannot be compiled; ``portable``: also what PostgreSQL reads differently."""
    compile_pattern(pattern)
    if portable:
        for construct, name in NOT_PORTABLE:
            if construct in pattern:
                raise PatternError(f"{name} cannot be used in a segment filter.")


def search(pattern: str, subject: str, *, ignore_case: bool = False) -> bool:
    """Whether the pattern matches anywhere in the value; a value longer than
    :data:`MAX_SUBJECT_LENGTH` never matches."""
    if len(subject) > MAX_SUBJECT_LENGTH:
        return False
    return compile_pattern(pattern, ignore_case=ignore_case).search(subject) is not None


def fullmatch(pattern: str, subject: str) -> bool:
    """Whether the pattern matches the whole value (never one over the length bound)."""
    if len(subject) > MAX_SUBJECT_LENGTH:
        return False
    return compile_pattern(pattern).fullmatch(subject) is not None


@lru_cache(maxsize=1024)
def _wildcard(pattern: str) -> Any:
    body = ".*".join(re2.escape(part) for part in pattern.split("*"))
    return re2.compile("(?s)" + body, _options(ignore_case=True))


def wildcard_match(pattern: str, value: str) -> bool:
    """``*`` matches any run of characters, everything else itself; the whole value must match;
    case is ignored. RE2 here too: ``*a*a*a*…b`` would make a backtracking engine try every way
    of splitting a long URL."""
    return _wildcard(pattern).fullmatch(value) is not None
