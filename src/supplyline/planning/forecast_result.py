"""What a forecast of one series is: the values, the bands and everything needed to explain and
reproduce them. The engine (``forecasting``) makes these; runs store them; the API shows them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

LEVELS = (80, 95)


@dataclass(frozen=True)
class ForecastResult:
    """``mean[i]`` is the forecast ``i + 1`` periods after the last input; ``bands[level]`` is
    ``(lo, hi)`` of the same length for each level in ``LEVELS``."""

    model: str
    params: dict[str, Any]
    demand_class: str  # smooth | erratic | intermittent | lumpy | none (no demand at all)
    adi: float | None
    cv2: float | None
    mean: tuple[float, ...]
    bands: dict[int, tuple[tuple[float, ...], tuple[float, ...]]]
    band_method: str  # conformal | model | none (zero width: nothing to calibrate on)
    library: str  # e.g. "statsforecast 2.1.1"
    backtest: dict[str, Any] = field(default_factory=dict)  # model name -> MASE, windows, ...
