"""A streaming CSV reader that never crashes on a bad file and never holds more than a line.

The file is read as bytes, one physical line at a time and never more than ``max_line_bytes``
of it: a longer line is skipped to its end without keeping it, and reported. Each line is
decoded on its own, so a broken byte sequence is reported with its line number and the lines
around it still import. Decoded lines feed :mod:`csv`, which handles quoting (including quoted
line breaks) and caps every field at ``max_field_chars``.

Nothing here touches the database: the reader yields :class:`Record` values that say, for each
CSV record, its first line number, its cells, or why it could not be read.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
SAMPLE_BYTES = 64 * 1024
MAX_LINE_BYTES = 1024 * 1024
MAX_FIELD_CHARS = 64 * 1024

ENCODING_ALIASES = {
    "utf8": "utf-8",
    "utf-8": "utf-8",
    "utf-8-sig": "utf-8",
    "latin1": "latin-1",
    "latin-1": "latin-1",
    "iso-8859-1": "latin-1",
    "iso8859-1": "latin-1",
    "cp1252": "cp1252",
    "windows-1252": "cp1252",
}


class UnreadableFile(ValueError):
    """The file cannot be imported at all (empty, no header, an unsupported encoding)."""


@dataclass(frozen=True)
class Format:
    encoding: str  # utf-8 | cp1252 | latin-1
    delimiter: str
    has_bom: bool = False

    def describe(self) -> dict[str, str | bool]:
        return {"encoding": self.encoding, "delimiter": self.delimiter, "bom": self.has_bom}


@dataclass(frozen=True)
class Record:
    """One CSV record. ``problem`` is set when the record could not be read as cells."""

    line: int
    values: list[str]
    problem: str | None = None


def normalise_encoding(name: str) -> str:
    key = name.strip().lower().replace("_", "-")
    if key in ENCODING_ALIASES:
        return ENCODING_ALIASES[key]
    raise ValueError(f"unsupported encoding {name!r}: use utf-8, latin-1 or cp1252")


def normalise_delimiter(value: str) -> str:
    named = {"comma": ",", "semicolon": ";", "tab": "\t", "\\t": "\t", "pipe": "|"}
    delimiter = named.get(value.strip().lower(), value)
    if delimiter not in DELIMITERS:
        raise ValueError(f"unsupported delimiter {value!r}: use , ; tab or |")
    return delimiter


def detect_encoding(sample: bytes) -> tuple[str, bool]:
    """UTF-8 (with or without BOM) when the sample decodes as UTF-8, else cp1252 / Latin-1."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8", True
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise UnreadableFile("The file is UTF-16; save it as UTF-8 (or Latin-1) and retry.")
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    text = decoder.decode(sample, final=False)
    broken = text.count("\ufffd") - sample.count("\ufffd".encode())
    if broken == 0:
        return "utf-8", False
    # Real UTF-8 text with a few broken bytes stays UTF-8 (the broken lines are reported);
    # accented text that is not UTF-8 at all is Latin-1.
    multibyte = sum(1 for ch in text if ord(ch) > 127 and ch != "\ufffd")
    if multibyte > broken:
        return "utf-8", False
    try:
        sample.decode("cp1252")
        return "cp1252", False
    except UnicodeDecodeError:
        return "latin-1", False


def detect_delimiter(lines: list[str]) -> str:
    """The candidate that splits the sample into the most columns, most consistently."""
    best, best_score = ",", -1.0
    for candidate in DELIMITERS:
        try:
            widths = [len(row) for row in csv.reader(lines, delimiter=candidate) if row]
        except csv.Error:
            continue
        if not widths or widths[0] < 2:
            continue
        header = widths[0]
        consistent = sum(1 for w in widths if w == header) / len(widths)
        score = consistent * 1000 + header
        if score > best_score:
            best, best_score = candidate, score
    return best


def file_size(path: Path) -> int | None:
    """The size of a regular file; None when there is none."""
    return path.stat().st_size if path.is_file() else None


