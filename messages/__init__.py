"""Every text a person reads: Jinja2 templates per language, and the only Jinja code.

Templates live in ``messages/fr`` and ``messages/en`` and are kept in step (a test fails when
a template or macro exists in one language only). They receive plain data, never flow or bot
objects. HTML templates (``*.html.j2``) produce Telegram's HTML subset; ``to_plain`` turns that
into terminal text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape
from markupsafe import Markup, escape

from flows.contract import LANGUAGES as LANGUAGES

DEFAULT_LANGUAGE = "fr"
FALLBACK_LANGUAGE = "en"
"""Where a text missing in a language is taken from (a language being added speaks English
until its templates are all written)."""
TEMPLATE_DIR = Path(__file__).parent

_ENV = Environment(
    loader=FileSystemLoader(TEMPLATE_DIR),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=False,
    # Templates ship with the code: no stat() of the file on every render (measured under load).
    auto_reload=False,
)


def language_or_default(code: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """Returns the language a Telegram language tag names ("fr-CA": "fr"), the fallback
    language for a tag we do not speak, ``default`` when there is none."""
    if not code:
        return default
    tag = code.lower()
    return next((lang for lang in LANGUAGES if tag.startswith(lang)), FALLBACK_LANGUAGE)


def next_language(lang: str) -> str:
    """The language a language switch goes to: the next one, in turn."""
    return LANGUAGES[(LANGUAGES.index(lang) + 1) % len(LANGUAGES)]


@cache
def _template(lang: str, name: str) -> Template:
    """The template ``<lang>/<name>.html.j2``, or the fallback language's while it is not
    written: looked up once (the file's existence is not asked again at every render)."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}")
    if lang != FALLBACK_LANGUAGE and not (TEMPLATE_DIR / lang / f"{name}.html.j2").exists():
        return _template(FALLBACK_LANGUAGE, name)
    return _ENV.get_template(f"{lang}/{name}.html.j2")


@cache
def _module(lang: str, name: str) -> Any:
    """The macros of a template (``_template``'s)."""
    return _template(lang, name).module


def warm_up() -> int:
    """Compiles every template now (about 11 ms each, 0.44 s in all on the 2-core machine),
    so that no one's first screen after a start waits on Jinja's compiler; returns how many."""
    names = sorted(_ENV.list_templates(filter_func=lambda name: name.endswith(".html.j2")))
    for name in names:
        _ENV.get_template(name)
    return len(names)


def has_macro(lang: str, name: str, macro: str) -> bool:
    """Tells whether the template ``name`` of ``lang`` defines that macro."""
    return callable(getattr(_module(lang, name), macro, None))


def macro_names(lang: str, name: str) -> frozenset[str]:
    """Returns the public macro names a template defines (for the language parity test)."""
    module = _module(lang, name)
    return frozenset(
        n for n in dir(module) if not n.startswith("_") and callable(getattr(module, n))
    )


def call(lang: str, name: str, macro: str, /, **data: Any) -> Markup:
    """Renders one macro of a template with plain data; the result is HTML-safe."""
    fn = getattr(_module(lang, name), macro, None)
    if fn is None and lang != FALLBACK_LANGUAGE:
        fn = getattr(_module(FALLBACK_LANGUAGE, name), macro, None)
    if fn is None:
        raise KeyError(f"{lang}/{name}.html.j2 has no macro {macro!r}")
    return Markup(typography(lang, str(fn(**data)).strip()))


def text(lang: str, name: str, macro: str, /, **data: Any) -> str:
    """Renders one macro as plain text (no tags, entities decoded)."""
    if not data:
        return _fixed_text(lang, name, macro)
    return to_plain(call(lang, name, macro, **data))


@lru_cache(maxsize=1024)
def _fixed_text(lang: str, name: str, macro: str) -> str:
    """A macro without data, rendered once: templates read nothing but what they are given
    (no globals), so its text never changes (a button's "Retour", a hint)."""
    return to_plain(call(lang, name, macro))


def render(lang: str, name: str, **context: Any) -> Markup:
    """Renders a whole template (``<lang>/<name>.html.j2``) with plain data; HTML-safe."""
    page = _template(lang, name).render(**context).strip()
    return Markup(typography(lang, page))


def safe(text: str) -> Markup:
    """Telegram HTML by construction: a template's output (``Markup``) as it is, any other
    text (a setting, something a person typed, a plain message) escaped."""
    return escape(text)


def join(separator: str, parts: Iterable[str]) -> Markup:
    """Joins HTML parts; a part that is not ``Markup`` is escaped."""
    return Markup(separator).join(parts)


_TAG = re.compile(r"<[^>]+>")

NNBSP = "\u202f"
"""Narrow no-break space: before ; ! ? and inside « » in French."""
NBSP = "\u00a0"
"""No-break space: before : and €, and between groups of digits, in French."""

# What typography never touches: tags, entities, addresses, e-mail addresses, commands.
_KEEP = re.compile(
    r"(<[^>]+>|&#?[a-zA-Z0-9]+;|(?:https?|tg)://[^\s<>\"]+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|/[a-z_]+)"
)
_SPACES = f"[ {NBSP}{NNBSP}]"
_FRENCH_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"'"), "’"),
    (re.compile(rf"(?<=\S){_SPACES}?([;!?])(?=\s|$|[)»\U000F0000-\U000FFFFD])"), NNBSP + r"\1"),
    (re.compile(rf"(?<=\S){_SPACES}?:(?=\s|$)"), NBSP + ":"),
    (re.compile(rf"«{_SPACES}?"), "«" + NNBSP),
    (re.compile(rf"(?<=\S){_SPACES}?»"), NNBSP + "»"),
    (re.compile(rf"(?<=\d){_SPACES}?€"), NBSP + "€"),
    (re.compile(rf"(?<=\d){_SPACES}?%"), NNBSP + "%"),
    (re.compile(r"(?<=\d) (?=\d{3}(?!\d))"), NBSP),
)
_ENTITY_APOSTROPHE = re.compile(r"&#(?:39|x27);")
_HELD = 0xF0000
"""Kept pieces stand in as characters of a private-use plane while the rules run."""
_HELD_MAX = 0xFFFD
_HELD_CHAR = re.compile("[\U000f0000-\U000ffffd]")


