"""Opaque keyset cursors: stable under inserts, unlike offsets."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Generic, TypeVar

import orjson

from supplyline.kernel.errors import Invalid

T = TypeVar("T")


def encode_cursor(after: str | int, kind: str) -> str:
    raw = orjson.dumps({"a": after, "k": kind})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, kind: str) -> str | int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
        after = data["a"]
        if data.get("k") != kind or not isinstance(after, str | int):
            raise ValueError("wrong kind")
    except (ValueError, KeyError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise Invalid("cursor", "not a cursor issued for this list") from None
    return after


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None
