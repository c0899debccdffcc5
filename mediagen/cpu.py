"""Threads that wait without spinning, so a build on a busy machine slows only by its share of the cores.

llama.cpp (through the system's libgomp) and CTranslate2 (faster-whisper, with its own libgomp) run
their threads under OpenMP, whose threads spin for a long while at every barrier before they sleep.
On a machine whose cores another process keeps busy, one of our threads then waits for a core while
the other spins: `mediagen script` on rust-lld took 30 s idle and 252 s beside two busy processes.
Told to wait passively (OMP_WAIT_POLICY=PASSIVE, read by each libgomp when it loads), the same
script stage took 47-54 s beside them and 25-31 s idle (22-27 s idle spinning; fewer threads than
cores is worse: one thread took 61 s beside them). Whisper's check was as fast either way when idle
(28-29 s for 207 s of audio, 37-43 s spinning without end).
"""

from __future__ import annotations

import os

WAIT_POLICY = "PASSIVE"


def wait_passively() -> None:
    """Ask the OpenMP runtimes loaded after this call to let waiting threads sleep (unless the user set
    OMP_WAIT_POLICY). Engines call it before they import their native library."""
    os.environ.setdefault("OMP_WAIT_POLICY", WAIT_POLICY)


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1
