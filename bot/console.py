"""The questionnaire in a terminal: the same flow and texts as on Telegram, numbered options.

Works at a terminal and through a pipe (one answer per line on standard input).
"""

from __future__ import annotations

import datetime as dt
import errno
import re
import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import messages
from bot.console_assessment import assess, offers_assessment
from bot.reading.typed import confirmation_action, match_option, match_options
from bot.render.assessment import assessment_report
from bot.render.pdf import build_pdf, write_pdf
from bot.render.result_views import result_view
from bot.render.screens import (
    answers_view,
    awaiting_confirmation,
    label,
    result_screen,
    screen_for,
)
from flows.contract import QUESTIONS
from flows.flow import MULTI, RESULT, REVIEW, Step, choose, new_snapshot, step
from flows.path import answered_path, offered_options
from flows.snapshot import Snapshot, as_snapshot

QUIT, BACK, RESTART = "q", "b", "r"
YES = ("o", "oui", "y", "yes")
MAX_LINE = 4096


class Console:
    """One terminal session."""

    def __init__(
        self,
        lang: str,
        stdin: TextIO,
        stdout: TextIO,
        today: Callable[[], dt.date] = dt.date.today,
    ) -> None:
        self.lang = lang
        self.stdin = stdin
        self.stdout = stdout
        self.today = today
        self.snapshot: dict[str, Any] = new_snapshot(lang)

    def say(self, text: str = "", *, wrap: bool = True) -> None:
        """Prints plain text, each line wrapped to the terminal's width (list items and
        indented lines keep their indent on the following lines; ``wrap=False`` for a line
        that names a file, which must stay whole)."""
        width = max(40, shutil.get_terminal_size((80, 24)).columns)
        out = []
        for line in text.split("\n"):
            if len(line) <= width or not wrap:
                out.append(line)
                continue
            lead = len(line) - len(line.lstrip())
            item = re.match(r"\s*(?:\d+\.|[•→⚠️☐]+)\s+", line)
            hang = " " * (item.end() if item else lead)
            out.append(
                textwrap.fill(
                    line.strip(),
                    width=width,
                    initial_indent=" " * lead,
                    subsequent_indent=hang,
                    break_on_hyphens=False,
                    break_long_words=False,
                )
            )
        self.stdout.write("\n".join(out) + "\n")
        self.stdout.flush()

    def shown(self, html: str) -> str:
        """Telegram HTML as terminal text: bold and dim on a terminal, plain through a pipe."""
        if self.stdout.isatty():
            for tag, code in (("b", "1"), ("i", "2")):
                html = html.replace(f"<{tag}>", f"\033[{code}m").replace(f"</{tag}>", "\033[0m")
        return messages.to_plain(html)

    def line(self, macro: str, **data: Any) -> str:
        """Returns one of the console's own texts."""
        return messages.text(self.lang, "console", macro, **data)

    def ask(self) -> str | None:
        """Reads one line; None at the end of input."""
        self.stdout.write("> ")
        self.stdout.flush()
        raw = self.stdin.readline(MAX_LINE + 1)
        if not raw:
            self.say()
            return None
        if len(raw) > MAX_LINE and not raw.endswith("\n"):
            while (rest := self.stdin.readline(MAX_LINE)) and not rest.endswith("\n"):
                pass  # an over-long line is one (unrecognised) answer, not many
            raw = raw[:MAX_LINE] + "…\n"
        if not self.stdin.isatty():
            self.stdout.write(raw if raw.endswith("\n") else raw + "\n")  # a piped answer, shown
        return raw.strip()

    def run(self) -> int:
        """Runs the questionnaire to the result; returns the exit status."""
        self.say(self.line("welcome"))
        hint: str | None = None
        while self.current.state != RESULT:
            self.show(hint)
            typed = self.ask()
            if typed is None or typed.lower() == QUIT:
                self.say(self.line("bye"))
                return 0
            hint = self.handle(typed)
        self.finish()
        return 0

    def show(self, hint: str | None) -> None:
        """Prints the current screen with numbered choices."""
        state = self.current.state
        self.say()
        if state == REVIEW:
            self.say(self.line("review_heading"))
            for number, item in enumerate(answers_view(self.current.answers, self.lang), 1):
                self.say("  " + self.line("review_line", number=number, **item))
            self.say(self.line("review_keys"))
            if hint:
                self.say(f"⚠️ {hint}")
            return
        screen = screen_for(self.snapshot)
        self.say(self.shown(screen.text))
        if state not in QUESTIONS:
            return
        if awaiting_confirmation(self.current) is not None:  # yes, no: its first two buttons
            for number, row in enumerate(screen.buttons[:2], 1):
                self.say(f"  {number}. {row[0].label}")
            self.say(self.line("keys"))
        else:
            pending = self.current.pending
            for number, option in enumerate(offered_options(state, self.current.answers), 1):
                tick = "✅ " if option in pending else ""
                self.say(f"  {number}. {tick}{label(self.lang, state, option)}")
            if state in MULTI:
                self.say(self.line("multi_keys"))
            self.say(self.line("keys"))
        if hint:
            self.say(f"⚠️ {hint}")

    @property
    def current(self) -> Snapshot:
        """Where the person is, typed."""
        return as_snapshot(self.snapshot)

    def apply(self, trigger: str, *args: Any) -> Step:
        """Fires one trigger and keeps the new snapshot."""
        done = step(self.snapshot, trigger, *args)
        self.snapshot = done.snapshot
        return done

    def handle(self, typed: str) -> str | None:
        """Applies one typed line; returns a hint when it was not understood."""
        command = typed.lower()
        state = self.current.state
        if command in (BACK, RESTART):
            done = self.apply("back" if command == BACK else "restart")
            return None if done.changed else messages.text(self.lang, "ui", "nothing_before")
        if state == REVIEW:
            return self._handle_review(typed)
        held = awaiting_confirmation(self.current)
        if held is not None:
            action = confirmation_action(state, held, typed)
            if action is None:
                return self.line("not_understood")
            self.apply(action[0], *action[1])
            return None
        if state in MULTI:
            return self._handle_multi(state, typed)
        option = match_option(state, typed, self.lang)
        if option is None:
            return self.line("not_understood")
        self.apply("answer", state, option)
        return None

    def _handle_review(self, typed: str) -> str | None:
        if typed == "":
            self.apply("show_result", self.today())
            return None
        answered = answered_path(self.current.answers)
        if typed.isdigit() and 1 <= int(typed) <= len(answered):
            self.apply("edit", answered[int(typed) - 1])
            return None
        return self.line("not_understood")

    def _handle_multi(self, question: str, typed: str) -> str | None:
        chosen = match_options(question, typed, self.lang)
        if not chosen:
            return self.line("not_understood")
        exclusive = QUESTIONS[question].exclusive
        if exclusive in chosen and len(chosen) > 1:
            return self.line("exclusive", option=label(self.lang, question, exclusive))
        self.snapshot = choose(self.snapshot, question, chosen).snapshot
        return None

    def finish(self) -> None:
        """Prints the result, its summary first, then the detail, and offers the PDF."""
        screen, ev, report = result_screen(self.snapshot)
        self.say()
        self.say(self.shown(result_view(self.snapshot).text.rsplit("\n\n", 1)[0]))
        self.say()
        self.say(self.line("detail_heading"))
        self.say()
        self.say(self.shown(screen.text))
        if offers_assessment(self.snapshot):
            self.say()
            self.say(self.line("assess_offer"))
            if (self.ask() or "").lower() in YES:
                statuses, audit_on = assess(self.snapshot, self.ask, self.say, self.today())
                if statuses:
                    own = {"statuses": statuses, "today": self.today().isoformat(),
                           "audit_on": audit_on.isoformat() if audit_on else None}  # fmt: skip
                    report["assessment"] = assessment_report(ev, own, self.lang)
        self.say()
        self.say(self.line("save_pdf"))
        while True:
            typed = self.ask()
            if not typed:
                break
            path = Path(typed if typed.lower().endswith(".pdf") else f"{typed}.pdf")
            try:
                content = build_pdf(report, answers_view(self.current.answers, self.lang), ev.date)
                write_pdf(path, content)
            except OSError as exc:
                reason = errno.errorcode.get(exc.errno or 0, "")
                failed = self.line(
                    "pdf_failed", path=typed, detail=self.line("os_error", code=reason)
                )
                self.say(failed, wrap=False)
                continue
            self.say(self.line("pdf_saved", path=str(path)), wrap=False)
            break
        self.say(self.line("bye"))


def run_console(lang: str, stdin: TextIO, stdout: TextIO) -> int:
    """Runs the terminal questionnaire; returns the exit status."""
    return Console(lang, stdin, stdout).run()