@lru_cache(maxsize=8192)
def french_typography(text: str) -> str:
    """Applies French typography to text or Telegram HTML, leaving tags, links and commands.

    A narrow no-break space before ; ! ? and % and inside « », a no-break space before : and €
    and between groups of thousands, and typographic apostrophes. Idempotent. Cached: the
    same sentences (rules, indicators) come back in every result.
    """
    text = _ENTITY_APOSTROPHE.sub("’", text)
    kept: list[str] = []

    def hold(match: re.Match[str]) -> str:
        kept.append(match.group(0))
        return chr(_HELD + len(kept) - 1)

    held = _KEEP.sub(hold, text) if len(_KEEP.findall(text)) < _HELD_MAX else text
    for pattern, replacement in _FRENCH_RULES:
        held = pattern.sub(replacement, held)
    return _HELD_CHAR.sub(lambda m: kept[ord(m.group(0)) - _HELD], held) if kept else held


def typography(lang: str, text: str) -> str:
    """Applies the typography of ``lang`` (French rules; English keeps its own)."""
    return french_typography(text) if lang == "fr" else text


def to_plain(markup: str) -> str:
    """Turns Telegram HTML into plain text: tags dropped, entities decoded, lines kept."""
    return html.unescape(_TAG.sub("", markup))


TELEGRAM_LIMIT = 4096
CAPTION_LIMIT = 1024
"""The longest caption a document or photo may carry (after entities are parsed)."""
"""Telegram's limit for one message, in UTF-16 code units after entity parsing."""

_PIECE = re.compile(r"(<[^>]+>)")
_TAG_NAME = re.compile(r"</?\s*([a-zA-Z-]+)")
_ENTITY_TAIL = re.compile(r"&[#a-zA-Z0-9]{0,10}$")


def telegram_length(text: str) -> int:
    """Returns the length Telegram counts (UTF-16 code units), tags included: an upper bound."""
    return len(text.encode("utf-16-le")) // 2


def split_html(markup: str, limit: int = TELEGRAM_LIMIT) -> list[Markup]:
    """Splits Telegram HTML into parts of at most ``limit``, at line ends, never inside a tag.

    Tags open at a cut are closed at the end of the part and opened again at the start of the
    next one, so every part is valid on its own. Lines longer than a part are cut at spaces,
    and a word longer than a part is cut between characters (never inside an entity).
    """
    parts: list[str] = []
    stack: list[tuple[str, str]] = []  # (name, opening tag) of the tags open at this point
    current = ""

    def closing() -> str:
        return "".join(f"</{name}>" for name, _ in reversed(stack))

    def fits(extra: str) -> bool:
        return telegram_length(current + extra + closing()) <= limit

    def flush() -> None:
        nonlocal current
        if current.strip():
            parts.append((current + closing()).strip("\n"))
        current = "".join(tag for _, tag in stack)

    def track(piece: str) -> None:
        for tag in _PIECE.findall(piece):
            match = _TAG_NAME.match(tag)
            if match is None:
                continue
            name = match.group(1).lower()
            if tag.startswith("</"):
                for i in range(len(stack) - 1, -1, -1):
                    if stack[i][0] == name:
                        del stack[i]
                        break
            else:
                stack.append((name, tag))

    def add(piece: str) -> None:
        nonlocal current
        if not fits(piece):
            flush()
        if fits(piece):
            current += piece
            track(piece)
            return
        for chunk in _pieces_of(piece, limit // 2):
            if not fits(chunk):
                flush()
            current += chunk
            track(chunk)

    for line in markup.splitlines(keepends=True):
        add(line)
    flush()
    return [Markup(part) for part in parts]


def _pieces_of(line: str, size: int) -> list[str]:
    """Cuts an over-long line into tags, words, and character runs of at most ``size``."""
    out: list[str] = []
    for piece in _PIECE.split(line):
        if piece.startswith("<"):
            out.append(piece)
            continue
        for word in re.split(r"(?<= )", piece):
            rest = word
            while len(rest) > size:
                tail = _ENTITY_TAIL.search(rest[:size])
                cut = tail.start() if tail and tail.start() > 0 else size
                out.append(rest[:cut])
                rest = rest[cut:]
            if rest:
                out.append(rest)
    return out
