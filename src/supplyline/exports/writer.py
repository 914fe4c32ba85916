"""Hive-partitioned Parquet: ``<root>/<dataset>/date=YYYY-MM-DD/part-00000.parquet``.

Rows arrive in batches, for any day in any order; each day keeps a small buffer that goes to
its file as a row group once it holds ``batch_rows`` rows, so memory is bounded by the buffers,
not by the export. Every day of the range gets its file, an empty one (the schema and no rows)
where nothing happened, so a reader of any partition sees the same columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

PART = "part-00000.parquet"


@dataclass(frozen=True)
class WrittenFile:
    dataset: str
    date: date
    path: str  # relative to the export's root
    rows: int
    bytes: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "date": self.date.isoformat(),
            "path": self.path,
            "rows": self.rows,
            "bytes": self.bytes,
        }


def days(start: date, end: date) -> list[date]:
    """Every day from ``start`` to ``end``, both included."""
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def partition_path(dataset: str, day: date) -> str:
    return f"{dataset}/date={day.isoformat()}/{PART}"


class PartitionedWriter:
    """One dataset's files under ``root``, one per day from ``start`` to ``end``."""

    def __init__(
        self, root: Path, dataset: str, schema: pa.Schema, start: date, end: date, batch_rows: int = 50_000
    ) -> None:
        self.root, self.dataset, self.schema = root, dataset, schema
        self.start, self.end, self.batch_rows = start, end, batch_rows
        self._buffers: dict[date, list[pa.RecordBatch]] = {}
        self._buffered: dict[date, int] = {}
        self._writers: dict[date, pq.ParquetWriter] = {}
        self._rows: dict[date, int] = {}

    def write(self, day: date, batch: pa.RecordBatch) -> None:
        """Add rows of ``day`` (a batch of exactly this writer's schema)."""
        if not self.start <= day <= self.end:
            return
        if batch.schema != self.schema:
            raise ValueError(f"{self.dataset}: batch schema {batch.schema} is not {self.schema}")
        if not batch.num_rows:
            return
        self._buffers.setdefault(day, []).append(batch)
        self._buffered[day] = self._buffered.get(day, 0) + batch.num_rows
        if self._buffered[day] >= self.batch_rows:
            self._flush(day)
        elif sum(self._buffered.values()) >= 4 * self.batch_rows:
            # Rows spread over many days (shipments in id order): small row groups, bounded memory.
            for buffered in list(self._buffers):
                self._flush(buffered)

    def write_rows(self, day: date, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.write(day, pa.RecordBatch.from_pylist(rows, schema=self.schema))

    def _writer(self, day: date) -> pq.ParquetWriter:
        found = self._writers.get(day)
        if found is None:
            path = self.root / partition_path(self.dataset, day)
            path.parent.mkdir(parents=True, exist_ok=True)
            found = self._writers[day] = pq.ParquetWriter(str(path), self.schema, compression="zstd")
        return found

    def _flush(self, day: date) -> None:
        batches = self._buffers.pop(day, [])
        self._buffered.pop(day, None)
        if batches:
            self._writer(day).write_table(pa.Table.from_batches(batches, schema=self.schema))
            self._rows[day] = self._rows.get(day, 0) + sum(b.num_rows for b in batches)

    def close(self) -> list[WrittenFile]:
        """Flush every buffer, write the empty days, close the files: what was written."""
        out = []
        for day in days(self.start, self.end):
            self._flush(day)
            self._writer(day).close()
            rel = partition_path(self.dataset, day)
            size = (self.root / rel).stat().st_size
            out.append(WrittenFile(self.dataset, day, rel, self._rows.get(day, 0), size))
        self._writers.clear()
        return out

    def abort(self) -> None:
        """Close what is open after a failure (the files are left incomplete)."""
        for w in self._writers.values():
            w.close()
        self._writers.clear()
