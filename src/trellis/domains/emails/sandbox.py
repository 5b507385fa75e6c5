"""The template sandbox, bounded: no template can burn the CPU or the memory.

Jinja2's ``SandboxedEnvironment`` stops templates from reaching Python's internals, but not from
computing: ``{{ 9**(9**9) }}`` is one unbounded big-integer power, ``"x" * 10**9`` a gigabyte,
``{% set a = b ~ b %}`` repeated doubles a string per line, and nested loops over a long field
multiply. Every template the product renders from user text (emails, landing pages, form and
notification messages) runs in :class:`BoundedSandbox`, which holds each render to:

- integers of at most :data:`MAX_INT_BITS` bits (``**`` and ``*`` are checked before they run);
- strings and sequences of at most :data:`MAX_TEXT` characters / :data:`MAX_ITEMS` items, checked
  before ``*``, ``+``, ``~``, ``replace``, ``center`` and ``join`` build them, and after every
  filter; ``%`` formats only with widths of at most 100;
- :data:`MAX_LOOP_ITERATIONS` loop iterations in all (nested loops count every inner step);
- :data:`MAX_OUTPUT` characters of output in all (what is written, and what ``{% set %}`` blocks
  capture);
- no calls at all (saving refuses them too, see :mod:`trellis.domains.emails.render`).

Going past a bound raises :class:`TemplateLimit` (a ``SecurityError``): saving reports it as a
422 on the field, a send records it as a failed send, a landing page answers with an error page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from typing import Any

from jinja2 import Environment, Template, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import pass_context
from markupsafe import Markup, soft_str

MAX_INT_BITS = 256
MAX_TEXT = 1_000_000
MAX_ITEMS = 10_000
MAX_LOOP_ITERATIONS = 10_000
MAX_OUTPUT = 10_000_000
MAX_FORMAT_WIDTH = 100

LOOP_FILTER = "trellis_bounded_loop"
_FORMAT_WIDTH = re.compile(r"%[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


class TemplateLimit(SecurityError):
    """A template went past one of the sandbox's bounds."""


class RenderBudget:
    """What one render has used so far."""

    def __init__(self) -> None:
        self.iterations = 0
        self.output = 0

    def iterate(self) -> None:
        self.iterations += 1
        if self.iterations > MAX_LOOP_ITERATIONS:
            raise TemplateLimit(f"More than {MAX_LOOP_ITERATIONS} loop iterations in one render.")

    def write(self, piece: Any) -> None:
        self.output += len(piece) if isinstance(piece, str) else 0
        if self.output > MAX_OUTPUT:
            raise TemplateLimit(f"The template writes more than {MAX_OUTPUT} characters.")


class _BoundedContext(Context):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.budget = RenderBudget()


def _budget(context: Context) -> RenderBudget:
    budget = getattr(context, "budget", None)
    return budget if isinstance(budget, RenderBudget) else RenderBudget()


class _CountedBuffer(list[Any]):
    """The list a ``{% set %}`` or ``{% filter %}`` block captures into, counted as output."""

    def __init__(self, budget: RenderBudget) -> None:
        super().__init__()
        self._budget = budget

    def append(self, piece: Any) -> None:
        self._budget.write(piece)
        super().append(piece)

    def extend(self, pieces: Iterable[Any]) -> None:
        for piece in pieces:
            self.append(piece)


def _text_limit(length: int) -> None:
    if length > MAX_TEXT:
        raise TemplateLimit(f"A value would be longer than {MAX_TEXT} characters.")


def _checked(value: Any) -> Any:
    """A value a template made, refused when it is over a bound."""
    if isinstance(value, str):
        _text_limit(len(value))
    elif isinstance(value, list | tuple | dict) and len(value) > MAX_ITEMS:
        raise TemplateLimit(f"A sequence would have more than {MAX_ITEMS} items.")
    elif isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise TemplateLimit(f"A number would be larger than {MAX_INT_BITS} bits.")
    return value


def _size(value: Any) -> int:
    return len(value) if isinstance(value, str | list | tuple) else 0


def _check_binop(operator: str, left: Any, right: Any) -> None:
    numbers = isinstance(left, int) and isinstance(right, int)
    if operator == "**" and numbers and right > 0 and abs(left) > 1:
        if left.bit_length() * right > MAX_INT_BITS:
            raise TemplateLimit(f"A number would be larger than {MAX_INT_BITS} bits.")
    elif operator == "*":
        if numbers and left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise TemplateLimit(f"A number would be larger than {MAX_INT_BITS} bits.")
        for seq, times in ((left, right), (right, left)):
            if isinstance(times, int) and isinstance(seq, str | list | tuple):
                limit = MAX_TEXT if isinstance(seq, str) else MAX_ITEMS
                if len(seq) * max(times, 0) > limit:
                    raise TemplateLimit(f"A value would be longer than {limit} characters/items.")
    elif operator == "+" and _size(left) + _size(right) > MAX_TEXT:
        raise TemplateLimit(f"A value would be longer than {MAX_TEXT} characters.")
    elif operator == "%" and isinstance(left, str):
        for width, precision in _FORMAT_WIDTH.findall(left):
            for number in (width, precision):
                if number == "*" or (number and int(number) > MAX_FORMAT_WIDTH):
                    raise TemplateLimit(
                        f"Formatting widths are at most {MAX_FORMAT_WIDTH} (no '*')."
                    )


