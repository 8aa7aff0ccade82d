"""A one-line progress bar on stderr: redrawn in place on a terminal, one line per 10 % otherwise."""

from __future__ import annotations

import sys
import time

BAR_WIDTH = 30
REDRAW_SECONDS = 0.2
# A speed is told only from then on: the first buffer or block comes in milliseconds, and a rate over it
# said "1,694 M reads/s".
RATE_AFTER_S = 0.5


class ProgressLine:
    """Draws `[#####.....] 50%  text` lines; call `finish` to end the line."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.last_draw = 0.0
        self.tty = sys.stderr.isatty()
        self.last_decile = -1
        self.drawn = False  # on a terminal: whether the line has been drawn, i.e. needs ending

    def elapsed(self) -> float:
        """Seconds since the bar was made."""
        return max(time.monotonic() - self.started, 1e-9)

    def rate(self, amount: float) -> float | None:
        """`amount` per second since the bar was made; None in its first RATE_AFTER_S."""
        seconds = self.elapsed()
        return amount / seconds if seconds >= RATE_AFTER_S else None

    def draw(self, fraction: float | None, text: str, *, force: bool = False) -> None:
        """Show `text` after a bar at `fraction` (no bar when None)."""
        if fraction is None:
            line = text
        else:
            fraction = min(max(fraction, 0.0), 1.0)
            filled = int(fraction * BAR_WIDTH)
            line = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {fraction:4.0%}  {text}"
        now = time.monotonic()
        if self.tty:
            if force or now - self.last_draw >= REDRAW_SECONDS:
                self.last_draw = now
                self.drawn = True
                print(f"\r{line}\033[K", end="", file=sys.stderr, flush=True)
            return
        decile = int((fraction or 0) * 10)
        if force or decile > self.last_decile:
            self.last_decile = decile
            print(line, file=sys.stderr, flush=True)

    def finish(self) -> None:
        """End the bar's line (on a terminal, once drawn: no empty line before an early error)."""
        if self.tty and self.drawn:
            print(file=sys.stderr, flush=True)
            self.drawn = False
