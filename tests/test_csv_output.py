"""The one CSV writer: formulas become text, numbers stay numbers."""

from __future__ import annotations

import csv
import io

from trellis.csv_output import SafeCsvWriter


def test_every_formula_start_is_quoted_and_numbers_are_kept() -> None:
    buffer = io.StringIO()
    writer = SafeCsvWriter(buffer)
    writer.writerow(["=1+1", "+1", "-x", "@SUM(A1)", "\t=1", "\r=1", "\uff1d1", "plain"])
    writer.writerow([-5, 2.5, None, True, ["a", "=b"], ""])
    rows = list(csv.reader(io.StringIO(buffer.getvalue())))
    assert rows[0] == ["'=1+1", "'+1", "'-x", "'@SUM(A1)", "'\t=1", "'\r=1", "'\uff1d1", "plain"]
    assert rows[1] == ["-5", "2.5", "", "yes", "a, =b", ""]
