"""What a step says, as data: the actions a front end carries out, in order.

A decision returns its actions; the store commits them with the step (the ``outbox`` table),
so that a reply owed when the process dies is still carried out after it restarts. An action
is therefore plain, JSON-ready data: no Telegram object, no callback.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

import messages
from bot.outbox import Out, Rows
from bot.render.screens import Button


@dataclass(frozen=True, slots=True)
class Send:
    """A message of its own (an introduction, an explanation, a note, a follow-up's
    question), with inline buttons, or a keyboard asking for the person's phone number, or
    one that removes it (``bot.outbox.Out``)."""

    text: str
    buttons: Rows = ()
    html: bool = True
    ask_contact: str | None = None
    clear_keyboard: bool = False

    def __post_init__(self) -> None:
        if self.html:  # as ``Out``: a template's Markup is kept, any other text escaped
            object.__setattr__(self, "text", messages.safe(self.text))

    @classmethod
    def of(cls, out: Out) -> Send:
        """The message a follow-up decided."""
        return cls(out.text, out.buttons, out.html, out.ask_contact, out.clear_keyboard)

    def out(self) -> Out:
        """The message as the port sends it."""
        return Out(self.text, self.buttons, self.html, self.ask_contact, self.clear_keyboard)


@dataclass(frozen=True, slots=True)
class Show:
    """A screen: edited in place of message ``edit``, else sent as a new message. ``live``:
    it becomes the message the next answer is read from. ``retire``: older messages whose
    buttons go, unless one of them is the message the screen ended up in. ``shows``: what
    the screen is (``Screen.kind``), remembered while it is the live message."""

    text: str
    buttons: Rows = ()
    edit: int | None = None
    live: bool = True
    retire: tuple[int, ...] = ()
    shows: str = ""
    """What the screen is (``Screen.kind``), for the steps after it."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", messages.safe(self.text))


@dataclass(frozen=True, slots=True)
class Clear:
    """Removes the buttons of an older message, all but the rows ``buttons`` (an offer keeps
    the rows of the features not used yet); with ``text``, the message now reads that (a
    result left keeps what it said, not the hint about its buttons)."""

    message_id: int
    buttons: Rows = ()
    text: str | None = None

    def __post_init__(self) -> None:
        if self.text is not None:
            object.__setattr__(self, "text", messages.safe(self.text))


@dataclass(frozen=True, slots=True)
class Follow:
    """A follow-up that reads the store when it is said (``bot.consultancy.followup``):
    ``privacy`` (what is held about the person), ``erase`` (the erasure, confirmed), ``admin``
    (``args``: the admin's command and its words), ``lead`` (the consultancy told of the
    chat's new lead). Said after the commit, from the outbox like every reply."""

    what: str
    lang: str
    args: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Pdf:
    """The checklist PDF of ``snapshot`` (with the self-assessment ``assessment``), built and
    sent in the background, then ``offer`` if any."""

    snapshot: Mapping[str, Any]
    assessment: Mapping[str, Any] | None = None
    offer: Out | None = None


@dataclass(frozen=True, slots=True)
class Dossier:
    """The chat's dossier de preuves as a ZIP (or several), built from the store when said,
    in ``lang``."""

    lang: str


Action = Send | Show | Clear | Pdf | Dossier | Follow

OPS: dict[str, type[Action]] = {
    "send": Send,
    "show": Show,
    "clear": Clear,
    "pdf": Pdf,
    "dossier": Dossier,
    "follow": Follow,
}
_NAMES = {kind: name for name, kind in OPS.items()}


@dataclass(frozen=True, slots=True)
class Plan:
    """What one step says: the button's answer (a toast, never stored: a spinner cannot be
    answered after a restart) and the actions, committed with the step."""

    actions: tuple[Action, ...] = ()
    toast: str | None = None


def _rows(rows: Rows) -> list[list[list[str | None]]]:
    return [[[b.label, b.data, b.url] for b in row] for row in rows]


def _unrows(rows: Any) -> Rows:
    return tuple(tuple(Button(str(b[0]), str(b[1]), b[2]) for b in row) for row in rows)


def to_json(action: Action) -> dict[str, Any]:
    """The action as JSON-ready data (``{"op": …, fields…}``)."""
    out: dict[str, Any] = {"op": _NAMES[type(action)]}
    for f in dataclasses.fields(action):
        value = getattr(action, f.name)
        if f.name == "buttons":
            value = _rows(value)
        elif isinstance(value, Out):
            value = {
                "text": value.text,
                "buttons": _rows(value.buttons),
                "html": value.html,
                "ask_contact": value.ask_contact,
                "clear_keyboard": value.clear_keyboard,
            }
        elif isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, Mapping):
            value = dict(value)
        out[f.name] = value
    return out


def from_json(data: Mapping[str, Any]) -> Action:
    """The action ``to_json`` wrote; raises ValueError for anything else."""
    kind = OPS.get(str(data.get("op")))
    if kind is None:
        raise ValueError(f"unknown action {data.get('op')!r}")
    values: dict[str, Any] = {}
    for f in dataclasses.fields(kind):
        if f.name not in data:
            continue
        value = data[f.name]
        if f.name == "buttons":
            value = _unrows(value)
        elif f.name == "offer" and value is not None:
            value = Out(
                Markup(value["text"]),  # escaped when it was written
                _unrows(value["buttons"]),
                bool(value["html"]),
                value["ask_contact"],
                bool(value["clear_keyboard"]),
            )
        elif f.name == "text" and value is not None:
            value = Markup(value)  # escaped when it was written
        elif f.name == "retire":
            value = tuple(int(m) for m in value)
        elif f.name == "args":
            value = tuple(str(a) for a in value)
        values[f.name] = value
    return kind(**values)
