"""``supplyline epcis hash FILE``: one Event Hash ID a line, or one sentence and exit code 1."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Invoke

EXAMPLES = Path(__file__).parents[1] / "trace" / "epcis_examples"
# The CBV 2.0 hash IDs of GS1's worked examples 1 and 3 (see tests/trace/test_epcis_hash.py).
HASH1 = "ni:///sha-256;6ae96341e0acc6d7a261364751f60e68278a81cdf51da0abb6b4e617014e39d7?ver=CBV2.0"
HASH3 = "ni:///sha-256;3ae14c02c4bdc220cc31942cf804f6845eb8dec96ba6483391c92a9b165f9329?ver=CBV2.0"


def example(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EXAMPLES / name).read_text())
    return document


def two_events() -> dict[str, Any]:
    """Example 3's event, then example 1's, in one document (both use the same prefix)."""
    document = example("reference_example1.jsonld")
    first = example("reference_example3.jsonld")["epcisBody"]["eventList"][0]
    document["epcisBody"]["eventList"].insert(0, first)
    return document


def write(tmp_path: Path, content: Any, name: str = "doc.jsonld") -> str:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content, indent=2))
    return str(path)


def test_prints_one_hash_id_per_event_in_document_order(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke("epcis", "hash", write(tmp_path, two_events()))
    assert result.stdout.splitlines() == [HASH3, HASH1]


def test_reads_a_query_document_and_a_single_event(invoke: Invoke, tmp_path: Path) -> None:
    doc = two_events()
    query = {
        "@context": doc["@context"],
        "type": "EPCISQueryDocument",
        "epcisBody": {"queryResults": {"resultsBody": {"eventList": doc["epcisBody"]["eventList"]}}},
    }
    assert invoke("epcis", "hash", write(tmp_path, query)).stdout.splitlines() == [HASH3, HASH1]
    single = {"@context": doc["@context"], **doc["epcisBody"]["eventList"][1]}
    assert invoke("epcis", "hash", write(tmp_path, single, "e.json")).stdout.splitlines() == [HASH1]


def test_prehash_option_prints_the_prehash_string(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke("epcis", "hash", "--prehash", write(tmp_path, example("reference_example1.jsonld")))
    assert result.stdout.startswith("eventType=ObjectEventeventTime=2020-03-04T10:00:30.000Z")
    assert len(result.stdout.splitlines()) == 1


def drop(index: int, key: str) -> dict[str, Any]:
    doc = two_events()
    events = doc["epcisBody"]["eventList"]
    events[index] = {k: v for k, v in events[index].items() if k != key}
    return doc


def bad_time() -> dict[str, Any]:
    doc = two_events()
    doc["epcisBody"]["eventList"][1]["eventTime"] = "noon"
    return doc


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"epcisBody": ', "is not JSON"),
        ("[1, 2]", "not a JSON object"),
        ({"type": "EPCISDocument", "epcisBody": {"eventList": []}}, "no events"),
        ({"type": "EPCISDocument", "epcisBody": {}}, "no events"),
        ({"type": "EPCISDocument"}, "no events"),
        (drop(1, "eventTime"), "event 2 has no eventTime"),
        (drop(0, "type"), "event 1 has no eventType"),
        (bad_time(), "event 2: 'noon' is not a timestamp"),
    ],
)
def test_an_invalid_file_exits_1_with_a_sentence(
    invoke: Invoke, tmp_path: Path, content: Any, message: str
) -> None:
    result = invoke("epcis", "hash", write(tmp_path, content), ok=False)
    assert result.exit_code == 1
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


def test_a_missing_file_exits_1(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke("epcis", "hash", str(tmp_path / "nope.json"), ok=False)
    assert result.exit_code == 1
    assert "cannot read" in result.stderr
