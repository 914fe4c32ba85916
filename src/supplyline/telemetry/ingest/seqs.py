"""Which sequence numbers a device has already had stored, as merged closed ranges.

Ranges rather than a high-water mark: a gateway replaying hours of buffered readings after a
reconnect sends sequence numbers older than the live ones, and those fill a gap rather than
repeat anything.
"""

from __future__ import annotations

import bisect


class SeqRanges:
    __slots__ = ("ends", "starts")

    def __init__(self, ranges: list[list[int]] | None = None) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        for start, end in sorted(ranges or []):
            self._add_range(start, end)

    def __contains__(self, seq: int) -> bool:
        ends = self.ends
        if ends and seq > ends[-1]:
            return False  # the common case: the next live reading
        i = bisect.bisect_right(self.starts, seq) - 1
        return i >= 0 and seq <= ends[i]

    def add(self, seq: int) -> None:
        self._add_range(seq, seq)

    def add_sorted(self, seqs: list[int]) -> None:
        """Add ascending sequence numbers, run by run (a live device sends runs of +1)."""
        if not seqs:
            return
        start = prev = seqs[0]
        for seq in seqs[1:]:
            if seq > prev + 1:
                self._add_range(start, prev)
                start = seq
            prev = seq
        self._add_range(start, prev)

    def _add_range(self, start: int, end: int) -> None:
        starts, ends = self.starts, self.ends
        if ends and start == ends[-1] + 1:
            ends[-1] = max(ends[-1], end)
            return
        i = bisect.bisect_left(starts, start)
        # Merge with the range before when touching or overlapping.
        if i > 0 and ends[i - 1] >= start - 1:
            i -= 1
            start = starts[i]
            end = max(end, ends[i])
            del starts[i], ends[i]
        while i < len(starts) and starts[i] <= end + 1:
            end = max(end, ends[i])
            del starts[i], ends[i]
        starts.insert(i, start)
        ends.insert(i, end)

    def max(self) -> int | None:
        return self.ends[-1] if self.ends else None

    def as_list(self) -> list[list[int]]:
        return [[s, e] for s, e in zip(self.starts, self.ends, strict=True)]
