"""Human-readable sizes, times and durations for the UI."""

from __future__ import annotations

import time

from just_dna_pipelines.server_paths import hide_server_paths


def size(n: int) -> str:
    """Bytes as B / KB / MB / GB."""
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def when(timestamp: float | None) -> str:
    """A timestamp as local 'YYYY-MM-DD HH:MM', or an em dash."""
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(timestamp)) if timestamp else "—"


def duration(seconds: float | None) -> str:
    """Seconds as '4.2 s', '3 min 05 s' or '1 h 02 min'."""
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def expected_wait(seconds: float) -> str:
    """An expected wait in round words: "any moment now", "in about 40 s", "in about 3 min", "in about 1 h 05 min"
    (an estimate from recent runs: tenths of a second would claim a precision it does not have)."""
    if seconds < 5:
        return "any moment now"
    if seconds < 60:
        return f"in about {max(5, round(seconds / 5) * 5)} s"
    minutes = max(1, round(seconds / 60))
    if minutes < 60:
        return f"in about {minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"in about {hours} h {minutes:02d} min"


_INTERNAL_PHRASES = {
    "empty CSV": "no data lines",
    "empty csv": "no data lines",
}


def for_user(message: str) -> str:
    """A server message fit to show: server paths shortened to file names (server_paths), internals reworded."""
    text = hide_server_paths(message)
    for internal, plain in _INTERNAL_PHRASES.items():
        text = text.replace(internal, plain)
    return text


def sentences(notes: list[str]) -> str:
    """Notes (one clause each, as the pipelines word them) as sentences: capitalized, each ending with a period."""
    shown = []
    for note in notes:
        text = note.strip().rstrip(".")
        if text:
            shown.append(text[0].upper() + text[1:] + ".")
    return " ".join(shown)
