"""Keep htslib's own stderr lines ([E::...], [W::...]) out of our output, and turn its errors into one clean line."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

# An absolute path becomes its last part: messages never show where files live on the server.
ABSOLUTE_PATH = re.compile(r"(?<![\w.~])/(?:[^\s/'\"]+/)+([^\s/'\"]+)")
HTSLIB_TAG = re.compile(r"^\[[EWI]::[\w]+\]\s*")


@contextlib.contextmanager
def quiet_htslib() -> Iterator[None]:
    """Silence htslib (pysam, bundled bcftools) while the block runs; we report problems ourselves."""
    import pysam

    previous = pysam.set_verbosity(0)
    try:
        yield
    finally:
        pysam.set_verbosity(previous)


def htslib_error_line(exc: BaseException) -> str:
    """The last meaningful line of a pysam/bcftools error, without quoting, tags or absolute paths."""
    text = str(exc).replace("\\n", "\n")
    if "stderr=" in text:
        text = text.split("stderr=", 1)[1]
    lines = [HTSLIB_TAG.sub("", line.strip(" '\"")).strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    line = lines[-1] if lines else type(exc).__name__
    return ABSOLUTE_PATH.sub(r"\1", line)
