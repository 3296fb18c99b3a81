"""Ctrl-C while the `jamsos` command is still starting (importing its modules, a second or
more on a busy machine): it ends at once, exit 130, saying nothing was written.

Installed when the package is imported by the `jamsos` command itself, before anything else
of it is imported; the command takes SIGINT over once it runs (`cli.interrupts`). Nothing
has touched a store yet, so ending the process there and then is the truth and is safe.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from types import FrameType

EXIT_INTERRUPTED = 130
_SAID = b"Error: interrupted; nothing was written\n"


def interrupted_while_starting(signum: int, frame: FrameType | None) -> None:
    """End the process quietly: nothing is open, nothing was written."""
    os.write(2, _SAID)
    os._exit(EXIT_INTERRUPTED)


def install_if_the_command() -> None:
    """Take over SIGINT when this process is the `jamsos` command (not a program or a test
    importing the package), from its main thread."""
    command = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    if command != "jamsos" or threading.current_thread() is not threading.main_thread():
        return
    signal.signal(signal.SIGINT, interrupted_while_starting)
