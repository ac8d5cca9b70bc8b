"""Every text a person reads: Jinja2 templates per language, and the only Jinja code.

Templates live in ``messages/fr`` and ``messages/en`` and are kept in step (a test fails when
a template or macro exists in one language only). They receive plain data, never flow or bot
objects. HTML templates (``*.html.j2``) produce Telegram's HTML subset; ``to_plain`` turns that
into terminal text.
"""

from __future__ import annotations

import html
import re
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

LANGUAGES: tuple[str, ...] = ("fr", "en")
DEFAULT_LANGUAGE = "fr"
TEMPLATE_DIR = Path(__file__).parent

_ENV = Environment(
    loader=FileSystemLoader(TEMPLATE_DIR),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=False,
)


def language_or_default(code: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """Returns "fr" for any French tag, "en" for any other tag, ``default`` when missing."""
    if not code:
        return default
    return "fr" if code.lower().startswith("fr") else "en"


@cache
def _module(lang: str, name: str) -> Any:
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}")
    return _ENV.get_template(f"{lang}/{name}.html.j2").module


def has_macro(lang: str, name: str, macro: str) -> bool:
    """Tells whether the template ``name`` of ``lang`` defines that macro."""
    return callable(getattr(_module(lang, name), macro, None))


def macro_names(lang: str, name: str) -> frozenset[str]:
    """Returns the public macro names a template defines (for the language parity test)."""
    module = _module(lang, name)
    return frozenset(
        n for n in dir(module) if not n.startswith("_") and callable(getattr(module, n))
    )


def call(lang: str, name: str, macro: str, **data: Any) -> Markup:
    """Renders one macro of a template with plain data; the result is HTML-safe."""
    fn = getattr(_module(lang, name), macro, None)
    if fn is None:
        raise KeyError(f"{lang}/{name}.html.j2 has no macro {macro!r}")
    return Markup(str(fn(**data)).strip())


def text(lang: str, name: str, macro: str, **data: Any) -> str:
    """Renders one macro as plain text (no tags, entities decoded)."""
    return to_plain(call(lang, name, macro, **data))


def render(lang: str, name: str, **context: Any) -> str:
    """Renders a whole template (``<lang>/<name>.html.j2``) with plain data."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}")
    return _ENV.get_template(f"{lang}/{name}.html.j2").render(**context).strip()


_TAG = re.compile(r"<[^>]+>")


def to_plain(markup: str) -> str:
    """Turns Telegram HTML into plain text: tags dropped, entities decoded, lines kept."""
    return html.unescape(_TAG.sub("", markup))
