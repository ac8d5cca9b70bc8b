"""The committed diagram is the one the machine draws."""

from __future__ import annotations

from pathlib import Path

from flows.contract import QUESTION_IDS
from flows.diagram import forward_edges, mermaid
from flows.flow import NEXT, REVIEW

DOC = Path(__file__).resolve().parents[2] / "docs" / "flow.md"


def test_the_committed_diagram_matches_the_machine() -> None:
    assert DOC.read_text(encoding="utf-8") == mermaid(), "run: qualiopi-bot diagram"


def test_the_diagram_draws_the_edges_forward_paths_take_and_only_those() -> None:
    text = mermaid()
    taken = forward_edges()
    for source, targets in NEXT.items():
        for target in targets:
            drawn = f"{source} --> {target}:" in text
            assert drawn == ((source, target) in taken), (source, target)
    assert ("role", "activities") in taken
    assert ("role", REVIEW) in taken  # an employed trainer is done after one question
    assert ("missing_categories", "sites") in taken
    assert all(QUESTION_IDS.index(a) < QUESTION_IDS.index(b) for a, b in taken if b != REVIEW)


README = DOC.parents[1] / "README.md"


def test_the_readme_shows_the_current_diagram() -> None:
    from flows.diagram import with_diagram

    text = README.read_text(encoding="utf-8")
    assert with_diagram(text) == text, "run: qualiopi-bot diagram"
