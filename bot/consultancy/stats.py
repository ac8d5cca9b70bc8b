"""Statistics for the consultancy, from the anonymous tallies: figures, text and a chart."""

from __future__ import annotations

import calendar
import datetime as dt
import io
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import messages
from flows.contract import QUESTION_IDS, VERDICTS

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@dataclass
class Stats:
    """What happened over a period."""

    since: dt.date | None
    until: dt.date | None
    started: int = 0
    completed: int = 0
    leads: int = 0
    verdicts: Counter[str] = field(default_factory=Counter)
    reached: Counter[str] = field(default_factory=Counter)
    stopped: Counter[str] = field(default_factory=Counter)
    durations: list[tuple[int, int]] = field(default_factory=list)
    by_source: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    assessed: int = 0
    """Self-assessments finished."""
    in_place: Counter[int] = field(default_factory=Counter)
    """Per criterion, indicators in place over the finished self-assessments."""
    audited: Counter[int] = field(default_factory=Counter)
    """Per criterion, indicators assessed over the finished self-assessments."""
    dossiers_started: int = 0
    """People who attached their first evidence."""
    dossiers_sent: int = 0
    dossier_share_sum: int = 0
    """Over the dossiers sent, the sum of their share of indicators with evidence (percent)."""

    @property
    def dossier_share(self) -> int | None:
        """The average share of indicators with evidence in the dossiers sent (percent)."""
        return self.dossier_share_sum // self.dossiers_sent if self.dossiers_sent else None

    def readiness(self) -> list[tuple[int, int]]:
        """Per criterion, the average share in place (percent) over finished assessments."""
        return [(c, self.in_place[c] * 100 // n) for c, n in sorted(self.audited.items()) if n]

    @property
    def completion_rate(self) -> float:
        """Returns completed / started (0 when nothing started)."""
        return self.completed / self.started if self.started else 0.0

    @property
    def median_seconds(self) -> int | None:
        """Returns the median time to complete, to the bucket (10 s), or None."""
        total = sum(n for _, n in self.durations)
        if not total:
            return None
        seen = 0
        for seconds, n in sorted(self.durations):
            seen += n
            if seen * 2 >= total:
                return seconds
        return None


def compute(
    rows: Sequence[tuple[str, str, str, str, int]], since: dt.date | None, until: dt.date | None
) -> Stats:
    """Adds up tallies (day, kind, detail, source, n)."""
    stats = Stats(since, until)
    durations: Counter[int] = Counter()
    for _, kind, detail, source, n in rows:
        src = source or ""  # no deep link: the templates name it
        if kind == "started":
            stats.started += n
            stats.by_source[src]["started"] += n
        elif kind == "completed":
            stats.completed += n
            stats.verdicts[detail] += n
            stats.by_source[src]["completed"] += n
        elif kind == "lead":
            stats.leads += n
            stats.by_source[src]["leads"] += n
        elif kind == "reached":
            stats.reached[detail] += n
        elif kind == "stopped":
            stats.stopped[detail] += n
        elif kind == "duration":
            durations[int(detail)] += n
        elif kind == "assess_finished":
            stats.assessed += n
        elif kind == "dossier_started":
            stats.dossiers_started += n
        elif kind == "dossier_sent":
            stats.dossiers_sent += n
        elif kind == "dossier_share":
            stats.dossier_share_sum += n
        elif kind in ("assess_done", "assess_total") and detail.isdigit():
            (stats.in_place if kind == "assess_done" else stats.audited)[int(detail)] += n
    stats.durations = sorted(durations.items())
    return stats


MONTH = re.compile(r"\d{4}-\d{2}")
"""A month of the calendar, ``YYYY-MM``."""


def period(spec: str | None, today: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """Reads a period: ``7``/``30d`` (last days), ``all``, a month ``YYYY-MM``,
    ``YYYY-MM-DD..YYYY-MM-DD`` (in that order); raises ``ValueError`` for anything else."""
    if not spec:
        return today - dt.timedelta(days=29), today
    spec = spec.strip().lower()
    if spec == "all":
        return None, None
    if MONTH.fullmatch(spec):
        first = dt.date.fromisoformat(f"{spec}-01")
        return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])
    if ".." in spec:
        start, _, end = spec.partition("..")
        since, until = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
        if since > until:
            raise ValueError(spec)
        return since, until
    days = int(spec.removesuffix("d").removesuffix("j"))
    if not 1 <= days <= 3650:
        raise ValueError(spec)
    return today - dt.timedelta(days=days - 1), today


def text(stats: Stats, lang: str) -> str:
    """Returns the statistics as Telegram HTML."""
    funnel = [(q, stats.reached[q], stats.stopped[q]) for q in QUESTION_IDS if stats.reached[q]]
    return messages.call(
        lang,
        "stats",
        "report",
        s=stats,
        rate=round(stats.completion_rate * 100),
        median=stats.median_seconds,
        verdicts=[(v, stats.verdicts[v]) for v in VERDICTS if stats.verdicts[v]],
        funnel=funnel,
        sources=sorted(stats.by_source.items(), key=lambda item: -item[1]["started"]),
        readiness=stats.readiness(),
    )


def funnel_steps(stats: Stats) -> list[tuple[str, int]]:
    """The funnel in path order: started, the questions most people pass through (a question
    only some paths ask, reached by fewer than a later one or than those who finished, is left
    out, so the bars only go down), completed, then leads. Each step is (code, count); codes
    are question ids or ``started``, ``completed``, ``leads``."""
    main_path: list[tuple[str, int]] = []
    for question in QUESTION_IDS:
        count = stats.reached[question]
        if not count or count < stats.completed:
            continue  # asked on some paths only: fewer people than finished
        while main_path and main_path[-1][1] < count:
            main_path.pop()  # a branch question: fewer people than the next common one
        main_path.append((question, count))
    return [
        ("started", stats.started),
        *main_path,
        ("completed", stats.completed),
        ("leads", stats.leads),
    ]


CALM = ("#2b6c8f", "#4f95b8", "#86bcd6", "#b9d9e8", "#9aa6ad", "#d9dee1")
"""Blues and greys: a verdict is information, not an alarm."""


def chart_png(stats: Stats, lang: str) -> bytes:
    """Returns the funnel, the verdict mix and, once people finished their self-assessment,
    the share in place per criterion, as one PNG, the period in the title."""
    fig = chart_figure(stats, lang)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()


def chart_figure(stats: Stats, lang: str) -> Figure:
    """The chart's figure (``chart_png`` renders it)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    def say(macro: str, **data: Any) -> str:
        return messages.text(lang, "stats", macro, **data)

    def step_name(code: str) -> str:
        if code in ("started", "completed", "leads"):
            return say("chart_step", step=code)
        return messages.text(lang, "questions", "short", question=code)

    # A Figure of its own (no pyplot): no global state, safe in the thread /stats runs in.
    ready = stats.readiness() if stats.started else []
    fig = Figure(figsize=(12, 8.5 if ready else 5.5), layout="constrained")
    FigureCanvasAgg(fig)
    fig.suptitle(say("chart_title", since=stats.since, until=stats.until), fontsize=13)
    grid: list[Any] = (
        [["funnel", "verdicts"], ["funnel", "ready"]] if ready else [["funnel", "verdicts"]]
    )
    panels: dict[str, Any] = fig.subplot_mosaic(grid, width_ratios=[3, 2])
    left, right = panels["funnel"], panels["verdicts"]
    if not stats.started:
        for axes in (left, right):
            axes.axis("off")
        fig.text(0.5, 0.5, say("chart_empty"), ha="center", va="center", fontsize=14)
        return fig
    steps = funnel_steps(stats)[::-1]
    bars = left.barh(
        [step_name(code) for code, _ in steps],
        [count for _, count in steps],
        color=[
            CALM[0] if code in ("started", "completed", "leads") else CALM[2] for code, _ in steps
        ],
    )
    left.bar_label(bars, padding=3)
    left.set_title(say("chart_funnel", started=stats.started, completed=stats.completed))
    left.xaxis.get_major_locator().set_params(integer=True)
    left.spines[["top", "right"]].set_visible(False)
    verdicts = [(v, stats.verdicts[v]) for v in VERDICTS if stats.verdicts[v]]
    if verdicts:
        right.pie(
            [n for _, n in verdicts],
            labels=[
                f"{messages.text(lang, 'stats', 'verdict', verdict=v)} ({n})" for v, n in verdicts
            ],
            autopct="%1.0f%%",
            startangle=90,
            colors=CALM[: len(verdicts)],
            textprops={"fontsize": 9},
        )
    else:
        right.text(0.5, 0.5, say("chart_no_result"), ha="center", va="center")
        right.axis("off")
    right.set_title(say("chart_verdicts"))
    if ready:
        _readiness_panel(panels["ready"], ready, stats.assessed, lang)
    return fig


def _readiness_panel(axes: Any, ready: list[tuple[int, int]], assessed: int, lang: str) -> None:
    """Per criterion, the average share of indicators in place, from 0 to 100 %: where the
    people who assessed themselves need help first."""
    rows = ready[::-1]  # criterion 1 at the top
    weakest = min(pct for _, pct in ready)  # darker: where to help first
    bars = axes.barh(
        [messages.text(lang, "stats", "chart_criterion", number=c) for c, _ in rows],
        [pct for _, pct in rows],
        color=[CALM[0] if pct == weakest else CALM[2] for _, pct in rows],
    )
    axes.bar_label(
        bars,
        labels=[messages.text(lang, "stats", "chart_percent", pct=pct) for _, pct in rows],
        padding=3,
    )
    axes.set_xlim(0, 100)
    axes.set_title(messages.text(lang, "stats", "chart_ready", assessed=assessed))
    axes.spines[["top", "right"]].set_visible(False)
