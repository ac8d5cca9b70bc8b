"""Statistics for the consultancy, from the anonymous tallies: figures, text and a chart."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import messages
from flows.contract import QUESTION_IDS, VERDICTS


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
        src = source or "-"
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
    stats.durations = sorted(durations.items())
    return stats


def period(spec: str | None, today: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """Reads a period: ``7``/``30d`` (last days), ``all``, ``YYYY-MM-DD..YYYY-MM-DD``."""
    if not spec:
        return today - dt.timedelta(days=29), today
    spec = spec.strip().lower()
    if spec == "all":
        return None, None
    if ".." in spec:
        start, _, end = spec.partition("..")
        return dt.date.fromisoformat(start), dt.date.fromisoformat(end)
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
    )


def chart_png(stats: Stats, lang: str) -> bytes:
    """Returns the funnel (reached, stopped per question) and the verdict mix as one PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    def label(macro: str, **data: Any) -> str:
        return messages.text(lang, "stats", macro, **data)

    def short(question: str) -> str:
        return messages.text(lang, "questions", "short", question=question)

    questions = [q for q in QUESTION_IDS if stats.reached[q]]
    # A Figure of its own (no pyplot): no global state, safe in the thread /stats runs in.
    fig = Figure(figsize=(12, 5.5), layout="constrained")
    FigureCanvasAgg(fig)
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    names = [short(q) for q in questions][::-1]
    left.barh(
        names,
        [stats.reached[q] for q in questions][::-1],
        color="#9ecae1",
        label=label("chart_reached"),
    )
    left.barh(
        names,
        [max(0, stats.stopped[q]) for q in questions][::-1],
        color="#de2d26",
        label=label("chart_stopped"),
    )
    left.set_title(label("chart_funnel", started=stats.started, completed=stats.completed))
    left.legend(loc="lower right")
    left.xaxis.get_major_locator().set_params(integer=True)
    verdicts = [(v, stats.verdicts[v]) for v in VERDICTS if stats.verdicts[v]]
    if verdicts:
        right.pie(
            [n for _, n in verdicts],
            labels=[messages.text(lang, "stats", "verdict", verdict=v) for v, _ in verdicts],
            autopct="%1.0f%%",
            startangle=90,
            colors=["#de2d26", "#fc9272", "#fee0d2", "#9ecae1", "#3182bd", "#bdbdbd"][
                : len(verdicts)
            ],
        )
    else:
        right.text(0.5, 0.5, label("chart_no_result"), ha="center", va="center")
        right.axis("off")
    right.set_title(label("chart_verdicts"))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()
