"""One source of "now", always timezone-aware UTC.

A ``Clock`` is what a component that decides by time is given at construction (the rule
evaluator's live window and heartbeat silences, the timestamps it writes): a test freezes it,
the composition root passes ``utcnow``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def epoch_ms(at: datetime) -> int:
    """Milliseconds since the epoch, as readings carry their time."""
    return int(at.timestamp() * 1000)
