"""Opaque keyset cursors: stable under inserts, unlike offsets."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Generic, TypeVar

import orjson

from supplyline.kernel.errors import Invalid

T = TypeVar("T")


Key = str | int
After = Key | list[Key]


def encode_cursor(after: After, kind: str) -> str:
    """``after``: the last key of a page (one value, or one per key column)."""
    raw = orjson.dumps({"a": after, "k": kind})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _is_key(value: object) -> bool:
    return isinstance(value, str | int) and not isinstance(value, bool)


def decode_cursor(cursor: str, kind: str) -> After:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
        after = data["a"]
        keys = after if isinstance(after, list) else [after]
        if data.get("k") != kind or not keys or not all(map(_is_key, keys)):
            raise ValueError("wrong kind")
    except (ValueError, KeyError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise Invalid("cursor", "not a cursor issued for this list") from None
    found: After = after
    return found


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None
