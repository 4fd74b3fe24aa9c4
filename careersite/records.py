"""Quicker pickling for the record types the build cache stores by the hundred thousand.

A ``NamedTuple`` pickles through two Python-level calls: its ``__getnewargs__`` when saved,
and its ``__new__`` (a Python function) when loaded. A record marked with
:func:`pickled_as_tuple` is saved as ``tuple.__new__(cls, fields)``, which loads in C:
at 10,000 articles (~110,000 records) the state loads in 77 ms instead of 93 and saves
in 223 instead of 244. The fields are not checked against the class when loaded; the
state's record schema (cache.record_schema) is, before any record is used.
"""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T", bound=type)


def pickled_as_tuple(cls: T) -> T:
    """Class decorator for a ``NamedTuple`` record kept in the build cache."""
    cls.__reduce__ = _reduce  # type: ignore[attr-defined]
    return cls


def _reduce(self: tuple, _new=tuple.__new__, _tuple=tuple) -> tuple:
    return _new, (type(self), _tuple(self))
