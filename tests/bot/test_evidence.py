"""The dossier de preuves through a real Application and the fake Bot API: files, photos and
links attached to the indicator on screen, kept across a restart, removed, refused with a
reason, erased by /delete; the ZIP laid out by criterion and indicator with its index PDF."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader

from bot.render.dossier import dossier_zips, safe_name
from bot.storage import Evidence
from tests.bot.fakes import FakeBotAPI, Person, make_app
from tests.bot.stores import SQLiteStore
from tests.bot.test_assessment import (
    ADMIN,
    CPF_TRAINER,
    at_result,
    on_screen,
    result_message,
    to_result,
)

PHOTO = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40 + b"\xff\xd9"
PDF = b"%PDF-1.4\n" + b"programme de formation\n" * 300 + b"%%EOF\n"


def seen(text: str) -> str:
    """A text as read, the no-break spaces of French typography as plain spaces."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


async def open_evidence(p: Person) -> int:
    """From the indicator on screen, its evidence screen; returns the indicator."""
    number = on_screen(p)
    assert number is not None
    await p.press(f"ev:{number}", p.live().message_id)
    return number


def zip_files(p: Person) -> dict[str, bytes]:
    sent = [m for m in p.api.chat(p.chat_id) if m.filename and m.filename.endswith(".zip")]
    assert len(sent) == 1
    with zipfile.ZipFile(io.BytesIO(sent[0].document)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


async def test_a_photo_and_a_pdf_on_two_indicators_reach_the_zip_byte_for_byte(
    tmp_path: Path,
) -> None:
    async with at_result(tmp_path) as (p, store):
        await p.press("chk:start", result_message(p).message_id)
        assert "📎 Ajouter une preuve" in p.live().labels()
        first = await open_evidence(p)
        assert "Rien de joint pour l’instant." in seen(p.live().text)
        await p.send_file(PHOTO, media="photo", caption="Salle  de formation")
        screen = p.live()
        assert "🖼 photo-1.jpg" in seen(screen.text)
        assert "« Salle de formation »" in seen(screen.text)
        assert "Première preuve pour cet indicateur" in seen(screen.text)
        assert screen.labels()[:2] == ["✅ En place", "🟡 En partie"], "suggested, not set"
        assert (await store.load(42)).statuses == {}, "attaching never sets a status"
        await p.press(f"ev:{first}:back", screen.message_id)
        assert "📎 Preuves (1)" in p.live().labels()
        await p.press(f"chk:{first}:done", p.live().message_id)
        second = await open_evidence(p)
        await p.send_file(PDF, "Programme Excel (v2).pdf", "application/pdf")
        assert "📄 Programme Excel (v2).pdf" in seen(p.live().text)
    await store.close()
    api = FakeBotAPI()
    app, store = make_app(tmp_path, api, SQLiteStore(tmp_path / "bot.sqlite3"))
    async with app:  # the bot restarted: what was attached is still there
        p = Person(app, api, 42, "fr")
        await p.say("/preuves")
        listing = p.live()
        assert "2 indicateurs sur 25 avec une preuve" in seen(listing.text)
        assert f"📎{first}" in listing.labels()
        await p.press("ev:zip", listing.message_id)
        files = zip_files(p)
    await store.close()
    names = list(files)
    assert names[0] == "00 - Index du dossier.pdf"
    photo_path = next(n for n in names if n.endswith("/photo-1.jpg"))
    pdf_path = next(n for n in names if n.endswith("/Programme Excel (v2).pdf"))
    assert files[photo_path] == PHOTO
    assert files[pdf_path] == PDF
    assert photo_path.startswith("Critère 1 – ")
    assert f"/Indicateur {first} – " in photo_path
    assert f"/Indicateur {second} – " in pdf_path
    index = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(files[names[0]])).pages)
    assert "photo-1.jpg" in index
    assert "Programme Excel (v2).pdf" in index
    assert "À réunir" in index, "what is still missing is listed"


