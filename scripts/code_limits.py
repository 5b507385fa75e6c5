"""Print the functions above radon cyclomatic complexity 25 and the modules above 800 lines
in src/ (migrations apart), with their counts: the figures tests/test_code_limits.py enforces.

Usage: uv run python scripts/code_limits.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.test_code_limits import (
    MAX_COMPLEXITY,
    MAX_LINES,
    complexities,
    source_modules,
)


def main() -> None:
    over = sorted(
        ((value, name) for name, value in complexities().items() if value > MAX_COMPLEXITY),
        reverse=True,
    )
    for value, name in over:
        print(f"{value:4d}  {name}")
    print(f"functions above complexity {MAX_COMPLEXITY}: {len(over)}")
    long = [(len(text.splitlines()), name) for name, text in source_modules()]
    long = sorted((n, name) for n, name in long if n > MAX_LINES)
    for lines, name in long:
        print(f"{lines:5d}  {name}")
    print(f"modules above {MAX_LINES} lines: {len(long)}")


if __name__ == "__main__":
    main()
