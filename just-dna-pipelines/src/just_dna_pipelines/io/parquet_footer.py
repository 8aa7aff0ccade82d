"""A Parquet file's footer size, read from its last 8 bytes before any reader parses the footer.

PyArrow holds ~23 bytes of memory per footer byte while parsing it: a 36 MB module or reference file of 200,000
columns took 660 MB to read its schema, so a file of a few hundred megabytes (a module source or a reference
from a hostile hub, or a local folder) could take the machine's memory on every listing of the modules.
"""

from __future__ import annotations

from pathlib import Path

MAGIC = b"PAR1"


def footer_length(path: Path) -> int | None:
    """The length in bytes of a Parquet file's footer, from its last 8 bytes; None when it has no Parquet tail."""
    with path.open("rb") as handle:
        size = handle.seek(0, 2)
        if size < 12:
            return None
        handle.seek(size - 8)
        tail = handle.read(8)
    return int.from_bytes(tail[:4], "little") if tail[4:] == MAGIC else None
