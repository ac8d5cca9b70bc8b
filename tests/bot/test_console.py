"""The terminal mode, driven through a pipe as a script or a person would."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import sys
from pathlib import Path

from pypdf import PdfReader

from bot.console import Console

DAY = dt.date(2026, 11, 26)


def drive(lines: list[str], lang: str = "en") -> tuple[int, str]:
    out = io.StringIO()
    console = Console(lang, io.StringIO("".join(f"{x}\n" for x in lines)), out, lambda: DAY)
    return console.run(), out.getvalue()


# independent, training, direct, OPCO, certifying no, long yes, no work periods, no subcontractors,
# not certified yet, established, then Enter at the review, Enter (no self-assessment), Enter
# (no PDF).
HAPPY = ["1", "1", "1", "1", "2", "1", "3", "2", "1", "1", "", "", ""]


def test_a_whole_questionnaire_through_a_pipe() -> None:
    status, out = drive(HAPPY)
    assert status == 0
    assert "Yes: Qualiopi certification is compulsory for you." in out
    assert "22 of 33 indicators concern you" in out
    assert out.rstrip().endswith("Goodbye!")


def test_ids_and_labels_are_accepted_as_well_as_numbers() -> None:
    lines = ["independent", "training", "Directly (clients, funders)", "opco cpf", *HAPPY[4:]]
    _, out = drive(lines)
    assert "funded by the CPF" in out or "paid for by the CPF" in out


def test_bad_input_gets_a_hint_and_the_question_again() -> None:
    _, out = drive(["42", "banana", "x" * 10_000, "q"])
    assert out.count("Answer not recognised") == 3
    assert out.count("Which best describes you?") == 4
    assert "Traceback" not in out


def test_back_and_restart() -> None:
    _, out = drive(["b", "1", "b", "2", "r", "3", "1", "", ""])
    assert "This is the first question" in out
    assert "No: Qualiopi certification is not required of you." in out


def test_an_answer_ending_on_not_concerned_is_confirmed_first() -> None:
    _, out = drive(["3", "2", "q"])  # employed trainer? "No, I invoice myself"
    assert "paid on a payslip" in out
    assert "1. Yes, on a payslip" in out
    assert "not required of you" not in out
    assert "Which services do you offer?" in out


def test_exclusive_choice_is_refused_with_a_reason() -> None:
    _, out = drive(["1", "1 5", "q"])
    assert "cannot be combined" in out


def test_changing_an_answer_from_the_review() -> None:
    lines = [*HAPPY[:-3], "1", "3", "1", "", ""]  # review: now an employed trainer, confirmed
    _, out = drive(lines)
    assert "not required of you" in out


def test_end_of_input_ends_quietly() -> None:
    status, out = drive(["1"])
    assert status == 0
    assert out.rstrip().endswith("Goodbye!")


def test_the_pdf_can_be_saved_at_the_end(tmp_path: Path) -> None:
    target = tmp_path / "checklist.pdf"
    status, out = drive([*HAPPY[:-1], str(tmp_path / "missing" / "x.pdf"), str(target)])
    assert status == 0
    assert "Cannot save" in out
    assert f"Checklist saved: {target}" in out
    text = "".join(page.extract_text() for page in PdfReader(target).pages)
    assert "compulsory" in text


def test_the_self_assessment_in_a_terminal_and_its_pdf(tmp_path: Path) -> None:
    target = tmp_path / "ready.pdf"
    assessing = ["y", "1", "2", "3", "yes", "partly", "s", "b", "not yet", "q", "15/03/2027", ""]
    status, out = drive([*HAPPY[:-2], *assessing, str(target)])
    assert status == 0
    assert "Self-assessment · 1 of 22" in out
    assert "Your readiness: 9% in place" in out  # 2 of 22: 1, 4
    assert "2 indicators in place out of 22, 2 partly, 2 not yet, 16 to assess." in out
    assert ": by " in out, "the plan is dated from the audit date"
    text = "".join(page.extract_text() for page in PdfReader(target).pages)
    assert "Your self-assessment" in text


def test_the_console_command_runs_through_a_real_pipe() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "console", "--lang", "fr"],
        input="3\n1\n\n\n",
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "Non\u00a0: la certification Qualiopi ne vous est pas demandée." in done.stdout


def test_the_console_reads_well_at_80_columns_through_a_pipe(tmp_path: Path) -> None:
    """Wrapped to the terminal's width (COLUMNS), no internal ids, one list of answers, the
    summary before the detail, and ".pdf" added to a file name without it."""
    import os

    answers = "\n".join(HAPPY[:-1]) + f"\n{tmp_path / 'ma-checklist'}\n"
    done = subprocess.run(
        [sys.executable, "-m", "bot", "console", "--lang", "fr"],
        input=answers,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={**os.environ, "COLUMNS": "80"},
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    prose = [line for line in out.splitlines() if str(tmp_path) not in line]  # a path stays whole
    assert max(len(line) for line in prose) <= 80
    assert "[independent]" not in out
    assert "Touchez" not in out
    assert "\x1b[" not in out, "no colour codes through a pipe"
    assert out.count("Formateur ou consultant indépendant") == 2  # the option, the review line
    assert out.index("22 indicateurs sur 33") < out.index("Le détail")
    assert (tmp_path / "ma-checklist.pdf").read_bytes().startswith(b"%PDF-")