async def test_a_link_a_removal_and_files_refused_with_their_reason(tmp_path: Path) -> None:
    async with at_result(tmp_path) as (p, store):
        await p.send_file(PDF, "avant.pdf", "application/pdf")
        assert seen(p.last().text).startswith(
            "Pour joindre une preuve, ouvrez d’abord son indicateur"
        )
        await p.press("chk:start", result_message(p).message_id)
        number = await open_evidence(p)
        await p.say("https://drive.example/registre-veille Registre de veille")
        assert "🔗 https://drive.example/registre-veille" in seen(p.live().text)
        assert "« Registre de veille »" in seen(p.live().text)
        await p.send_file(b"x" * 10, "film.mp4", media="video", size=60 * 1024 * 1024)
        assert "Je ne garde pas les vidéos" in seen(p.last().text)
        await p.send_file(b"MZ\x90\x00", "setup.exe", "application/octet-stream")
        assert "« setup.exe » n’est pas d’un type" in seen(p.last().text)
        await p.send_file(b"%PDF", "gros.pdf", "application/pdf", size=25 * 1024 * 1024)
        assert "la limite est de 20 Mo par fichier" in seen(p.last().text)
        await p.send_file(b"OggS", media="voice")
        assert "Je ne garde pas les messages vocaux" in seen(p.last().text)
        await p.send_sticker()
        assert seen(p.last().text).startswith("Ceci ne peut pas servir de preuve")
        before = len(p.api.chat(42))
        for forged in ("ev:99", "ev:abc", f"ev:{number}:rm:x", "ev:1:rm:1:extra"):
            await p.press(forged, screen_id := p.live().message_id)
            assert (
                p.api.of("answerCallbackQuery")[-1].get("text") == "Ce bouton n’est plus à jour."
            )
        assert len(p.api.chat(42)) == before, "forged buttons send nothing"
        assert p.live().message_id == screen_id
        assert len((await store.load(42)).evidence) == 1, "only the link was kept"
        screen = p.live()
        await p.press(f"ev:{number}:rm:1", screen.message_id)
        assert "Rien de joint pour l’instant." in seen(screen.text)
        await p.press(f"ev:{number}:rm:1", screen.message_id)  # the same tap again: stale
        assert (await store.load(42)).evidence == ()
        await p.send_file(PDF, "programme.pdf", "application/pdf")
        assert [e.id for e in (await store.load(42)).evidence] == [2], "a number never reused"


async def test_delete_erases_the_dossier_and_privacy_counts_it(tmp_path: Path) -> None:
    async with at_result(tmp_path) as (p, store):
        await p.press("chk:start", result_message(p).message_id)
        await open_evidence(p)
        await p.send_file(PDF, "programme.pdf", "application/pdf")
        await p.say("/confidentialite")
        privacy = p.last().text
        assert "1 preuve(s)" in seen(privacy)
        assert "programme.pdf" in seen(privacy)
        await p.say("/supprimer")
        await p.press("del:yes", p.last().message_id)
        assert "1 preuve(s) de votre dossier" in seen(p.last().text)
        assert await store.evidence_files(42) == []


async def test_the_limits_hold_per_person(tmp_path: Path) -> None:
    async with at_result(tmp_path, evidence_max_files=2) as (p, store):
        await p.press("chk:start", result_message(p).message_id)
        await open_evidence(p)
        for n in range(3):
            await p.send_file(PDF, f"p{n}.pdf", "application/pdf")
        assert "déjà 2 preuves, le maximum" in seen(p.last().text)
        assert len((await store.load(42)).evidence) == 2


async def test_an_english_dossier_is_filed_in_english(tmp_path: Path) -> None:
    api = FakeBotAPI()
    app, _ = make_app(tmp_path, api)
    async with app:
        p = Person(app, api, 42, "en")
        await to_result(p, CPF_TRAINER)
        await p.press("chk:start", result_message(p).message_id)
        await open_evidence(p)
        await p.send_file(PHOTO, media="photo")
        await p.press("ev:zip", p.live().message_id)
        names = list(zip_files(p))
    assert names[0] == "00 - Dossier index.pdf"
    assert names[1].startswith("Criterion 1 – ")


def test_file_names_are_safe_everywhere() -> None:
    assert safe_name('a<b>c:d"e/f\\g|h?i*j.pdf') == "a_b_c_d_e_f_g_h_i_j.pdf"
    assert safe_name("CON.txt") == "_CON.txt"
    assert safe_name("  note. ") == "note"
    assert safe_name("") == "preuve"
    long = safe_name("x" * 200 + ".docx")
    assert len(long) == 80
    assert long.endswith(".docx")


