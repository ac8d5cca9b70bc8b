"""The texts every rule cites, in French and English, and how citations combine.

Titles of French legal texts stay French in both languages (they are names); what is said
about them (articles, dates, "reported, to confirm") is translated, so that an English result
carries no French sentence and a French one no English title.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Source:
    """A citation in each language."""

    fr: str
    en: str

    def __getitem__(self, lang: str) -> str:
        """Returns the citation in ``lang``: French in French, English in any other language
        (the legal sources are cited in these two)."""
        return self.fr if lang == "fr" else self.en

    def __and__(self, other: Source) -> Source:
        """Cites both texts, this one first."""
        return Source(f"{self.fr} ; {other.fr}", f"{self.en}; {other.en}")

    def at(self, fr: str, en: str) -> Source:
        """Points at a part of the text (an article, an indicator)."""
        return Source(f"{self.fr}, {fr}", f"{self.en}, {en}")

    def indicator(self, number: int) -> Source:
        """Points at one indicator of the text."""
        return self.at(f"indicateur {number}", f"indicator {number}")


def code_du_travail(article: str) -> Source:
    """An article of the Code du travail."""
    return Source(f"Code du travail, art. {article}", f"Code du travail, art. {article}")


L6313_1 = code_du_travail("L6313-1")
L6316_1 = code_du_travail("L6316-1")
L6316_2 = code_du_travail("L6316-2")
L6316_4 = code_du_travail("L6316-4")
L6323_6 = code_du_travail("L6323-6")
L6351_1 = code_du_travail("L6351-1")
L6351_6 = code_du_travail("L6351-6")
L6352_11 = code_du_travail("L6352-11")
CENTRE_INFFO = Source("Centre Inffo", "Centre Inffo")
DGEFP_ADVICE = Source("conseil de la DGEFP", "DGEFP advice")
OBLIGATION_START = Source(
    "Code du travail, art. L6316-1 (ordonnance n° 2020-387), obligation en vigueur depuis le "
    "1er janvier 2022",
    "Code du travail, art. L6316-1 (ordonnance 2020-387), obligation in force since "
    "1 January 2022",
)
CPF_SUBCONTRACTING = Source(
    "Code du travail, art. L6323-9-2 (loi n° 2022-1587) ; art. R6333-6-2 et R6333-6-3 "
    "(décret n° 2023-1350), contrats de sous-traitance signés depuis le 1er avril 2024",
    "Code du travail, art. L6323-9-2 (loi 2022-1587); art. R6333-6-2 and R6333-6-3 "
    "(décret 2023-1350), subcontracting contracts signed from 1 April 2024",
)
ARRETE_CPF_2024 = Source(
    "Décret n° 2023-1350 ; arrêté du 3 janvier 2024 ; conditions générales d’utilisation de "
    "Mon Compte Formation",
    "Décret 2023-1350; arrêté of 3 January 2024; terms of use of Mon Compte Formation",
)
GUIDE_V9 = Source(
    "Guide de lecture du RNQ, V9 du 8 janvier 2024",
    "Guide de lecture of the RNQ, V9 of 8 January 2024",
)
ANNEX_2019 = Source("Décret n° 2019-565, annexe", "Décret 2019-565, annex")
DECREE_2026 = Source(
    "Décret n° 2026-728 du 1er août 2026 (rapporté, à confirmer sur Légifrance)",
    "Décret 2026-728 of 1 August 2026 (reported, to confirm on Légifrance)",
)
AUDIT_ARRETE = Source(
    "Arrêté du 6 juin 2019 (audits), modifié par l’arrêté du 31 mai 2023",
    "Arrêté of 6 June 2019 (audits), as amended by the arrêté of 31 May 2023",
)
ARRETE_2023 = Source(
    "Arrêté du 31 mai 2023 (en vigueur le 1er septembre 2023)",
    "Arrêté of 31 May 2023 (in force from 1 September 2023)",
)
CERTIFIER_PRACTICE = Source(
    "Pratique des certificateurs (AFNOR, Proneo, SGS)",
    "Certifiers’ practice (AFNOR, Proneo, SGS)",
)
FRANCE_COMPETENCES = Source("France compétences", "France compétences")
PRIVATE_HE_BILL = Source(
    "Projet de loi relatif à l’enseignement supérieur privé (30 juillet 2025), art. 5",
    "Bill on private higher education (30 July 2025), art. 5",
)
PUBLIC_LIST = Source(
    "Liste publique des organismes certifiés (DGEFP)",
    "Public list of certified providers (DGEFP)",
)
DECREE_2021_1851 = Source(
    "Décret n° 2021-1851 du 28 décembre 2021 (rapporté par Centre Inffo et Info-Social RH, "
    "3 janvier 2022 ; article codifié à vérifier sur Légifrance)",
    "Décret 2021-1851 of 28 December 2021 (reported by Centre Inffo and Info-Social RH, "
    "3 January 2022; codified article to check on Légifrance)",
)
"""When funders judge certification (the date of their agreement) and the 6-month window of
a provider's first apprenticeship action: known from consistent secondary sources."""
FIF_PL_CRITERIA = Source(
    "Critères de prise en charge du FIF-PL (rapportés par Docteurcertif, 2025 ; à vérifier "
    "sur fifpl.fr pour l’année en cours)",
    "FIF-PL funding criteria (reported by Docteurcertif, 2025; to check on fifpl.fr for the "
    "current year)",
)
MCF_TERMS = Source(
    "Conditions générales d’utilisation de Mon Compte Formation (référencement réservé aux "
    "organismes certifiés)",
    "Terms of use of Mon Compte Formation (listing reserved to certified providers)",
)
DECREE_2019_565 = Source(
    "Code du travail R6316-1 ; décret n° 2019-565 du 6 juin 2019 (annexe)",
    "Code du travail R6316-1; décret 2019-565 of 6 June 2019 (annex)",
)


def indicator_source(number: int) -> Source:
    """The annex of 2019 and guide V9 for one indicator (what every indicator rests on)."""
    return ANNEX_2019.indicator(number) & GUIDE_V9
