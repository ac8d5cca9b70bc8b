"""Entry point: ``python -m bot`` and the ``qualiopi-bot`` console script."""

from __future__ import annotations

import os
import sys

from bot.cli import main as _main


def main() -> None:
    """Runs the command line and exits with its status (quietly on Ctrl-C or a closed pipe)."""
    try:
        status = _main()
        sys.stdout.flush()
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        status = 130
    except BrokenPipeError:
        # The reader went away (| head): say nothing more, and keep Python from complaining
        # while it flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        status = 0
    sys.exit(status)


if __name__ == "__main__":
    main()
