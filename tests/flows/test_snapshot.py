"""The typed snapshot and its stored form: conversations stored before stay readable, byte for
byte (golden files written by the flow as it stood before ``Snapshot`` existed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flows.flow import Conversation, is_snapshot
from flows.snapshot import Snapshot

GOLDEN = sorted((Path(__file__).parents[1] / "golden").glob("snapshot-*.json"))


def test_there_are_golden_snapshots_of_every_kind() -> None:
    names = {p.stem.removeprefix("snapshot-") for p in GOLDEN}
    assert {"start", "multi_pending", "review", "result", "editing", "assumed"} <= names


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.stem)
def test_a_stored_snapshot_reads_and_writes_back_byte_for_byte(path: Path) -> None:
    text = path.read_text("utf-8")
    raw = json.loads(text)
    assert is_snapshot(raw)
    typed = Snapshot.from_json(raw)
    assert json.dumps(typed.to_json(), ensure_ascii=False) + "\n" == text
    assert json.dumps(Conversation(raw).to_snapshot(), ensure_ascii=False) + "\n" == text


def test_the_typed_snapshot_reads_as_python_values() -> None:
    raw = json.loads((Path(__file__).parents[1] / "golden" / "snapshot-assumed.json").read_text())
    typed = Snapshot.from_json(raw)
    assert typed.answers["activities"] == ("training",)
    assert typed.assumed == ("certifying",)
    assert typed.but(lang="en").to_json()["lang"] == "en"
    with pytest.raises(AttributeError):
        typed.state = "review"  # type: ignore[misc]
