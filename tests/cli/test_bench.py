from __future__ import annotations

import json

import pytest

from tests.cli.conftest import Invoke


@pytest.mark.slow
def test_bench_import_json_is_exactly_one_object(invoke: Invoke) -> None:
    result = invoke("bench", "import", "--json")
    (line,) = result.output.splitlines()
    assert json.loads(line)["rows_per_s"] > 0
