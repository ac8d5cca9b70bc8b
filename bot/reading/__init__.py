"""Reading what people send, trusting nothing: button data back into actions
(``buttons``), typed answers and words (``typed``), typed dates (``days``). What is read is
what ``bot.render`` shows (its labels, its button data); the screens never read input."""
