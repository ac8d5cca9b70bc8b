"""The ``evaluate`` command: output as the contract says, one clear line on bad input."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.cli import MAX_ANSWERS_BYTES, main
from tests.answers import INDEPENDENT_OPCO

ANSWERS: dict[str, Any] = {**INDEPENDENT_OPCO, "stage": "new_entrant"}


def run(argv: list[str], stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(argv, stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


def test_json_output_holds_what_the_contract_promises() -> None:
    status, out, err = run(["evaluate", "--date", "2026-11-26"], json.dumps(ANSWERS))
    assert (status, err) == (0, "")
    result = json.loads(out)
    assert result["verdict"] == "required"
    assert result["categories"] == ["AF"]
    assert result["referential"] == "rnq-2026"
    assert result["indicators"] == sorted(result["indicators"])
    assert len(result["indicators"]) == 22
    assert result["deferred_for_new_entrant"] == [2, 11, 19, 22, 24, 25, 26, 32]
    assert result["reasons"][0]["code"] == "funded_by_opco"
    for item in result["reasons"] + result["next_steps"]:
        assert item["text"].strip()
        assert item["source"].strip()
        assert "<" not in item["text"], "JSON texts are plain"


def test_the_date_picks_the_referential() -> None:
    _, out, _ = run(["evaluate", "--date", "2026-10-31"], json.dumps(ANSWERS))
    assert json.loads(out)["referential"] == "rnq-2019"


@pytest.mark.parametrize(("lang", "word"), [("fr", "obligatoire"), ("en", "compulsory")])
def test_text_output_is_readable_in_each_language(lang: str, word: str) -> None:
    status, out, _ = run(["evaluate", "--format", "text", "--lang", lang], json.dumps(ANSWERS))
    assert status == 0
    assert word in out.splitlines()[0]
    assert "☐ 4." in out
    assert "<b>" not in out
    assert "&#" not in out
    assert "&amp;" not in out


def test_answers_can_come_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(ANSWERS), encoding="utf-8")
    status, out, _ = run(["evaluate", str(path)])
    assert status == 0
    assert json.loads(out)["verdict"] == "required"


BAD_INPUTS = [
    ("broken JSON", ["evaluate"], '{"role": ', "JSON"),
    ("not an object", ["evaluate", "--lang", "en"], "[1, 2]", "JSON object"),
    ("unknown option", ["evaluate", "--lang", "en"], '{"role": "boss"}', "role"),
    ("missing question", ["evaluate", "--lang", "en"], '{"role": "independent"}', "activities"),
    ("bad date", ["evaluate", "--date", "26/11/2026"], json.dumps(ANSWERS), "--date"),
    ("before 2022", ["evaluate", "--date", "2021-06-01"], json.dumps(ANSWERS), "2022"),
    ("missing file", ["evaluate", "/nonexistent/answers.json"], "", "/nonexistent"),
    ("huge input", ["evaluate"], " " * (MAX_ANSWERS_BYTES + 10), str(MAX_ANSWERS_BYTES)),
    ("deep nesting", ["evaluate"], "[" * 100_000, "JSON"),
]


@pytest.mark.parametrize(
    ("argv", "stdin", "needle"), [b[1:] for b in BAD_INPUTS], ids=[b[0] for b in BAD_INPUTS]
)
def test_bad_input_exits_2_with_one_clear_line_and_no_output(
    argv: list[str], stdin: str, needle: str
) -> None:
    status, out, err = run(argv, stdin)
    assert status == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert needle in err
    assert "Traceback" not in err


def test_the_error_line_names_the_allowed_options() -> None:
    _, _, err = run(["evaluate", "--lang", "en"], '{"role": "boss"}')
    assert "independent, organisation, employed_trainer" in err


def test_the_installed_command_works_through_a_pipe() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "evaluate", "--lang", "en"],
        input='{"role": "employed_trainer"}',
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["verdict"] == "not_required"
    broken = subprocess.run(
        [sys.executable, "-m", "bot", "evaluate"],
        input="{",
        capture_output=True,
        text=True,
        check=False,
    )
    assert broken.returncode == 2
    assert "Traceback" not in broken.stderr
