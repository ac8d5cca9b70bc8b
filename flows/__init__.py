"""The questionnaire's pure core: referentials, rules, advice and the conversation flow.

Nothing here does I/O beyond reading its own packaged data, imports Telegram or Jinja, or
knows about languages other than as data keys.

Glossary of the French terms kept as identifiers and values:

- Qualiopi: the quality certification of L6316-1; its référentiel is the RNQ.
- RNQ (Référentiel national qualité): the 7 criteria and 32 (33 from 2026-11-01) indicators.
- OPCO (opérateur de compétences): the mutualised funds of companies' training contributions.
- CPF (compte personnel de formation), sold through Mon Compte Formation / EDOF (the CDC).
- France Travail: the public employment service (Pôle emploi until 2024).
- Transitions Pro: the regional associations funding career-transition projects.
- Agefiph: the fund for the employment of disabled people.
- FAF (fonds d'assurance formation): non-salaried workers' funds (FIF-PL, AGEFICE, VIVEA).
- NDA (numéro de déclaration d'activité): the activity declaration number (L6351-1).
- Nouvel entrant: a provider in its first year, or in a new category (guide de lecture V9).
- Donneur d'ordre: the provider that subcontracts an action to another.
- Categories (L6313-1): AF action de formation, BC bilan de compétences, VAE validation des
  acquis de l'expérience, CFA action de formation par apprentissage.
"""
