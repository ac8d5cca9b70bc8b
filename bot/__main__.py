"""Entry point: ``python -m bot`` and the ``qualiopi-bot`` console script."""

from __future__ import annotations

import sys

from bot.cli import main as _main


def main() -> None:
    """Runs the command line and exits with its status."""
    sys.exit(_main())


if __name__ == "__main__":
    main()
