"""Reading values out of decoded JSON by dotted path, fast for the short paths vendors use.

A path that is absent or null yields None (the device did not report it); a path running into
a value of the wrong kind (a number where an object was expected) is an error naming where.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from supplyline.telemetry.metrics import describe

Keys = tuple[tuple[str, int | None], ...]  # each segment and, if it is all digits, as a list index
Bases = tuple[Any, Any, Any]  # (reading, parent, envelope), each a dict


class Located(Exception):
    """A bad value at ``path`` relative to a base; the caller knows where that base sits."""

    def __init__(self, base: int, path: str, reason: str) -> None:
        super().__init__(reason)
        self.base, self.path, self.reason = base, path, reason


def walk(obj: Any, keys: Keys, base: int) -> Any:
    """The value at ``keys`` under ``obj``; None when absent or null (an unreported value)."""
    for n, (key, index) in enumerate(keys):
        t = type(obj)
        if t is dict:
            obj = obj.get(key)
        elif t is list and index is not None:
            obj = obj[index] if index < len(obj) else None
        else:
            expected = "an object or a list" if index is not None else "an object"
            raise Located(base, ".".join(k for k, _ in keys[:n]), f"expected {expected}, got {describe(obj)}")
        if obj is None:
            return None
    return obj


Getter = Callable[[Any], Any]
_EMPTY: Mapping[str, Any] = MappingProxyType({})


def getter(keys: Keys, base: int) -> Getter:
    """A function reading ``keys`` under an object, as ``walk`` does but faster for short paths.

    Chained ``.get`` costs a quarter of the generic walk; anything unusual on the way (a null,
    a list where an object was expected) raises AttributeError and takes the walk, which
    decides between "absent" and an error naming the path.
    """
    names = [k for k, _ in keys]
    indexes = [i for _, i in keys]

    def slow(obj: Any) -> Any:
        return walk(obj, keys, base)

    if len(keys) == 1 and indexes == [None]:
        key = names[0]
        return lambda obj: obj.get(key)  # every base is a dict
    if len(keys) == 2 and indexes == [None, None]:
        a, b = names

        def get2(obj: Any) -> Any:
            try:
                return obj.get(a, _EMPTY).get(b)
            except AttributeError:
                return slow(obj)

        return get2
    if len(keys) == 3 and indexes[:2] == [None, None]:
        a, b, c = names
        i = indexes[2]

        def get3(obj: Any) -> Any:
            try:
                last = obj.get(a, _EMPTY).get(b, _EMPTY)
                if i is None:
                    return last.get(c)
            except AttributeError:
                return slow(obj)
            # gps.0: a list index; anything but a list goes the long way (an object with a "0" key).
            if type(last) is list:
                return last[i] if i < len(last) else None
            return None if last is None or last is _EMPTY else slow(obj)

        return get3
    return slow


def keys_of(path: str) -> Keys:
    return tuple((seg, int(seg) if seg.isdigit() else None) for seg in path.split("."))


def join(prefix: str, path: str) -> str:
    return f"{prefix}.{path}" if prefix and path else prefix or path
