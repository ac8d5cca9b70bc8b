"""The committed diagram is the one the machine draws."""

from __future__ import annotations

from pathlib import Path

from flows.diagram import mermaid
from flows.flow import NEXT

DOC = Path(__file__).resolve().parents[2] / "docs" / "flow.md"


def test_the_committed_diagram_matches_the_machine() -> None:
    assert DOC.read_text(encoding="utf-8") == mermaid(), "run: qualiopi-bot diagram"


def test_the_diagram_draws_every_answer_edge() -> None:
    text = mermaid()
    for source, targets in NEXT.items():
        for target in targets:
            assert f"{source} --> {target}:" in text


README = DOC.parents[1] / "README.md"


def test_the_readme_shows_the_current_diagram() -> None:
    from flows.diagram import with_diagram

    text = README.read_text(encoding="utf-8")
    assert with_diagram(text) == text, "run: qualiopi-bot diagram"
