"""Ctrl-C and SIGTERM (what a cluster scheduler sends) end any `sla` command with one line and
exit 130 / 143, whenever they come.

Before a job runs (interpreter start, Hydra and torch imports, config checks) nothing needs
cleaning up: the handler prints the line and exits at once. While a job runs, the signal becomes
an ``Interrupted`` exception, so open writes unwind (temporaries removed, the last checkpoint
intact, the folder unlocked) and the CLI reports it; a second signal during that unwinding
exits at once.
"""

from __future__ import annotations

import contextlib
import os
import signal

_state = {"job": False, "name": "sla"}


class Interrupted(KeyboardInterrupt):
    """A signal that ends the job; ``exit_code`` is 128 + the signal number."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.exit_code = 128 + signum


def _handler(signum: int, frame) -> None:
    if not _state["job"]:
        os.write(2, f"{_state['name']}: interrupted\n".encode())
        os._exit(128 + signum)
    _state["job"] = False  # the next signal exits at once
    raise Interrupted(signum)


def install(name: str = "sla") -> None:
    """Handle SIGINT and SIGTERM for the rest of this process (the CLI only, never the tests)."""
    _state["name"] = name
    signal.signal(signal.SIGINT, _handler)
    signal.signal(signal.SIGTERM, _handler)


def installed() -> bool:
    return signal.getsignal(signal.SIGTERM) is _handler


@contextlib.contextmanager
def job(name: str):
    """While the block runs, a signal raises Interrupted instead of exiting at once."""
    _state.update(job=True, name=name)
    try:
        yield
    finally:
        _state["job"] = False
