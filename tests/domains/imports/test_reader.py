"""The CSV reader on its own: encodings, delimiters, quoting, and files that are broken."""

from __future__ import annotations

from pathlib import Path

import pytest

from trellis.domains.imports.reader import (
    CsvStream,
    UnreadableFile,
    detect_delimiter,
    read_head,
    sniff,
)


def records(path: Path, **kw: object) -> list[tuple[int, list[str], str | None]]:
    fmt = sniff(path)
    return [(r.line, r.values, r.problem) for r in CsvStream(path, fmt, **kw)]  # type: ignore[arg-type]


def write(tmp_path: Path, data: bytes, name: str = "in.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_utf8_with_bom_semicolons_and_quotes(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '\ufeffemail;name;note\r\na@x.com;Zoë;"semi;colon"\r\nb@x.com;Bo;"two\r\nlines"\r\n'.encode(),
    )
    fmt = sniff(path)
    assert (fmt.encoding, fmt.delimiter, fmt.has_bom) == ("utf-8", ";", True)
    assert records(path) == [
        (1, ["email", "name", "note"], None),
        (2, ["a@x.com", "Zoë", "semi;colon"], None),
        (3, ["b@x.com", "Bo", "two\r\nlines"], None),
    ]


def test_latin1_and_tabs(tmp_path: Path) -> None:
    path = write(tmp_path, "email\tcity\nc@x.com\tZürich\nd@x.com\tSão Paulo\n".encode("latin-1"))
    fmt = sniff(path)
    assert fmt.encoding in {"cp1252", "latin-1"}
    assert fmt.delimiter == "\t"
    assert [r[1][1] for r in records(path)][1:] == ["Zürich", "São Paulo"]


def test_pipe_and_comma_detection() -> None:
    assert detect_delimiter(["a|b|c", "1|2|3"]) == "|"
    assert detect_delimiter(["a,b;c", "1,2;3", "4,5;6"]) == ","
    assert detect_delimiter(["name;note", 'x;"a, b, c, d"', "y;z"]) == ";"


def test_a_broken_byte_in_a_utf8_file_is_reported_with_its_line(tmp_path: Path) -> None:
    # The sample (first 64 KB) is clean UTF-8; line 3 further down has a stray byte.
    head = b"email,name\n" + b"".join(b"u%d@x.com,Name\n" % i for i in range(5000))
    path = write(tmp_path, head + b"bad@x.com,Fran\xe7ois\n" + b"ok@x.com,Ok\n")
    found = records(path)
    broken = [r for r in found if r[2] is not None]
    assert len(broken) == 1
    assert broken[0][0] == 5002
    assert "utf-8" in broken[0][2]
    assert "0xe7" in broken[0][2]
    assert found[-1] == (5003, ["ok@x.com", "Ok"], None)


def test_a_10_mb_line_is_skipped_without_being_kept(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    with path.open("wb") as handle:
        handle.write(b"email,name\nbefore@x.com,Before\n")
        handle.write(b"long@x.com," + b"x" * (10 * 1024 * 1024) + b"\n")
        handle.write(b"after@x.com,After\n")
    found = records(path)
    assert found[0][1] == ["email", "name"]
    assert found[1] == (2, ["before@x.com", "Before"], None)
    assert found[2][0] == 3
    assert found[2][1] == []
    assert "bytes long" in (found[2][2] or "")
    assert found[3] == (4, ["after@x.com", "After"], None)


def test_an_unclosed_quote_costs_only_the_lines_it_swallows(tmp_path: Path) -> None:
    lines = [b"email,name", b'a@x.com,"never closed']
    lines += [b"filler%d,x" % i for i in range(10)]
    body = b"\n".join(lines) + b"\n"
    path = write(tmp_path, body)
    found = list(CsvStream(path, sniff(path), max_field_chars=50))
    assert found[0].values == ["email", "name"]
    assert found[1].line == 2
    assert found[1].problem is not None
    assert "longer than" in found[1].problem
    # The reader carries on after the record it gave up on.
    assert found[-1].values == ["filler9", "x"]


def test_empty_and_utf16_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile):
        sniff(write(tmp_path, b"  \n", "empty.csv"))
    with pytest.raises(UnreadableFile, match="UTF-16"):
        sniff(write(tmp_path, "email\n".encode("utf-16"), "wide.csv"))


def test_read_head_skips_blank_leading_lines(tmp_path: Path) -> None:
    path = write(tmp_path, b"\n\nemail,name\na@x.com,A\nb@x.com,B\n")
    header, rows = read_head(path, sniff(path), 1)
    assert header == ["email", "name"]
    assert [r.values for r in rows] == [["a@x.com", "A"]]
