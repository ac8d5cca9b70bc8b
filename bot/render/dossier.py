"""The dossier de preuves as an auditor reads it: a ZIP laid out by criterion and indicator
(``Critère 1 – …/Indicateur 1 – …/…``), an index PDF first: per indicator its status, its
evidence (file names, labels, where each is in the ZIP) and what is still to gather, the
major-only ones marked ‼.

File names are safe on every system: no character Windows, macOS or Linux refuses, no name
Windows reserves, no trailing dot or space, at most ``NAME_CHARS`` characters per part, and
two pieces of the same name in a folder are numbered. Names stay in UTF-8 (zipfile marks them
so), so accents survive. A ZIP that would exceed what a bot may send is split into parts, each
with the whole index.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
import zipfile
from collections.abc import Mapping, Sequence
from itertools import groupby
from pathlib import PurePosixPath
from typing import Any

import messages
from bot.render.evidence import Evidence, shown_day
from bot.render.pdfdoc import MUTED, Document
from bot.render.report import checklist_item
from bot.render.screens import evaluation_of
from flows.snapshot import Stored, as_snapshot

SEND_LIMIT = 50 * 1024 * 1024
"""The largest file a bot may send (Bot API ``sendDocument``)."""
ZIP_MARGIN = 1024 * 1024
"""Room kept for the index and the ZIP's own records in each part."""
NAME_CHARS = 80
COMPRESSED = frozenset(
    {"jpg", "jpeg", "png", "webp", "gif", "heic", "heif", "pdf", "docx", "xlsx", "pptx",
     "odt", "ods", "odp"}
)  # fmt: skip
"""Kinds already compressed: stored as they are (deflating them again costs CPU for nothing)."""
_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.IGNORECASE)


def safe_name(name: str, fallback: str = "preuve") -> str:
    """A file or folder name every system accepts (the extension kept when cut)."""
    text = unicodedata.normalize("NFC", name)
    text = _UNSAFE.sub("_", text)
    text = " ".join(text.split()).strip(" .")
    if not text or _RESERVED.match(text):
        text = f"_{text}" if text else fallback
    if len(text) > NAME_CHARS:
        suffix = PurePosixPath(text).suffix[:10]
        text = text[: NAME_CHARS - len(suffix)].rstrip(" .") + suffix
    return text


def _numbered(name: str, taken: set[str]) -> str:
    """``name``, or ``name (2)``… when the folder already holds it (case-insensitive)."""
    stem, suffix = PurePosixPath(name).stem, PurePosixPath(name).suffix
    candidate, n = name, 1
    while candidate.lower() in taken:
        n += 1
        candidate = f"{stem} ({n}){suffix}"
    taken.add(candidate.lower())
    return candidate


def _t(lang: str, macro: str, **data: Any) -> str:
    return messages.text(lang, "evidence", macro, **data)


def layout(
    stored: Stored, files: Sequence[tuple[Evidence, bytes]]
) -> list[tuple[str, Evidence, bytes]]:
    """Where each piece goes in the ZIP (its path), in the referential's order; pieces of an
    indicator that no longer concerns the person are left out."""
    snapshot = as_snapshot(stored)
    lang = snapshot.lang
    ev = evaluation_of(snapshot)
    ref = ev.referential
    order = {n: i for i, n in enumerate(ev.indicators)}
    placed: list[tuple[str, Evidence, bytes]] = []
    taken: dict[str, set[str]] = {}
    kept = sorted(
        (f for f in files if f[0].indicator in order), key=lambda f: order[f[0].indicator]
    )
    for evidence, stored_content in kept:
        ind = ref.indicator(evidence.indicator)
        criterion = safe_name(_t(lang, "criterion_folder", number=ind.criterion))
        folder = safe_name(
            f"{_t(lang, 'indicator_folder', number=evidence.indicator)} – "
            f"{messages.typography(lang, ind.short_title[lang])}"
        )
        content = stored_content
        if evidence.kind == "link":  # a text file holding the address, named by its label
            name = safe_name(_t(lang, "link_file", label=evidence.label or ""))
            content = f"{evidence.name}\n".encode()
        else:
            name = safe_name(evidence.name)
        path = f"{criterion}/{folder}"
        name = _numbered(name, taken.setdefault(path, set()))
        placed.append((f"{path}/{name}", evidence, content))
    return placed