def _bounded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """The filter, with the size of what it builds checked before (where it can grow a value
    by a factor the template chooses) and after (for every filter)."""
    if getattr(function, "trellis_bounded", False):
        return function

    # Filters that take the environment, eval context or context get it as first argument.
    skip = 1 if hasattr(function, "jinja_pass_arg") else 0

    def check_first(given: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
        args = given[skip:]
        if name == "center":
            width = args[1] if len(args) > 1 else kwargs.get("width", 80)
            if isinstance(width, int):
                _text_limit(width)
        elif name == "replace" and len(args) >= 3:
            text, old, new = (soft_str(a) for a in args[:3])
            hits = len(text) + 1 if not old else text.count(old)
            _text_limit(len(text) + hits * max(0, len(new) - len(old)))
        elif name == "join" and len(args) >= 2 and isinstance(args[1], Iterable):
            items = list(args[1])
            separator = args[2] if len(args) > 2 else kwargs.get("d", "")
            total = sum(len(soft_str(i)) for i in items[: MAX_ITEMS + 1])
            _text_limit(total + len(soft_str(separator)) * max(0, len(items) - 1))

    def bounded(*args: Any, **kwargs: Any) -> Any:
        check_first(args, kwargs)
        return _checked(function(*args, **kwargs))

    bounded.trellis_bounded = True  # type: ignore[attr-defined]
    if skip:
        # Keep Jinja's view of the filter: it takes the environment or context first.
        bounded.jinja_pass_arg = function.jinja_pass_arg  # type: ignore[attr-defined]
    return bounded


@pass_context
def _bounded_loop(context: Context, iterable: Any) -> Iterator[Any]:
    budget = _budget(context)
    for item in iterable:
        budget.iterate()
        yield item


class _BoundedCodeGenerator(CodeGenerator):
    """Loops count their iterations, ``~`` checks its length first, captured blocks count."""

    def visit_Template(self, node: nodes.Template, frame: Frame | None = None) -> None:
        # Before the generator collects the filters the template uses.
        for loop in node.find_all(nodes.For):
            counted = isinstance(loop.iter, nodes.Filter) and loop.iter.name == LOOP_FILTER
            if not counted:
                loop.iter = nodes.Filter(
                    loop.iter, LOOP_FILTER, [], [], None, None, lineno=loop.lineno
                )
        super().visit_Template(node, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.bounded_concat(context, (")
        for argument in node.nodes:
            self.visit(argument, frame)
            self.write(", ")
        self.write("))")

    def buffer(self, frame: Frame) -> None:
        frame.buffer = self.temporary_identifier()
        self.writeline(f"{frame.buffer} = environment.bounded_buffer(context)")


class _BoundedTemplate(Template):
    """A template whose top-level output is counted, however it is rendered."""

    @classmethod
    def _from_namespace(
        cls,
        environment: Environment,
        namespace: MutableMapping[str, Any],
        globals: MutableMapping[str, Any],
    ) -> Template:
        template = super()._from_namespace(environment, namespace, globals)
        inner = template.root_render_func
        assert isinstance(environment, BoundedSandbox)

        def root(context: Context) -> Iterator[str]:
            return environment.root_output(context, inner(context))

        root.__wrapped__ = inner  # type: ignore[attr-defined]
        template.root_render_func = root
        return template


class BoundedSandbox(SandboxedEnvironment):
    """A sandbox whose templates stay within the bounds above."""

    code_generator_class = _BoundedCodeGenerator
    context_class = _BoundedContext
    template_class = _BoundedTemplate
    intercepted_binops = frozenset({"**", "*", "+", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.filters = {
            name: _bounded_filter(name, function) for name, function in self.filters.items()
        }
        self.filters[LOOP_FILTER] = _bounded_loop

    def set_filters(self, filters: Mapping[str, Callable[..., Any]]) -> None:
        """Replace the filters (each bounded), keeping the loop counter."""
        self.filters = {name: _bounded_filter(name, f) for name, f in filters.items()}
        self.filters[LOOP_FILTER] = _bounded_loop

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _check_binop(operator, left, right)
        return _checked(super().call_binop(context, operator, left, right))

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        raise SecurityError("templates cannot call functions or methods")

    def bounded_concat(self, context: Context, values: tuple[Any, ...]) -> str:
        """``a ~ b``, as Jinja's markup_join (autoescape) or str_join, length checked first."""
        parts = [soft_str(v) for v in values]
        _text_limit(sum(len(p) for p in parts))
        if context.eval_ctx.autoescape and any(hasattr(p, "__html__") for p in parts):
            return Markup("").join(parts)
        return "".join(str(p) for p in parts)

    def bounded_buffer(self, context: Context) -> list[Any]:
        return _CountedBuffer(_budget(context))

    def root_output(self, context: Context, pieces: Iterable[str]) -> Iterator[str]:
        """The top-level output of a render, counted."""
        budget = _budget(context)
        for piece in pieces:
            budget.write(piece)
            yield piece
