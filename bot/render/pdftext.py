"""Breaking a text into lines for the PDF, a word at a time.

fpdf2's ``multi_cell`` lays a text out a character at a time (about 4 µs a character here),
which made the widest checklist cost over 170 ms of CPU. This breaks lines the way it does, at
the same places, but measures whole words (each word's width is looked up once per font):

- a line breaks at a breaking space, which is dropped; a no-break space (U+00A0, U+202F, the
  spaces French typography adds) never breaks;
- a newline ends a line (a final newline adds no empty line);
- a word wider than the line is cut between characters, as fpdf2 does in its ``WORD`` mode;
- a no-break space U+00A0 is printed as a space (it is as wide), as fpdf2 prints it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

BREAKING_SPACES = re.compile("([ \t\u200b\u2000-\u2006\u2008-\u200a\u205f\u3000])")
"""The spaces fpdf2 breaks a line at (``fpdf.line_break.BREAKING_SPACE_SYMBOLS``)."""
NBSP = "\u00a0"
TOLERANCE = 1e-7
"""A line may be this much wider than the room it has (fpdf2's ``FloatTolerance``)."""


def wrap(text: str, width: Callable[[str], float], room: float) -> list[str]:
    """The lines of ``text`` at most ``room`` wide, ``width`` measuring a piece of text."""
    lines: list[str] = []
    paragraphs = text.split("\n")
    if len(paragraphs) > 1 and paragraphs[-1] == "":
        paragraphs.pop()
    limit = room + TOLERANCE
    for paragraph in paragraphs:
        parts = BREAKING_SPACES.split(paragraph)
        words, gaps = parts[0::2], parts[1::2]
        line: list[str] = []
        line_width = 0.0
        broken = False
        for index, whole_word in enumerate(words):
            word = whole_word
            gap = gaps[index - 1] if index else ""
            gap_width = width(gap) if gap else 0.0
            word_width = width(word)
            if line and line_width + gap_width + word_width > limit:
                lines.append("".join(line))
                line, line_width, gap, gap_width = [], 0.0, "", 0.0
                broken = True
            if not line and word_width > limit:
                *pieces, word = _cut(word, width, limit)
                lines.extend(pieces)
                word_width = width(word)
            line += (gap, word)
            line_width += gap_width + word_width
        if any(line) or not broken:  # trailing spaces that broke a line leave no empty line
            lines.append("".join(line))
    return [line.replace(NBSP, " ") for line in lines]


def _cut(word: str, width: Callable[[str], float], limit: float) -> list[str]:
    """A word too wide for a line, in pieces that fit (at least a character each)."""
    pieces: list[str] = []
    piece = ""
    piece_width = 0.0
    for character in word:
        character_width = width(character)
        if piece and piece_width + character_width > limit:
            pieces.append(piece)
            piece, piece_width = "", 0.0
        piece += character
        piece_width += character_width
    pieces.append(piece)
    return pieces
