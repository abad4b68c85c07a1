"""Child processes that do not outlive the process that started them."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
from collections.abc import Callable

PR_SET_PDEATHSIG = 1
"""prctl option (linux/prctl.h): the signal a process gets when its parent dies."""


def die_with_parent(signum: int = signal.SIGTERM) -> Callable[[], None] | None:
    """A `preexec_fn` asking Linux to send the child `signum` when its parent dies, since a
    parent killed with SIGKILL cannot stop its children itself. None off Linux, and off the main
    thread: the kernel watches the thread that forks, and only the main thread lives as long as
    the process."""
    if not sys.platform.startswith("linux"):
        return None
    if threading.current_thread() is not threading.main_thread():
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up here, not in the forked child
    parent = os.getpid()

    def ask_for_the_signal() -> None:
        prctl(PR_SET_PDEATHSIG, int(signum))
        if os.getppid() != parent:  # the parent died before the request took hold
            os.kill(os.getpid(), signum)

    return ask_for_the_signal
