"""Size limits on the source (issue 14, "Done when"): no function above radon cyclomatic
complexity 25 and no module above 800 lines in ``src/``. Migrations are exempt: each one is a
generated, append-only record of the schema at one point in time.

A function or module over its limit is a sign that it does several jobs; split it by phase or
by use case (ADR 0013) instead of raising the limit.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from radon.complexity import cc_visit
from radon.visitors import Class, Function

SOURCE = Path(__file__).resolve().parent.parent / "src"
MAX_COMPLEXITY = 25
MAX_LINES = 800
GENERATED = ("trellis/db/migrations/versions/",)

# Functions over the limit, each waiting for its own split. The list only shrinks: a function
# that is no longer over the limit must leave it (see the test below).
KNOWN_OVER: frozenset[str] = frozenset()


def source_modules() -> Iterator[tuple[str, str]]:
    for path in sorted(SOURCE.rglob("*.py")):
        name = path.relative_to(SOURCE).as_posix()
        if not name.startswith(GENERATED):
            yield name, path.read_text(encoding="utf-8")


def _functions(blocks: Iterable[Function | Class]) -> Iterator[Function]:
    for block in blocks:
        if isinstance(block, Class):
            yield from _functions(block.methods)
            yield from _functions(block.inner_classes)
        else:
            yield block
            yield from _functions(block.closures)


def complexities() -> dict[str, int]:
    found = {}
    for name, text in source_modules():
        # cc_visit lists a class's methods twice (inside the class and on their own).
        top = [b for b in cc_visit(text) if not (isinstance(b, Function) and b.is_method)]
        for function in _functions(top):
            found[f"{name}::{function.fullname}"] = function.complexity
    return found


def test_no_function_is_too_complex() -> None:
    over = {
        name: value
        for name, value in complexities().items()
        if value > MAX_COMPLEXITY and name not in KNOWN_OVER
    }
    assert not over, f"Cyclomatic complexity above {MAX_COMPLEXITY}: {over}"


def test_no_module_is_too_long() -> None:
    sizes = {name: len(text.splitlines()) for name, text in source_modules()}
    long = {name: lines for name, lines in sizes.items() if lines > MAX_LINES}
    assert not long, f"Modules above {MAX_LINES} lines: {long}"


def test_the_known_exceptions_only_shrink() -> None:
    found = complexities()
    fixed = {name for name in KNOWN_OVER if found.get(name, 0) <= MAX_COMPLEXITY}
    assert not fixed, f"No longer over the limit; take them off KNOWN_OVER: {sorted(fixed)}"


def test_the_checks_see_the_source() -> None:
    """Guards against a path mistake that would make every check above pass vacuously."""
    found = complexities()
    assert len(found) > 1000
    assert "trellis/domains/contacts/upsert.py::ContactUpserter.run" in found
