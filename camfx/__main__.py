"""`camfx` and `python -m camfx`: a light start that handles Ctrl+C during the heavy imports."""

import os
import signal
import sys


def _quit_during_startup(signum: int, frame: object) -> None:
    # Nothing is open yet, so leave at once: a SystemExit raised here can land inside
    # importlib's module-lock callback, which prints it as "Exception ignored" and
    # carries on starting (seen in the Ctrl+C-at-0.1 s test).
    sys.stderr.write("camfx: interrupted\n")
    sys.stderr.flush()
    os._exit(130)


def run() -> int:
    # Importing the CLI loads OpenCV, LiteRT and friends (a second or more): a Ctrl+C
    # then should end quietly, like one later does. main() installs the real handlers.
    signal.signal(signal.SIGINT, _quit_during_startup)
    from camfx.app.cli import main

    return main()


if __name__ == "__main__":
    sys.exit(run())
