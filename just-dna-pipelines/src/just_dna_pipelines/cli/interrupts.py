"""How a command's run takes Ctrl-C: as Dagster's interrupt of the running step, never in the command's clean-up.

The run executes on the command's main thread inside Dagster's `capture_interrupts`: a SIGINT (or SIGTERM) is
noted, and raised only in the run's steps (Dagster's checkpoints), so the run ends as a run and the command then
puts things back without a second Ctrl-C cutting that short. While the run lasts, SIGINT is blocked in the main
thread, so the helpers Dagster starts from it (`tail -F` mirroring each step's output, and the Python script
watching it) inherit it blocked: a terminal's Ctrl-C goes to the whole process group, and the watcher printed a
KeyboardInterrupt traceback. A thread of this module takes SIGINT for the process instead (Python runs the handler
on the main thread whichever thread the kernel picks). The handlers the command had are back afterwards (Dagster
leaves SIGTERM raising KeyboardInterrupt); an interrupt that came after the run's last step is dropped, as Dagster
drops it: the run has finished.

A caller that ignores SIGINT (a script's background job) has the run executed on another thread instead, with
SIGINT blocked there too: Dagster installs no handler off the main thread, so Ctrl-C stays ignored, except in a
Polars query running at that moment (Polars catches SIGINT itself once loaded and raises KeyboardInterrupt in its
queries, whatever the caller asked; the run then ends interrupted). While a run executes on the main thread, a
caller's ignored SIGTERM is taken as an interrupt (Dagster's handler is the same for both).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

T = TypeVar("T")
KEPT_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def run_with_interrupts(work: Callable[[], T]) -> T:
    """`work()` (a command's run and its clean-up), taking interrupts as described above."""
    if threading.current_thread() is not threading.main_thread():
        return work()  # signals are the main thread's: a run elsewhere leaves them alone
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        return _on_another_thread(work)
    with _dagster_interrupts():
        return work()


@contextlib.contextmanager
def _dagster_interrupts() -> Iterator[None]:
    """Interrupts noted for Dagster's checkpoints, SIGINT blocked in this thread, the handlers put back after."""
    from dagster._utils.interrupts import capture_interrupts

    handlers = {signum: signal.getsignal(signum) for signum in KEPT_SIGNALS}
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})  # one sent now stays pending for the receiver
    # What Dagster puts back as it ends capturing: a late one is dropped, not raised in the clean-up's last lines.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stop = threading.Event()
    receiver = threading.Thread(target=_take_sigint, args=(stop,), name="sigint", daemon=True)
    try:
        with capture_interrupts():
            receiver.start()
            yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        stop.set()
        if receiver.is_alive():
            receiver.join()
        for signum, handler in handlers.items():
            if handler is not None:  # None: set outside Python; left as it is now
                signal.signal(signum, handler)


def _take_sigint(stop: threading.Event) -> None:
    """Wait, with SIGINT unblocked in this thread alone, until told to stop: the kernel delivers SIGINT here."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    stop.wait()


def _on_another_thread(work: Callable[[], T]) -> T:
    """`work()` on a thread of its own, waited for; its exception raised here."""
    results: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        # Blocked here, where the run starts Dagster's helpers: they inherit it blocked, and a Ctrl-C sent to the
        # process group leaves them alone too (the caller asked for it to be ignored).
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            results.append(work())
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run, name="run")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return results[0]
