"""The dossier de preuves, decided without Telegram: attaching a file, a photo or a link to
the indicator on screen, removing one, listing the indicators with their evidence, and asking
for the dossier (a ZIP the front end builds from the store).

Button data: ``ev:<n>`` (the evidence of indicator n), ``ev:<n>:rm:<id>`` (remove one),
``ev:<n>:back`` (back to the indicator), ``ev:list`` (every indicator), ``ev:zip`` (the
dossier). Commands: /preuves, /evidence. A file or a link counts for the indicator whose
screen is open (the self-assessment's ``at``); anywhere else it changes nothing.

Attaching never changes a status: the first evidence of an indicator not in place suggests
one, and the person decides.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from pathlib import PurePosixPath
from typing import Any

from bot.chat.assess import AssessMeta, at_result, speaks
from bot.config import Settings
from bot.events import Event, Upload
from bot.render.screens import evaluation_of
from bot.storage import Change, NewEvidence, Record, Tally
from flows.rules import CERTIFICATION_PATH

ACCEPTED = {
    "pdf": "application/pdf",
    "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp",
    "gif": "image/gif", "heic": "image/heic", "heif": "image/heif",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt": "application/vnd.ms-powerpoint",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
    "txt": "text/plain", "csv": "text/csv", "md": "text/markdown", "rtf": "application/rtf",
}  # fmt: skip
"""What a dossier holds, by file extension: PDF, images, office and text documents."""
MEDIA_REFUSED = ("video", "voice", "audio", "animation", "video_note")
"""What Telegram sends that a dossier does not hold (refused with a reason)."""
LINK = re.compile(r"^(https?://\S{3,2000})(?:\s+(.*))?$", re.DOTALL)
LABEL_CHARS = 80
MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    """What one person's dossier may hold (the settings ``EVIDENCE_MAX_*``)."""

    file_mb: int = 20
    files: int = 100
    total_mb: int = 200

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        """The limits of the bot's settings."""
        return cls(
            settings.evidence_max_file_mb,
            settings.evidence_max_files,
            settings.evidence_max_total_mb,
        )


DEFAULT_LIMITS = Limits()


def refusal(upload: Upload, limits: Limits) -> tuple[str, dict[str, Any]] | None:
    """Why a file cannot join a dossier (a macro of ``evidence`` and its data), or None. Read
    before downloading it, from what Telegram says of it."""
    if upload.media in MEDIA_REFUSED:
        return ("refused_media", {"media": upload.media})
    if upload.media == "document" and _extension(upload.name) not in ACCEPTED:
        return ("refused_type", {"name": upload.name})
    if upload.size > limits.file_mb * MB:
        return ("too_big", {"size": upload.size, "limit": limits.file_mb})
    return None


def _extension(name: str) -> str:
    return PurePosixPath(name.lower()).suffix.lstrip(".")


@dataclass(frozen=True, slots=True)
class EvidenceReply:
    """What an evidence step says: a screen (``list``, or an indicator's evidence), shown in
    place of the pressed message (``edit``) or as a new message; a short line of its own
    (a macro of ``evidence`` and its data); the dossier to send."""

    lang: str
    screen: int | str | None = None
    edit: bool = True
    said: tuple[str, dict[str, Any]] | None = None
    suggest: bool = False
    """The screen suggests a status (the indicator's first evidence, not in place)."""
    dossier: bool = False
    toast: str | None = None


def accepts(event: Event, record: Record) -> bool:
    """Tells whether the dossier de preuves handles the event."""
    kind, value, _ = event
    if kind == "command":
        return value == "evidence"
    if kind == "button":
        return value.startswith("ev:")
    if kind == "file":
        return at_result(record)
    if kind == "text":
        return on_indicator(record) is not None and LINK.match(value.strip()) is not None
    if kind == "other":  # a sticker, a location…: one line, and the indicator stays open
        return on_indicator(record) is not None
    return False


def on_indicator(record: Record) -> int | None:
    """The indicator whose screen is open (evidence goes there), or None."""
    return AssessMeta.of(record.meta).at if at_result(record) else None


SEQ = "evidence_seq"
"""The key of ``meta`` holding the last number given to a piece of the chat's evidence."""


