"""``supplyline console screenshots`` (``make screenshots``): a real picture of every built view."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from supplyline.console import built_views
from supplyline.demo.screenshots import take_screenshots
from tests.console.conftest import CHROMIUM, STATIC, need

PNG = b"\x89PNG\r\n\x1a\n"


def size_of(png: bytes) -> tuple[int, int]:
    """Width and height from the PNG's header chunk (IHDR comes first)."""
    assert png[:8] == PNG and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


@pytest.mark.slow
async def test_every_built_view_is_pictured_at_1280_wide(tmp_path: Path) -> None:
    need("The built console", STATIC / "app" / "login.html", "console")
    need("Debian's chromium", CHROMIUM, "browser")
    work = tmp_path / "work"
    work.mkdir()
    written = await take_screenshots(tmp_path / "shots", work, CHROMIUM, devices=5)

    names = {p.stem for p in written}
    assert names == {*built_views(), "shipments-carrier"}
    for path in written:
        png = path.read_bytes()
        width, height = size_of(png)
        assert width == 1280 and (height == 800 or (path.stem == "shipment" and height >= 800)), path.name
        # A page with its data in draws text and tables: far more than an empty page compresses to.
        assert len(png) > 20_000, path.name
