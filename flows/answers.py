"""Reading validated answers: which options were chosen, the categories, how the provider sells."""

from __future__ import annotations

from flows.contract import CATEGORY_OF_ACTIVITY, Answers


def has_option(answers: Answers, question: str, option: str) -> bool:
    value = answers.get(question)
    return value == option if isinstance(value, str) else value is not None and option in value


def chosen_options(answers: Answers, question: str) -> tuple[str, ...]:
    value = answers.get(question)
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else value


def is_in_scope_provider(answers: Answers) -> bool:
    """Tells whether the person speaks for a provider that may sell actions (asks activities)."""
    return answers.get("role") in ("independent", "organisation") or (
        answers.get("higher_education") == "other_private"
    )


def delivers_vocational_actions(answers: Answers) -> bool:
    """Tells whether the chosen activities include an action category of L6313-1."""
    return any(a in CATEGORY_OF_ACTIVITY for a in chosen_options(answers, "activities"))


def categories_of(answers: Answers) -> tuple[str, ...]:
    """Returns the action categories (AF, BC, VAE, CFA) of the chosen activities."""
    return tuple(
        CATEGORY_OF_ACTIVITY[a]
        for a in chosen_options(answers, "activities")
        if a in CATEGORY_OF_ACTIVITY
    )


def sells_directly(answers: Answers) -> bool:
    """Tells whether the provider contracts with clients or funders itself."""
    return answers.get("selling") in ("direct", "both")


def subcontracts_for_others(answers: Answers) -> bool:
    """Tells whether the provider delivers actions for other providers."""
    return answers.get("selling") in ("subcontractor_only", "both")