async def test_a_dossier_too_large_for_one_message_is_split(tmp_path: Path) -> None:
    async with at_result(tmp_path) as (_, store):
        snapshot = (await store.load(42)).snapshot
    await store.close()
    assert snapshot is not None
    piece = bytes(range(256)) * 4096  # 1 MiB
    files = [
        (Evidence(n, 1, "document", f"p{n}.pdf", "", "application/pdf", len(piece), "2026-12-04"),
         piece)
        for n in range(1, 5)
    ]  # fmt: skip
    limit = 3 * 1024 * 1024 + 400_000
    parts = dossier_zips(snapshot, {}, files, dt.date(2026, 12, 4), limit=limit)
    assert len(parts) >= 2
    assert all(len(part) <= limit for part in parts)
    seen: list[str] = []
    for part in parts:
        with zipfile.ZipFile(io.BytesIO(part)) as archive:
            names = archive.namelist()
            assert names[0] == "00 - Index du dossier.pdf", "each part has the index first"
            seen += names[1:]
    assert sorted(n.rsplit("/", 1)[-1] for n in seen) == ["p1.pdf", "p2.pdf", "p3.pdf", "p4.pdf"]


async def test_stats_count_dossiers_from_anonymous_tallies(tmp_path: Path) -> None:
    async with at_result(tmp_path, admin_chat_ids=frozenset({ADMIN})) as (p, _):
        await p.press("chk:start", result_message(p).message_id)
        await open_evidence(p)
        await p.send_file(PDF, "programme.pdf", "application/pdf")
        await p.send_file(PHOTO, media="photo")
        await p.press("ev:zip", p.live().message_id)
        admin = Person(p.app, p.api, ADMIN, "fr")
        await admin.say("/stats")
        report = seen(next(t for t in admin.texts() if "Statistiques" in t))
    assert "<b>Dossiers de preuves</b> : 1 commencé(s), 1 envoyé(s) en ZIP" in report
    assert "en moyenne 4 % des indicateurs y ont une preuve" in report  # 1 of 25


@pytest.mark.parametrize("choice", ["index", "files", "none"])
async def test_a_lead_carries_the_dossier_only_as_far_as_the_person_agreed(
    tmp_path: Path, choice: str
) -> None:
    async with at_result(tmp_path, admin_chat_ids=frozenset({ADMIN})) as (p, store):
        await p.app.qualiopi.settle()
        await p.press("chk:start", result_message(p).message_id)
        await open_evidence(p)
        await p.send_file(PDF, "programme.pdf", "application/pdf")
        offer = next(m for m in p.api.chat(42) if "lead:yes" in m.data())
        await p.press("lead:yes", offer.message_id)
        await p.press("lead:agree", p.last().message_id)
        await p.say("camille.martin@example.fr")
        await p.say("Camille Martin")
        await p.say("Rappelez-moi lundi")
        asked = p.last()
        assert "Votre dossier de preuves compte 1 pièce" in seen(asked.text)
        assert asked.data() == ["lead:dossier:index", "lead:dossier:files", "lead:dossier:none"]
        await p.press(f"lead:dossier:{choice}", asked.message_id)
        await p.app.qualiopi.settle()
        to_admin = p.api.chat(ADMIN)
        alert = seen(next(m.text for m in to_admin if "Nouveau contact" in m.text))
        documents = {m.filename: m.document for m in to_admin if m.document}
        stored = (await store.rows("leads"))[0]["dossier"]
    if choice == "none":
        assert "Dossier de preuves" not in alert
        assert len(documents) == 1, "the checklist only"
        assert stored is None
        return
    assert stored == choice
    assert "Dossier de preuves : 1 indicateur(s) sur 25 avec une preuve" in alert
    if choice == "index":
        assert "l’index suit" in alert
        index = documents["contact-camille-martin-index-preuves-2026-11-26.pdf"]
        assert "programme.pdf" in PdfReader(io.BytesIO(index)).pages[0].extract_text()
        assert not any(name.endswith(".zip") for name in documents), "no files: not agreed"
        return
    archive = documents["contact-camille-martin-dossier-preuves-2026-11-26.zip"]
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        assert any(n.endswith("/programme.pdf") for n in opened.namelist())
