"""The GRCh38 -> GRCh37 chain: the configured file, else the cached copy, else UCSC's copy downloaded once."""

from __future__ import annotations

import gzip
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from just_dna_pipelines.io.atomic import atomic_path
from just_dna_pipelines.io.file_hash import sha256_of
from just_dna_pipelines.io.genome_build import CONTIG_LENGTHS, normalize_chrom
from just_dna_pipelines.settings import Settings, get_settings

if TYPE_CHECKING:
    from liftover import ChainFile

CHAIN_NAME = "hg38ToHg19.over.chain.gz"
DOWNLOAD_TIMEOUT_S = 20
MAX_CHAIN_BYTES = 64 * 1024 * 1024  # UCSC's file is ~1.2 MB; anything far larger is not it
HEADER_LINES_CHECKED = 5000


class ChainUnavailable(Exception):
    """No usable chain; the message is one line saying why and what to do."""


@dataclass(frozen=True)
class Chain:
    """A loaded GRCh38 -> GRCh37 chain and where it came from."""

    path: Path
    sha256: str
    origin: str  # "configured", "cache" or "downloaded"
    lifter: ChainFile

    def describe(self) -> dict[str, str]:
        """The chain's identity for manifests and reports."""
        return {"file_name": self.path.name, "sha256": self.sha256, "origin": self.origin}


def check_direction(path: Path) -> None:
    """Refuse a chain that is not GRCh38 -> GRCh37: its first known chromosome's sizes must be hg38 then hg19."""
    try:
        with path.open("rb") as raw:
            opener = gzip.open if raw.read(2) == b"\x1f\x8b" else open
        with opener(path, "rt", encoding="ascii", errors="replace") as handle:  # type: ignore[operator]
            for number, line in enumerate(handle):
                if number > HEADER_LINES_CHECKED:
                    break
                fields = line.split()
                if len(fields) < 12 or fields[0] != "chain":
                    continue
                name = normalize_chrom(fields[2])
                if name in CONTIG_LENGTHS["GRCh38"] and normalize_chrom(fields[7]) == name:
                    if (int(fields[3]), int(fields[8])) == (
                        CONTIG_LENGTHS["GRCh38"][name],
                        CONTIG_LENGTHS["GRCh37"][name],
                    ):
                        return
                    break
    except (OSError, EOFError, zlib.error, ValueError) as exc:
        raise ChainUnavailable(f"the liftover chain {path.name} is unreadable ({exc})") from None
    raise ChainUnavailable(f"{path.name} is not a GRCh38 to GRCh37 (hg38ToHg19) chain file")


@lru_cache(maxsize=4)
def _load(path_text: str, mtime_ns: int, size: int) -> tuple[ChainFile, str]:
    """Parse a chain once per file version (about 0.2 s for UCSC's)."""
    from liftover import ChainFile

    path = Path(path_text)
    check_direction(path)
    try:
        lifter = ChainFile(path_text, one_based=True)
    except ValueError as exc:
        raise ChainUnavailable(f"the liftover chain {path.name} is unreadable ({exc})") from None
    return lifter, sha256_of(path)


def load_chain(path: Path, origin: str) -> Chain:
    """Load and check a chain file; ChainUnavailable if it is missing, damaged or the wrong direction."""
    if not path.is_file():
        raise ChainUnavailable(f"the liftover chain {path.name} was not found")
    stat = path.stat()
    lifter, digest = _load(str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    return Chain(path, digest, origin, lifter)


def cached_chain_path(settings: Settings) -> Path:
    """Where a downloaded chain is kept."""
    return settings.cache_dir / "liftover" / CHAIN_NAME


def download_chain(url: str, target: Path) -> None:
    """Fetch the chain into `target` atomically, bounded in time and size."""
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response, atomic_path(target) as tmp:
            with tmp.open("wb") as out:
                total = 0
                while chunk := response.read(1 << 20):
                    total += len(chunk)
                    if total > MAX_CHAIN_BYTES:
                        raise ChainUnavailable(f"the chain at {url} is larger than expected; not used")
                    out.write(chunk)
            check_direction(tmp)
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        reason = str(getattr(exc, "reason", None) or exc).strip().splitlines() or [type(exc).__name__]
        raise ChainUnavailable(f"could not download the liftover chain ({reason[0]})") from None


def find_chain(settings: Settings | None = None, *, download: bool = True) -> Chain:
    """The chain to lift module sites with; ChainUnavailable (one line) when there is none (or, without
    `download`, none at hand)."""
    settings = settings or get_settings()
    if settings.liftover_chain is not None:
        return load_chain(settings.liftover_chain, "configured")
    cached = cached_chain_path(settings)
    if cached.is_file():
        return load_chain(cached, "cache")
    if not download:
        raise ChainUnavailable("no GRCh38 to GRCh37 liftover chain is at hand (configured or cached)")
    if not settings.liftover_chain_url:
        raise ChainUnavailable(
            "no GRCh38 to GRCh37 liftover chain is configured (JUST_DNA_PIPELINES_LIFTOVER_CHAIN) "
            "and downloading it is switched off"
        )
    try:
        download_chain(settings.liftover_chain_url, cached)
    except ChainUnavailable as exc:
        raise ChainUnavailable(
            f"{exc}; set JUST_DNA_PIPELINES_LIFTOVER_CHAIN to a local {CHAIN_NAME}"
        ) from None
    return load_chain(cached, "downloaded")
