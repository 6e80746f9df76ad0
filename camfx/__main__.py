"""`camfx` and `python -m camfx`: a light start that handles Ctrl+C during the heavy imports."""

import signal
import sys


def _quit_during_startup(signum: int, frame: object) -> None:
    sys.stderr.write("camfx: interrupted\n")
    sys.exit(130)


def run() -> int:
    # Importing the CLI loads OpenCV, LiteRT and friends (a second or more): a Ctrl+C
    # then should end quietly, like one later does. main() installs the real handlers.
    signal.signal(signal.SIGINT, _quit_during_startup)
    from camfx.cli import main

    return main()


if __name__ == "__main__":
    sys.exit(run())
