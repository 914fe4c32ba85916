"""What the ingestion path hands on once a payload is normalised: pure data, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

from supplyline.kernel.errors import Invalid


@dataclass(slots=True)
class NormalizedReading:
    """One measurement in canonical form, whatever the vendor sent.

    ``metrics`` holds canonical names in canonical units (booleans as 1.0 / 0.0); a metric the
    device did not report is absent rather than null, so storage never has to guess.
    """

    device: str  # the device code on the wire (topic, payload), not its database id
    ts_ms: int  # UTC epoch milliseconds of the measurement itself, not of its arrival
    seq: int | None
    metrics: dict[str, float]


class MappingError(Invalid):
    """A payload that does not fit its mapping or the canonical format; ``field`` is the path in it.

    The path (``samples.3.temp_f``) is what lets a vendor's integrator find the bad value.
    """

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(path, reason)
        self.path = path
        self.reason = reason

    def under(self, prefix: str) -> MappingError:
        """The same error located inside a larger document (``readings.7`` + ``ts``)."""
        return MappingError(f"{prefix}.{self.path}" if prefix else self.path, self.reason)