def decide_evidence(
    record: Record,
    event: Event,
    *,
    lang: str,
    limits: Limits,
    now: dt.datetime,
    upload: Upload | None = None,
) -> tuple[Change | None, tuple[Record, EvidenceReply]]:
    """Applies one event to the chat's dossier: what to commit, what to say."""
    snapshot = record.snapshot
    reply = EvidenceReply(speaks(record, lang))
    kind, value, _ = event
    if not at_result(record):
        return None, (record, replace(reply, said=("no_result", {}), edit=False))
    assert snapshot is not None
    ev = evaluation_of(snapshot)
    if ev.verdict not in CERTIFICATION_PATH or not ev.indicators:
        return None, (record, replace(reply, said=("no_indicators", {}), edit=False))
    order = ev.indicators
    if kind == "command":
        return None, (record, replace(reply, screen="list", edit=False))
    if kind == "button":
        return _button(record, value, order, reply)
    if kind == "other":
        return None, (record, replace(reply, said=("not_evidence", {}), edit=False))
    if kind == "text":
        found = LINK.match(value.strip())
        assert found is not None
        address, label = found.group(1), found.group(2) or ""
        new = NewEvidence(0, 0, "link", address, label, "text/uri-list", address.encode())
        return _attach(record, new, reply, limits, now)
    file = upload if upload is not None else Upload.of(event)
    if (why := refusal(file, limits)) is not None:
        return None, (record, replace(reply, said=why, edit=False))
    if on_indicator(record) is None:
        return None, (record, replace(reply, said=("no_indicator", {}), edit=False))
    if file.content is None:  # not downloaded (Telegram would not give it)
        return None, (record, replace(reply, said=("not_fetched", {}), edit=False))
    name = file.name or f"photo-{len(record.evidence) + 1}.jpg"
    mime = file.mime or ACCEPTED.get(_extension(name), "application/octet-stream")
    new = NewEvidence(0, 0, file.media, name, file.caption, mime, file.content)
    return _attach(record, new, reply, limits, now)


def _attach(
    record: Record, new: NewEvidence, reply: EvidenceReply, limits: Limits, now: dt.datetime
) -> tuple[Change | None, tuple[Record, EvidenceReply]]:
    """Adds a piece to the indicator on screen, within the person's limits."""
    number = on_indicator(record)
    if number is None:
        return None, (record, replace(reply, said=("no_indicator", {}), edit=False))
    held = record.evidence
    if len(held) >= limits.files:
        return None, (record, replace(reply, said=("too_many", {"limit": len(held)}), edit=False))
    total = sum(e.size for e in held) + len(new.content)
    if total > limits.total_mb * MB:
        limit = limits.total_mb
        return None, (record, replace(reply, said=("full", {"limit": limit}), edit=False))
    label = " ".join(new.label.split())[:LABEL_CHARS]
    seq = record.meta.get(SEQ)
    given = max([seq if isinstance(seq, int) else 0, *(e.id for e in held)]) + 1
    stamp = now.astimezone(dt.UTC).isoformat(timespec="seconds")
    new = replace(
        new, id=given, indicator=number, label=label, name=new.name[:120], added_at=stamp
    )
    saved = replace(record, meta={**record.meta, SEQ: given}, evidence=(*held, new.listed()))
    first = not any(e.indicator == number for e in held)
    suggest = first and record.statuses.get(number) != "done"
    tallies = [Tally("dossier_started", "", record.source or "")] if not held else []
    out = replace(reply, screen=number, edit=False, suggest=suggest)
    return Change(saved, tallies, evidence_added=new), (saved, out)


def _button(
    record: Record, data: str, order: tuple[int, ...], reply: EvidenceReply
) -> tuple[Change | None, tuple[Record, EvidenceReply]]:
    parts = data.split(":")
    if data == "ev:list":
        return None, (record, replace(reply, screen="list"))
    if data == "ev:zip":
        if not record.evidence:
            return None, (record, replace(reply, said=("empty", {}), edit=False))
        with_evidence = {e.indicator for e in record.evidence} & set(order)
        share = len(with_evidence) * 100 // len(order)
        tallies = [
            Tally("dossier_sent", "", record.source or ""),
            Tally("dossier_share", "", record.source or "", share),
        ]
        out = replace(reply, dossier=True, toast="dossier_coming", screen=None)
        return Change(record, tallies), (record, out)
    if len(parts) < 2 or not parts[1].isdigit() or int(parts[1]) not in order:
        return None, (record, replace(reply, toast="stale"))
    number = int(parts[1])
    part = AssessMeta.of(record.meta)
    if len(parts) == 2:  # open the indicator's evidence: its screen is now the one open
        saved = replace(record, meta=replace(part, at=number, asking_date=False).into(record.meta))
        return Change(saved), (saved, replace(reply, screen=number))
    if parts[2:] == ["back"]:
        return None, (record, replace(reply, screen=f"indicator:{number}"))
    if len(parts) == 4 and parts[2] == "rm" and parts[3].isdigit():
        gone = int(parts[3])
        if not any(e.id == gone and e.indicator == number for e in record.evidence):
            return None, (record, replace(reply, toast="stale", screen=number))
        saved = replace(record, evidence=tuple(e for e in record.evidence if e.id != gone))
        return Change(saved, evidence_removed=(gone,)), (saved, replace(reply, screen=number))
    return None, (record, replace(reply, toast="stale"))
