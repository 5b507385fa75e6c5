"""User patterns run by RE2: linear whatever the pattern, bounded, refused when unsupported."""

from __future__ import annotations

import pytest

from trellis.events.base import Behaviour
from trellis.events.web import PageHit, page_hit
from trellis.patterns import (
    MAX_SUBJECT_LENGTH,
    PatternError,
    check_pattern,
    fullmatch,
    search,
    wildcard_match,
)


def test_backtracking_shapes_answer_at_once() -> None:
    # Each of these takes a backtracking engine (Python's re) exponential or high-polynomial
    # time; RE2 answers in one pass.
    assert not search("^(a+)+$", "a" * 5000 + "!")
    assert not fullmatch("(a|aa)*c", "a" * 5000)
    assert not wildcard_match("*a*a*a*a*a*a*a*a*a*a*b", "a" * 5000)


def test_url_patterns_keep_their_meaning() -> None:
    assert wildcard_match("https://www.example.com/*", "HTTPS://www.example.com/a?b=1")
    assert wildcard_match("*?utm=*", "https://x.example/?utm=1")
    assert not wildcard_match("a?b", "axb")
    assert wildcard_match("a.b", "A.B")
    assert not wildcard_match("a.b", "axb")
    hit = Behaviour(kind="page.hit", url="https://shop.example/" + "a" * 3000)
    assert not page_hit(PageHit(urls=["*a*a*a*a*a*a*a*a*b"]), hit)


def test_bounds() -> None:
    assert search("x", "x" * MAX_SUBJECT_LENGTH)
    assert not search("x", "x" * (MAX_SUBJECT_LENGTH + 1))
    assert search("ABC", "xabcx", ignore_case=True)
    assert not search("ABC", "xabcx")
    with pytest.raises(PatternError, match="at most 200 characters"):
        check_pattern("a" * 201)
    with pytest.raises(PatternError, match="invalid escape sequence"):
        check_pattern("(a)\\1")
    check_pattern("(?P<n>a)")
    with pytest.raises(PatternError, match="named groups"):
        check_pattern("(?P<n>a)", portable=True)
