"""The one exception type that reaches the user as a one-line message."""


class CamfxError(Exception):
    """A problem the user can fix; its message names the problem and what to do.

    The CLI prints it as a single line and exits non-zero; anything else is a bug
    and keeps its traceback.
    """
