"""A third language is templates and data: a copy of the product with German added, and no
line of Python changed, runs the questionnaire's commands in German."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.answers import INDEPENDENT_OPCO

ROOT = Path(__file__).resolve().parents[2]


def test_german_added_as_a_template_folder_and_a_line_of_data_works(tmp_path: Path) -> None:
    for package in ("bot", "flows", "messages"):
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    languages = tmp_path / "flows" / "languages.yaml"
    languages.write_text(languages.read_text("utf-8") + "- de\n", encoding="utf-8")
    german = tmp_path / "messages" / "de"
    german.mkdir()
    # Two templates copied from English and being translated (the first question's prompt,
    # the question screen's imports); every other template is said in English for now.
    english_dir = ROOT / "messages" / "en"
    (german / "questions.html.j2").write_text(
        (english_dir / "questions.html.j2")
        .read_text("utf-8")
        .replace("Which best describes you?", "Was beschreibt Sie am besten?"),
        encoding="utf-8",
    )
    (german / "question.html.j2").write_text(
        (english_dir / "question.html.j2")
        .read_text("utf-8")
        .replace('"en/questions.html.j2"', '"de/questions.html.j2"'),
        encoding="utf-8",
    )
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps(INDEPENDENT_OPCO), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("TELEGRAM_BOT_TOKEN", None)

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, *args],
            input=stdin,
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
            timeout=120,
            check=False,
        )

    done = run("-c", "import bot, flows; print(bot.__file__, flows.__file__)")
    assert str(tmp_path) in done.stdout, "the copy runs, not the project"
    evaluated = run("-m", "bot", "evaluate", "--lang", "de", "--date", "2026-12-04", str(answers))
    assert evaluated.returncode == 0, evaluated.stderr
    result = json.loads(evaluated.stdout)
    english = json.loads(
        subprocess.run(
            [sys.executable, "-m", "bot", "evaluate", "--lang", "en", "--date", "2026-12-04"],
            input=json.dumps(INDEPENDENT_OPCO),
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=True,
            timeout=120,
        ).stdout
    )
    assert result["verdict"] == english["verdict"]
    assert result["language"] == "de"
    # Untranslated texts, the référentiel's titles and the sources read the English.
    assert {k: v for k, v in result.items() if k != "language"} == {
        k: v for k, v in english.items() if k != "language"
    }
    # The terminal asks the first question in German, the rest in English.
    console = run("-m", "bot", "console", "--lang", "de", stdin="")
    assert "Was beschreibt Sie am besten?" in console.stdout, console.stdout + console.stderr
    assert "Traceback" not in console.stderr
