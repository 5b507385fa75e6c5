from __future__ import annotations

import pytest

from trellis.domains.audit.service import diff


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ({"a": 1}, {"a": 1}, {}),
        ({"a": 1}, {"a": 2}, {"a": {"old": 1, "new": 2}}),
        ({}, {"a": "x"}, {"a": {"old": None, "new": "x"}}),
        ({"a": "x"}, {}, {"a": {"old": "x", "new": None}}),
        (
            {"tags": ["a", "b"]},
            {"tags": ["a", "c"]},
            {"tags": {"old": ["a", "b"], "new": ["a", "c"]}},
        ),
        (
            {"settings": {"hour": 9, "tz": "UTC"}},
            {"settings": {"hour": 10, "tz": "UTC"}},
            {"settings": {"changes": {"hour": {"old": 9, "new": 10}}}},
        ),
    ],
)
def test_plain_fields(old: dict, new: dict, expected: dict) -> None:
    assert diff(old, new) == expected


def test_keyed_items_are_added_removed_and_changed() -> None:
    old = {
        "events": [
            {"uuid": "e1", "name": "Send welcome", "delay": 0},
            {"uuid": "e2", "name": "Tag", "delay": 0},
        ]
    }
    new = {
        "events": [
            {"uuid": "e1", "name": "Send welcome", "delay": 3},
            {"uuid": "e3", "name": "Score", "delay": 0},
        ]
    }
    assert diff(old, new) == {
        "events": {
            "added": [{"uuid": "e3", "name": "Score", "delay": 0}],
            "removed": [{"uuid": "e2", "name": "Tag", "delay": 0}],
            "changed": [{"key": "e1", "changes": {"delay": {"old": 0, "new": 3}}}],
        }
    }


def test_items_from_nothing() -> None:
    assert diff({"events": []}, {"events": [{"id": 1, "x": 1}]}) == {
        "events": {"added": [{"id": 1, "x": 1}]}
    }


def test_redacted_fields_say_only_that_they_changed() -> None:
    assert diff({"password": "h1"}, {"password": "h2"}, redact=["password"]) == {
        "password": {"old": "[redacted]", "new": "[redacted]"}
    }
    assert diff({"password": "h1"}, {"password": "h1"}, redact=["password"]) == {}
