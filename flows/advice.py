"""What a verdict means for the person: the indicators, the audits, the next steps.

``evaluate`` puts the verdict of ``flows.rules`` together with the checklist of the
référentiel in force on the day, the next audit and every next step (``flows.steps``), each
citing its source.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from flows.answers import (
    categories_of,
    chosen_options,
    delivers_vocational_actions,
    has_option,
)
from flows.checklist import checklist_notes, indicators_for, mission_indicators
from flows.contract import (
    L6316_1_FUNDERS,
    QUESTIONS,
    Answer,
    Answers,
    Verdict,
)
from flows.path import ContractError, path_questions
from flows.referential import (
    Referential,
    referential_on,
    referentials,
)
from flows.rules import (
    CERTIFICATION_PATH,
    NEW_ENTRANT_STAGES,
    Finding,
    decide,
)
from flows.sources import (
    DECREE_2026,
    L6323_6,
    MCF_TERMS,
    OBLIGATION_START,
)
from flows.steps import certification_steps, other_steps, uncertain_steps

# --- Audits -------------------------------------------------------------------------------------

NEXT_AUDIT_OF_CYCLE: Mapping[str, str] = MappingProxyType(
    {
        "before_surveillance": "surveillance",
        "surveillance_window": "surveillance",
        "before_renewal": "renewal",
        "renewal_window": "renewal",
        "expiring": "renewal",
    }
)


def next_audit_of(verdict: Verdict, answers: Answers) -> str | None:
    """Returns the person's next audit: initial, surveillance, renewal, or None (no audit).

    A finished questionnaire stored before ``certified`` was asked counts as not certified.
    """
    if verdict not in CERTIFICATION_PATH:
        return None
    cycle = answers.get("audit_cycle")
    if answers.get("certified") == "yes" and isinstance(cycle, str):
        return NEXT_AUDIT_OF_CYCLE[cycle]
    return "initial"


def changed_at_next_audit(
    ref: Referential, answers: Answers, indicators: tuple[int, ...]
) -> tuple[int, ...]:
    """Returns, for a certified provider, the indicators the newer text changed or added."""
    if answers.get("certified") != "yes" or not ref.reported_only:
        return ()
    return tuple(n for n in indicators if ref.indicator(n).change is not None)


# --- Reasons ---------------------------------------------------------------------------------


def _extra_reasons(answers: Answers) -> Iterator[Finding]:
    """Yields reasons that qualify the verdict without deciding it."""
    activities = chosen_options(answers, "activities")
    if (
        has_option(answers, "funders", "cpf")
        and "training" in activities
        and not {"vae", "skills_assessment"} & set(activities)
        and answers.get("certifying") == "no"
    ):  # with VAE or bilans, the CPF money may well be theirs (L6323-6)
        yield Finding("cpf_not_certifying", L6323_6, uncertain=True)
    listed = [f for f in chosen_options(answers, "funders") if f in L6316_1_FUNDERS]
    if listed and answers.get("certified") == "no" and answers.get("stage") == "established":
        yield Finding(
            "funded_without_certificate",
            OBLIGATION_START & MCF_TERMS,
            {"cpf": "cpf" in listed},
            uncertain=True,
        )


# --- Looking ahead ---------------------------------------------------------------------------

LOOK_AHEAD = dt.timedelta(days=183)
"""How far ahead a change of référentiel is announced (the contract's ``changing_soon``)."""


@dataclass(frozen=True, slots=True)
class ChangingSoon:
    """A référentiel coming into force within ``LOOK_AHEAD``: an audit from ``start`` follows
    it, and these of the person's indicators (under it) are changed or new."""

    referential: Referential
    start: dt.date
    indicators: tuple[int, ...]


def changing_soon(answers: Answers, on: dt.date, delivers: bool) -> ChangingSoon | None:
    """Returns the next référentiel when it starts within LOOK_AHEAD of ``on``, with the
    person's indicators (evaluated on its first day) that it changed or added."""
    upcoming = next((r for r in referentials() if on < r.in_force_from <= on + LOOK_AHEAD), None)
    if upcoming is None or not delivers:
        return None
    start = upcoming.in_force_from
    indicators = indicators_for(upcoming, answers)
    changed = tuple(n for n in indicators if upcoming.indicator(n).change is not None)
    return ChangingSoon(upcoming, start, changed)


def _new_category_deferral(
    ref: Referential, answers: Answers, indicators: tuple[int, ...]
) -> tuple[int, ...]:
    """A certified provider adding categories is a new entrant for them (arrêté of 31 May
    2023): the deferrable indicators that those categories alone bring, within its own."""
    missing = chosen_options(answers, "missing_categories")
    if not missing:
        return ()
    alone = set(indicators_for(ref, {**answers, "activities": missing}))
    return tuple(n for n in indicators if n in alone and ref.indicator(n).new_entrant_deferred)


# --- Evaluation -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The result for one set of answers on one date."""

    verdict: Verdict
    categories: tuple[str, ...]
    indicators: tuple[int, ...]
    deferred_for_new_entrant: tuple[int, ...]
    referential: Referential
    date: dt.date
    reasons: tuple[Finding, ...]
    checklist_notes: tuple[Finding, ...]
    next_steps: tuple[Finding, ...]
    answers: Mapping[str, Answer]
    next_audit: str | None = None
    """initial, surveillance, renewal, or None when no audit concerns the person."""
    changed_at_next_audit: tuple[int, ...] = ()
    """For a certified provider under the newer text, the indicators it changed or added."""
    changing_soon: ChangingSoon | None = None
    """Another référentiel comes into force soon: its first day and what it changes here."""

    @property
    def mission_checklist(self) -> bool:
        """True when the list shows what a subcontractor's missions touch, not an audit's."""
        return self.verdict not in CERTIFICATION_PATH


def evaluate(answers: Answers, on: dt.date) -> Evaluation:
    """Computes the verdict, the indicators and the next steps for validated answers."""
    ref = referential_on(on)
    decided = decide(answers, on)
    if decided is None:
        missing = next(q for q in path_questions(answers, on) if q not in answers)
        raise ContractError("missing_question", missing, allowed=QUESTIONS[missing].options)
    verdict, reasons = decided
    delivers = verdict is not Verdict.NOT_APPLICABLE and delivers_vocational_actions(answers)
    on_path = verdict in CERTIFICATION_PATH
    indicators = indicators_for(ref, answers) if delivers else ()
    if delivers and not on_path:
        indicators = mission_indicators(indicators, answers)
    deferred: tuple[int, ...] = ()
    if answers.get("stage") in NEW_ENTRANT_STAGES and on_path:
        deferred = tuple(n for n in indicators if ref.indicator(n).new_entrant_deferred)
    elif answers.get("certified") == "yes" and on_path:
        deferred = _new_category_deferral(ref, answers, indicators)
    changed = changed_at_next_audit(ref, answers, indicators) if on_path else ()
    notes = tuple(checklist_notes(ref, answers, missions=not on_path)) if indicators else ()
    if verdict in CERTIFICATION_PATH:
        steps = list(certification_steps(verdict, answers, deferred, changed, on))
    else:
        steps = list(other_steps(verdict, answers))
    soon = changing_soon(answers, on, delivers) if on_path else None
    if soon is not None:
        steps.insert(
            0,
            Finding(
                "referential_changing_soon",
                DECREE_2026,
                {"start": soon.start, "indicators": soon.indicators},
                uncertain=soon.referential.reported_only,
            ),
        )
    steps += uncertain_steps(verdict, answers, ref, bool(indicators), on)
    return Evaluation(
        verdict=verdict,
        categories=categories_of(answers) if delivers else (),
        indicators=indicators,
        deferred_for_new_entrant=deferred,
        referential=ref,
        date=on,
        reasons=(*reasons, *_extra_reasons(answers)),
        checklist_notes=notes,
        next_steps=tuple(steps),
        answers=MappingProxyType(dict(answers)),
        next_audit=next_audit_of(verdict, answers),
        changed_at_next_audit=changed,
        changing_soon=soon,
    )