def sniff(path: Path, *, encoding: str | None = None, delimiter: str | None = None) -> Format:
    with path.open("rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    if not sample.strip():
        raise UnreadableFile("The file is empty.")
    has_bom = sample.startswith(codecs.BOM_UTF8)
    chosen, _ = detect_encoding(sample) if encoding is None else (encoding, has_bom)
    if delimiter is None:
        text = sample[len(codecs.BOM_UTF8) if has_bom else 0 :].decode(chosen, errors="replace")
        lines = text.splitlines()
        if len(sample) == SAMPLE_BYTES and len(lines) > 1:
            lines = lines[:-1]  # the last one may be cut
        delimiter = detect_delimiter(lines[:200])
    return Format(encoding=chosen, delimiter=delimiter, has_bom=has_bom)


@dataclass
class _LineSource:
    """Physical lines as text, bounded; what went wrong with a line is noted by number."""

    handle: BinaryIO
    encoding: str
    skip_bom: bool
    max_line_bytes: int
    bytes_read: int = 0
    line: int = 0
    problems: dict[int, str] = field(default_factory=dict)

    def __iter__(self) -> Iterator[str]:
        readline = self.handle.readline
        limit = self.max_line_bytes
        encoding = self.encoding
        first = True
        while True:
            raw = readline(limit)
            if not raw:
                return
            self.bytes_read += len(raw)
            self.line += 1
            if first:
                first = False
                if self.skip_bom and raw.startswith(codecs.BOM_UTF8):
                    raw = raw[len(codecs.BOM_UTF8) :]
            if len(raw) >= limit and not raw.endswith(b"\n"):
                # Too long: skip to the end of the line without keeping any of it.
                skipped = len(raw)
                while True:
                    more = readline(limit)
                    if not more:
                        break
                    self.bytes_read += len(more)
                    skipped += len(more)
                    if more.endswith(b"\n"):
                        break
                self.problems[self.line] = (
                    f"The line is {skipped:,} bytes long; lines may be at most "
                    f"{limit:,} bytes. It was skipped."
                )
                yield "\n"
                continue
            try:
                yield raw.decode(encoding)
            except UnicodeDecodeError as exc:
                self.problems[self.line] = (
                    f"Broken {encoding} text at byte {exc.start + 1} of the line "
                    f"(byte 0x{raw[exc.start]:02x}); the row was skipped."
                )
                yield "\n"


class CsvStream:
    """Iterate the records of a CSV file, the header first; bounded memory for any file."""

    def __init__(
        self,
        path: Path,
        fmt: Format,
        *,
        max_line_bytes: int = MAX_LINE_BYTES,
        max_field_chars: int = MAX_FIELD_CHARS,
    ) -> None:
        self.path = path
        self.format = fmt
        self.max_line_bytes = max_line_bytes
        self.max_field_chars = max_field_chars
        self._source: _LineSource | None = None

    @property
    def bytes_read(self) -> int:
        return self._source.bytes_read if self._source is not None else 0

    def __iter__(self) -> Iterator[Record]:
        with self.path.open("rb", buffering=1024 * 1024) as handle:
            yield from self._records(handle)

    def _records(self, handle: BinaryIO) -> Iterator[Record]:
        source = _LineSource(
            handle,
            encoding=self.format.encoding,
            skip_bom=self.format.encoding == "utf-8",
            max_line_bytes=self.max_line_bytes,
        )
        self._source = source
        previous = csv.field_size_limit()
        csv.field_size_limit(self.max_field_chars)
        try:
            reader = csv.reader(source, delimiter=self.format.delimiter, strict=False)
            problems = source.problems
            end = 0
            while True:
                start = end + 1
                try:
                    values = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    end = source.line
                    yield Record(start, [], _csv_problem(exc, self.max_field_chars))
                    continue
                end = source.line
                if problems:
                    found = next(
                        (problems.pop(n) for n in range(start, end + 1) if n in problems), None
                    )
                    if found is not None:
                        for n in [n for n in problems if n <= end]:
                            problems.pop(n)
                        yield Record(start, [], found)
                        continue
                yield Record(start, values)
        finally:
            csv.field_size_limit(previous)


def _csv_problem(exc: csv.Error, max_field_chars: int) -> str:
    text = str(exc)
    if "field larger than field limit" in text:
        return (
            f"A cell is longer than {max_field_chars:,} characters (often an unclosed quote); "
            "the row was skipped."
        )
    return f"The row cannot be read as CSV: {text}."


def read_head(path: Path, fmt: Format, rows: int) -> tuple[list[str], list[Record]]:
    """The header and the first ``rows`` records, for previews."""
    header: list[str] | None = None
    records: list[Record] = []
    for record in CsvStream(path, fmt):
        if header is None:
            if record.problem is not None:
                raise UnreadableFile(f"The header line cannot be read: {record.problem}")
            if not any(v.strip() for v in record.values):
                continue
            header = record.values
            continue
        records.append(record)
        if len(records) >= rows:
            break
    if header is None:
        raise UnreadableFile("The file has no header line.")
    return header, records
