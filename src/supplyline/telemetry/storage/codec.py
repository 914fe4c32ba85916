"""Columnar encodings of readings: landing blobs (fast, uncompressed) and chunks (compact).

A batch is a set of equal-length columns: device index, timestamp (UTC epoch ms), sequence
number (-1 when the device sends none) and one float64 column per metric, NaN where a reading
does not carry that metric. Devices and metric names are listed once in the header.
"""

from __future__ import annotations

import struct
import uuid
import zlib
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]

LANDING_MAGIC = b"SLL1"
CHUNK_MAGIC = b"SLC1"


@dataclass
class Columns:
    """Readings of many devices, column by column."""

    devices: list[uuid.UUID]
    device_idx: I32
    ts_ms: I64
    seq: I64
    metrics: dict[str, F64] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.ts_ms.shape[0])

    def take(self, mask: npt.NDArray[np.bool_]) -> Columns:
        return Columns(
            self.devices,
            self.device_idx[mask],
            self.ts_ms[mask],
            self.seq[mask],
            {k: v[mask] for k, v in self.metrics.items()},
        )

    def points(self) -> int:
        """Stored metric values (not NaN): the unit of bytes_per_point."""
        return int(sum(int(np.count_nonzero(~np.isnan(v))) for v in self.metrics.values()))


def concat(parts: list[Columns]) -> Columns:
    """One Columns from many, re-indexing devices into one shared list."""
    devices: list[uuid.UUID] = []
    index: dict[uuid.UUID, int] = {}
    idx_parts, names = [], sorted({m for p in parts for m in p.metrics})
    for p in parts:
        remap = np.array([index.setdefault(d, len(index)) for d in p.devices], dtype=np.int32)
        idx_parts.append(remap[p.device_idx] if len(p) else p.device_idx)
    devices = list(index)
    metrics = {
        name: np.concatenate([p.metrics.get(name, np.full(len(p), np.nan)) for p in parts]) for name in names
    }
    return Columns(
        devices,
        np.concatenate(idx_parts).astype(np.int32) if parts else np.zeros(0, np.int32),
        np.concatenate([p.ts_ms for p in parts]) if parts else np.zeros(0, np.int64),
        np.concatenate([p.seq for p in parts]) if parts else np.zeros(0, np.int64),
        metrics,
    )


def _names(names: list[str]) -> bytes:
    return "\n".join(names).encode()


def encode_landing(cols: Columns) -> bytes:
    n, names = len(cols), list(cols.metrics)
    head = struct.pack("<4sIII", LANDING_MAGIC, n, len(cols.devices), len(_names(names)))
    body = [
        head,
        b"".join(d.bytes for d in cols.devices),
        _names(names),
        cols.device_idx.astype("<i4").tobytes(),
        cols.ts_ms.astype("<i8").tobytes(),
        cols.seq.astype("<i8").tobytes(),
    ]
    body += [cols.metrics[m].astype("<f8").tobytes() for m in names]
    return b"".join(body)


def decode_landing(blob: bytes) -> Columns:
    magic, n, nd, nn = struct.unpack_from("<4sIII", blob)
    if magic != LANDING_MAGIC:
        raise ValueError("not a landing blob")
    off = 16
    devices = [uuid.UUID(bytes=blob[off + 16 * i : off + 16 * (i + 1)]) for i in range(nd)]
    off += 16 * nd
    names = blob[off : off + nn].decode().split("\n") if nn else []
    off += nn
    device_idx = np.frombuffer(blob, "<i4", n, off).astype(np.int32)
    off += 4 * n
    ts = np.frombuffer(blob, "<i8", n, off).astype(np.int64)
    off += 8 * n
    seq = np.frombuffer(blob, "<i8", n, off).astype(np.int64)
    off += 8 * n
    metrics = {}
    for name in names:
        metrics[name] = np.frombuffer(blob, "<f8", n, off).astype(np.float64)
        off += 8 * n
    return Columns(devices, device_idx, ts, seq, metrics)


@dataclass
class Series:
    """One device's readings, sorted by time: what a chunk holds."""

    ts_ms: I64
    metrics: dict[str, F64]

    def __len__(self) -> int:
        return int(self.ts_ms.shape[0])


def encode_chunk(series: Series) -> bytes:
    """Delta-encoded timestamps and float64 columns, deflated: ~2-10 bytes a point."""
    names = sorted(series.metrics)
    deltas = series.ts_ms.astype("<i8")  # a copy: the deltas are computed in place
    deltas[1:] -= series.ts_ms[:-1]
    raw = b"".join(
        [
            struct.pack("<II", len(series), len(_names(names))),
            _names(names),
            deltas.tobytes(),
            *(series.metrics[m].astype("<f8").tobytes() for m in names),
        ]
    )
    return CHUNK_MAGIC + zlib.compress(raw, 1)


def decode_chunk(blob: bytes) -> Series:
    if blob[:4] != CHUNK_MAGIC:
        raise ValueError("not a chunk blob")
    raw = zlib.decompress(blob[4:])
    n, nn = struct.unpack_from("<II", raw)
    off = 8
    names = raw[off : off + nn].decode().split("\n") if nn else []
    off += nn
    ts = np.cumsum(np.frombuffer(raw, "<i8", n, off)).astype(np.int64)
    off += 8 * n
    metrics = {}
    for name in names:
        metrics[name] = np.frombuffer(raw, "<f8", n, off).astype(np.float64)
        off += 8 * n
    return Series(ts, metrics)


def merge_series(parts: list[Series]) -> Series:
    """Union of series of one device, sorted by time (stable: earlier parts first)."""
    names = sorted({m for p in parts for m in p.metrics})
    ts = np.concatenate([p.ts_ms for p in parts])
    order = np.argsort(ts, kind="stable")
    metrics = {
        m: np.concatenate([p.metrics.get(m, np.full(len(p), np.nan)) for p in parts])[order] for m in names
    }
    return Series(ts[order], metrics)
