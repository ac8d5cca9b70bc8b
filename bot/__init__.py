"""The I/O side of qualiopi-bot: command line, Telegram wiring, storage, configuration."""
