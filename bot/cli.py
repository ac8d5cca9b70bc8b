"""The ``qualiopi-bot`` command line: evaluate, console, run, health, migrate, diagram, stats,
export."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import messages
from bot.render.report import build_report, render_result_text
from flows.advice import evaluate
from flows.path import ContractError, validate
from flows.referential import NoReferentialError, referential_on

MAX_ANSWERS_BYTES = 1_000_000
"""An answers object is a few hundred bytes; anything this large is not one."""


class UsageError(Exception):
    """A fault in the input the user gave: one line, in their language, exit status 2."""

    def __init__(self, code: str, **data: Any) -> None:
        super().__init__(code)
        self.code = code
        self.data = data


def _given(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def contract_error_line(lang: str, error: ContractError) -> str:
    """Returns the one-line explanation of a contract fault, in ``lang``."""
    data = dict(error.data)
    if "given" in data:
        data["given"] = _given(data["given"])
    if error.question is not None:
        data["question"] = error.question
    return messages.text(lang, "errors", error.code, **data)


def _read_answers(source: str, stdin: TextIO) -> object:
    name = "stdin" if source == "-" else source
    try:
        if source == "-":
            raw = stdin.read(MAX_ANSWERS_BYTES + 1)
        else:
            with Path(source).open(encoding="utf-8") as handle:
                raw = handle.read(MAX_ANSWERS_BYTES + 1)
    except (OSError, UnicodeDecodeError) as exc:
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise UsageError("unreadable", path=name, detail=detail) from exc
    if len(raw) > MAX_ANSWERS_BYTES:
        raise UsageError("too_large", path=name, limit=MAX_ANSWERS_BYTES)
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise UsageError(
            "invalid_json", line=exc.lineno, column=exc.colno, detail=exc.msg
        ) from exc
    except RecursionError as exc:
        raise UsageError("invalid_json", line=1, column=1, detail="nesting too deep") from exc


def _parse_date(value: str | None) -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise UsageError("invalid_date", given=value) from exc


def run_evaluate(args: argparse.Namespace, stdin: TextIO, stdout: TextIO) -> None:
    """Reads an answers object and writes the result (raises UsageError on bad input)."""
    day = _parse_date(args.date)
    raw = _read_answers(args.file, stdin)
    try:
        referential_on(day)  # a day before any référentiel is said first: no path exists then
        answers = validate(raw, day)
        ev = evaluate(answers, day)
    except ContractError as exc:
        raise UsageError("contract", error=exc) from exc
    except NoReferentialError as exc:
        first = messages.text(args.lang, "labels", "date", day=exc.first)
        raise UsageError("no_referential", first=first) from exc
    report = build_report(ev, args.lang)
    if args.format == "pdf":
        if not args.out:
            raise UsageError("pdf_needs_out")
        from bot.config import SettingError, load_settings
        from bot.consultancy.offer import brand_of
        from bot.render.pdf import build_pdf, write_pdf
        from bot.render.screens import answers_view

        try:  # the consultancy's header and links, as in the bot's PDF
            brand = brand_of(load_settings())
        except SettingError as exc:
            raise UsageError("bad_setting", detail=exc.line(args.lang)) from exc
        content = build_pdf(report, answers_view(answers, args.lang), day, brand)
        try:
            write_pdf(Path(args.out), content)
        except OSError as exc:
            raise UsageError(
                "cannot_write", path=args.out, detail=exc.strerror or str(exc)
            ) from exc
        return
    if args.format == "json":
        out = json.dumps(report, ensure_ascii=False, indent=2) + "\n"
    else:
        out = render_result_text(ev, args.lang, report) + "\n"
    stdout.write(out)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qualiopi-bot",
        description="Does Qualiopi apply to me? Verdict and indicator checklist.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    ev = sub.add_parser(
        "evaluate",
        help="evaluate an answers object (JSON) and print the result",
        description="Reads answers (questionnaire contract ids) and prints the verdict.",
    )
    ev.add_argument("file", nargs="?", default="-", help="answers JSON file, or - for stdin")
    ev.add_argument("--date", help="day whose référentiel applies (YYYY-MM-DD, default today)")
    ev.add_argument("--lang", choices=messages.LANGUAGES, default=messages.DEFAULT_LANGUAGE)
    ev.add_argument("--format", choices=("json", "text", "pdf"), default="json")
    ev.add_argument("--out", help="with --format pdf: the file to write")
    con = sub.add_parser("console", help="answer the questionnaire in a terminal")
    con.add_argument("--lang", choices=messages.LANGUAGES, default=messages.DEFAULT_LANGUAGE)
    dia = sub.add_parser("diagram", help="write the flow as a Mermaid diagram (docs/flow.md)")
    dia.add_argument("--out", default="docs/flow.md", help="file to write, or - for stdout")
    dia.add_argument("--readme", default="README.md", help="README whose diagram to refresh")
    st = sub.add_parser("stats", help="statistics for the consultancy (anonymous counts)")
    st.add_argument("--period", help="7, 30, all, or YYYY-MM-DD..YYYY-MM-DD (default 30 days)")
    st.add_argument("--png", help="also write the chart (funnel and verdicts) to this file")
    st.add_argument("--lang", choices=messages.LANGUAGES, default=messages.DEFAULT_LANGUAGE)
    ex = sub.add_parser("export", help="leads and completed questionnaires as CSV files")
    ex.add_argument("--out", required=True, help="folder to write the CSV files into")
    mig = sub.add_parser("migrate", help="bring the database schema to this version")
    mig.add_argument(
        "--check", action="store_true", help="only tell whether it is current (exit 1 if not)"
    )
    res = sub.add_parser(
        "restore", help="put a SQLite backup in place of the database (the bot stopped)"
    )
    res.add_argument("backup", help='the backup file (sqlite3 … ".backup FILE")')
    sub.add_parser(
        "health",
        help="ask the running bot's /health (HEALTH_LISTEN, HEALTH_PORT): exit 0 when healthy",
    )
    sub.add_parser(
        "run",
        help="start the Telegram bot (settings from the environment and .env); "
        "without a token, the terminal mode",
    )
    return parser


def main(
    argv: Sequence[str] | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Runs the command line; returns the exit status."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    args = _parser().parse_args(argv)
    if args.command == "console":
        from bot.console import run_console

        return run_console(args.lang, stdin, stdout)
    if args.command == "run":
        from bot.run import run_bot

        return run_bot(stdin, stdout, stderr)
    if args.command == "restore":
        from bot.run import run_restore

        return run_restore(args, stdout, stderr)
    if args.command == "health":
        from bot.run import run_health

        return run_health(stdout, stderr)
    if args.command == "migrate":
        from bot.run import run_migrate

        return run_migrate(args, stdout, stderr)
    if args.command in ("stats", "export"):
        from bot.run import run_report

        return run_report(args, stdout, stderr)
    if args.command == "diagram":
        from flows.diagram import mermaid, with_diagram

        text = mermaid()
        if args.out == "-":
            stdout.write(text)
            return 0
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text, encoding="utf-8")
        readme = Path(args.readme)
        if readme.exists():
            readme.write_text(with_diagram(readme.read_text("utf-8")), encoding="utf-8")
        return 0
    try:
        run_evaluate(args, stdin, stdout)
    except UsageError as exc:
        lang = args.lang
        if exc.code == "contract":
            line = contract_error_line(lang, exc.data["error"])
        else:
            line = messages.text(lang, "errors", exc.code, **exc.data)
        stderr.write(f"qualiopi-bot evaluate: {line}\n")
        return 2
    return 0
