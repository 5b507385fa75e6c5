"""Collaborators a service receives from the composition root (:mod:`trellis.bootstrap`).

Importing a module wires nothing. A service declares what it needs as a :class:`Slot`, the
composition root fills it, and reading a slot that was never filled fails loudly instead of
running with half a catalogue (a segment filter type unknown to one process, say).
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar, overload

T = TypeVar("T")


class NotWired(RuntimeError):
    """A service was used before the composition root gave it its collaborators."""


class Slot(Generic[T]):
    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name
        self._owner = owner.__name__

    @overload
    def __get__(self, instance: None, owner: type) -> Slot[T]: ...

    @overload
    def __get__(self, instance: object, owner: type) -> T: ...

    def __get__(self, instance: object | None, owner: type) -> Slot[T] | T:
        if instance is None:
            return self
        try:
            value: T = instance.__dict__[self._name]
        except KeyError:
            raise NotWired(
                f"{self._owner}.{self._name} is not wired: build the application with "
                "trellis.bootstrap before using the service"
            ) from None
        return value

    def __set__(self, instance: Any, value: T) -> None:
        instance.__dict__[self._name] = value
