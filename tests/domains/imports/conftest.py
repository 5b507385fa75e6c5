from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class BrokenFile:
    path: Path
    good_emails: set[str] = field(default_factory=set)
    bad_lines: dict[int, str] = field(default_factory=dict)  # line -> column ("" = whole row)
    rows: int = 0


def broken_csv(path: Path, rows: int = 10_000, *, huge_line: bool = False) -> BrokenFile:
    """A CSV of ``rows`` data rows, one in fifty deliberately broken in some way."""
    out = BrokenFile(path, rows=rows)
    lines: list[bytes] = [b"Email,First name,Last name,Country,Lead score,Tags"]
    for i in range(rows):
        line = len(lines) + 1
        email = f"person{i}@example.com"
        cells = [email, f"Zoë{i}", f"Last{i}", "FR", str(i % 100), "csv"]
        kind = i % 50
        if kind == 7:
            cells[0] = f"person{i}.example.com"
            out.bad_lines[line] = "Email"
        elif kind == 13:
            cells[3] = "XX"
            out.bad_lines[line] = "Country"
        elif kind == 21:
            cells[4] = "lots"
            out.bad_lines[line] = "Lead score"
        elif kind == 29:
            cells = cells[:3]
            out.bad_lines[line] = ""
        elif kind == 37:
            cells = [*cells, "surplus"]
            out.bad_lines[line] = ""
        elif kind == 43:
            out.bad_lines[line] = ""
            # Latin-1 bytes in a UTF-8 file: a broken encoding on this line only.
            lines.append(f"{email},Fran".encode() + b"\xe7ois,Last,FR,1,csv")
            continue
        else:
            out.good_emails.add(email)
        lines.append(",".join(cells).encode())
        if huge_line and i == rows // 2:
            out.bad_lines[len(lines) + 1] = ""
            lines.append(b"huge@example.com," + b"x" * (10 * 1024 * 1024) + b",L,FR,1,csv")
    # A blank line and a repeat of an earlier good row: neither is an error.
    lines.append(b"")
    lines.append(b"person0@example.com,First0,Renamed,FR,0,csv")
    path.write_bytes(b"\n".join(lines) + b"\n")
    return out
