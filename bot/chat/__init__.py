"""What every decider reads of a chat, beside its own room: the parts of the chat's meta
(the follow-ups', the funnel's, the self-assessment's), where the chat stands (at a result,
on an indicator) and the language it speaks, the anonymous tallies a step adds. The deciders
(``conversation``, ``assessment``, ``evidence``, ``consultancy``) are siblings: none imports
another; what they share is here."""