def index_pdf(
    stored: Stored,
    statuses: Mapping[int, str],
    placed: Sequence[tuple[str, Evidence]],
    today: dt.date,
) -> bytes:
    """The dossier's index: per criterion and indicator, the status, the pieces and their
    paths, or what to gather."""
    snapshot = as_snapshot(stored)
    lang = snapshot.lang
    ev = evaluation_of(snapshot)
    doc = Document(lang, "evidence")
    doc.day = today
    doc.add_page()
    by_indicator: dict[int, list[tuple[str, Evidence]]] = {}
    for path, evidence in placed:
        by_indicator.setdefault(evidence.indicator, []).append((path, evidence))
    doc.para(doc.t("title"), size=18, bold=True, height=9)
    doc.para(
        doc.t(
            "index_subtitle", day=today, with_evidence=len(by_indicator), total=len(ev.indicators)
        ),
        color=MUTED,
    )
    doc.para(doc.t("index_intro"), size=9, color=MUTED)
    items = [checklist_item(ev, n, lang) for n in ev.indicators]
    for criterion, group in groupby(items, key=lambda i: i["criterion"]):
        entries = list(group)
        doc.heading(
            doc.t("criterion_heading", number=criterion, title=entries[0]["criterion_title"])
        )
        for item in entries:
            number = item["number"]
            mark = " ‼" if item["major_only"] else ""
            doc.para(f"{number}. {item['title']}{mark}", size=10.5, bold=True)
            doc.para(
                doc.t("index_status", status=statuses.get(number)), size=9, color=MUTED, indent=4
            )
            pieces = by_indicator.get(number, [])
            if not pieces:
                doc.para(doc.t("index_missing", proofs=item["proofs"]), size=9, indent=4)
            if pieces:
                folder = pieces[0][0].rsplit("/", 1)[0]
                doc.para(doc.t("index_folder", folder=folder), size=8.5, color=MUTED, indent=4)
            for path, evidence in pieces:
                size = messages.text(lang, "labels", "size", n=evidence.size)
                line = doc.t(
                    "index_item",
                    name=path.rsplit("/", 1)[-1],
                    link=evidence.name if evidence.kind == "link" else "",
                    label=evidence.label,
                    size=size if evidence.kind != "link" else "",
                    day=shown_day(evidence),
                )
                doc.para(f"• {line}", size=9, indent=4)
    return bytes(doc.output())


def dossier_zips(
    stored: Stored,
    statuses: Mapping[int, str],
    files: Sequence[tuple[Evidence, bytes]],
    today: dt.date,
    limit: int = SEND_LIMIT,
) -> list[bytes]:
    """The dossier as one ZIP, or as several when one would exceed ``limit`` (each part with
    the whole index first). Raises ValueError when one piece alone exceeds it."""
    placed = layout(stored, files)
    index = index_pdf(stored, statuses, [(path, e) for path, e, _ in placed], today)
    return pack(as_snapshot(stored).lang, placed, index, limit)


def pack(
    lang: str,
    placed: Sequence[tuple[str, Evidence, bytes]],
    index: bytes,
    limit: int = SEND_LIMIT,
) -> list[bytes]:
    """The ZIP part(s) of laid-out pieces with their index (``dossier_zips``)."""
    budget = limit - ZIP_MARGIN - len(index)
    parts: list[list[tuple[str, Evidence, bytes]]] = [[]]
    used = 0
    for entry in placed:
        size = len(entry[2])
        if size > budget:
            raise ValueError(entry[0])
        if used + size > budget and parts[-1]:
            parts.append([])
            used = 0
        parts[-1].append(entry)
        used += size
    out = []
    for part in parts:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(_t(lang, "index_name"), index)
            for path, _, content in part:
                kept = PurePosixPath(path).suffix.lower().lstrip(".") in COMPRESSED
                method = zipfile.ZIP_STORED if kept else zipfile.ZIP_DEFLATED
                archive.writestr(path, content, compress_type=method)
        out.append(buffer.getvalue())
    return out
