"""How a message shown to a web user names the server's files: by file name, never by the server's folders.

The command line, run by the machine's owner, keeps full paths; the web app, the report and a run's progress
page are read by people who have no business knowing how the server is laid out.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

# Where a path starts in a message: not inside a word, a URL ("https://host/a/b") or a relative path ("a/b").
_START = r"(?<![\w.:/])"
# A part of a path: it ends at a slash, white space, a quote or an angle bracket.
_PART = r"[^\s/'\"<>]"
# An absolute path of two or more parts, written without spaces: its last part is kept.
_ABSOLUTE_PATH = re.compile(rf"{_START}/(?:{_PART}+/)+({_PART}*)")
# An absolute path in quotes, which may hold spaces ("No such file or directory: '/srv/my data/x.parquet'"): two
# slashes at least ('/' alone, or '/x', names no folder of the server).
# (No slash in the first run: with one, an unclosed quote was tried at every slash, quadratic in the message.)
_QUOTED_PATH = re.compile(r"""(['"])(/[^'"\n/]*/[^'"\n]*)\1""")
# Polars cuts a long path to its end: "...ho/srv/my modules/x/weights.parquet (set POLARS_VERBOSE=1 to see full path)".
# From the last "..." before each such remark: an earlier "..." of the message (or an earlier cut path) stays.
_POLARS_REMARK = " (set POLARS_VERBOSE=1 to see full path)"
_ELIDED_PATH = re.compile(r"\.\.\.(?:(?!\.\.\.)[^\n])*?/([^/\n]*?)" + re.escape(_POLARS_REMARK))


def _roots() -> list[str]:
    """The server folders a message may quote (configured folders, the temporary and home folders), longest first:
    their paths may hold spaces, which a path found by its shape alone ends at."""
    from just_dna_pipelines.settings import get_settings

    settings = get_settings()
    folders = [
        settings.input_dir,
        settings.output_dir,
        settings.cache_dir,
        settings.dagster_home,
        Path(tempfile.gettempdir()),
        Path.home(),
    ]
    if settings.modules_source.startswith("/"):
        folders.append(Path(settings.modules_source))
    roots = {form.rstrip("/") for folder in folders for form in (str(folder), str(folder.resolve()))}
    return sorted((root for root in roots if root), key=len, reverse=True)


def _last_part(path: str) -> str:
    """The file (or folder) name a path ends with."""
    return next((part for part in reversed(path.split("/")) if part), "(folder)")


def hide_server_paths(text: str) -> str:
    """`text` with each absolute path on the server replaced by its last part (a file or folder name)."""
    if _POLARS_REMARK in text:
        text = _ELIDED_PATH.sub(lambda m: m.group(1), text)
    text = _QUOTED_PATH.sub(lambda m: f"{m.group(1)}{_last_part(m.group(2))}{m.group(1)}", text)
    for root in _roots():
        # The root (which may hold spaces), then the rest of the path; not a longer name that starts alike.
        under = re.compile(rf"{_START}{re.escape(root)}(?:/{_PART}*)*(?!{_PART})")
        text = under.sub(lambda m: _last_part(m.group(0)), text)
    return _ABSOLUTE_PATH.sub(lambda m: m.group(1) or "(folder)", text)
