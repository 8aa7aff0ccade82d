"""Where the Ensembl reference comes from: `hf://OWNER/REPO[@revision]` or a local folder in the same layout."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from just_dna_pipelines.ensembl.layout import DATA_DIR, contig_of_filename
from just_dna_pipelines.errors import EnsemblError
from just_dna_pipelines.io.regular_file import not_a_regular_file
from just_dna_pipelines.modules.sources import HF_PREFIX, HF_REPO_PATTERN, valid_revision
from just_dna_pipelines.settings import get_settings


@dataclass(frozen=True)
class EnsemblSource:
    """A parsed reference source: a Hugging Face dataset (with an optional revision) or a local folder."""

    kind: str  # "hf" or "local"
    repo_id: str | None = None
    revision: str | None = None  # branch, tag or commit asked for ("main" when None)
    folder: Path | None = None

    @property
    def label(self) -> str:
        """How the source is shown to the user."""
        if self.kind == "hf":
            suffix = f"@{self.revision}" if self.revision else ""
            return f"{HF_PREFIX}{self.repo_id}{suffix}"
        return str(self.folder)


def parse_ensembl_source(text: str | None = None) -> EnsemblSource:
    """Parse `hf://OWNER/REPO[@revision]` or a folder path (default: the configured source)."""
    spec = (text or get_settings().ensembl_source).strip()
    if spec.startswith(HF_PREFIX):
        repo_id, _, revision = spec[len(HF_PREFIX) :].partition("@")
        if not HF_REPO_PATTERN.match(repo_id) or not valid_revision(revision):
            raise EnsemblError(
                f"invalid Ensembl source {spec!r}: expected hf://OWNER/REPO[@revision] or a folder"
            )
        return EnsemblSource("hf", repo_id=repo_id, revision=revision or None)
    return EnsemblSource("local", folder=Path(spec).expanduser())


def local_contig_files(folder: Path) -> dict[str, Path]:
    """Contig -> file of a local reference folder (`data/homo_sapiens-chr*.parquet`, or the files directly)."""
    if not folder.is_dir():
        raise EnsemblError(
            f"Ensembl reference folder {folder} does not exist (use hf://OWNER/REPO or a folder)"
        )
    for root in (folder / DATA_DIR, folder):
        files = {
            contig: path.resolve()
            for path in sorted(root.glob("homo_sapiens-chr*.parquet"))
            if (contig := contig_of_filename(path.name)) is not None
        }
        if files:
            for path in files.values():  # a FIFO named like a contig file blocked the run's read for good
                if (problem := not_a_regular_file(path, path.name, "a Parquet file")) is not None:
                    raise EnsemblError(f"Ensembl reference folder {folder}: {problem}")
            return files
    raise EnsemblError(
        f"no Ensembl reference files in {folder}: expected {DATA_DIR}/homo_sapiens-chr{{contig}}.parquet"
    )


def local_revision(files: dict[str, Path]) -> str:
    """A revision for a local folder: names, sizes and modification times hashed (reading 14 GB would take minutes)."""
    digest = hashlib.sha256()
    for contig, path in sorted(files.items()):
        stat = path.stat()
        digest.update(f"{contig}\t{path.name}\t{stat.st_size}\t{stat.st_mtime_ns}\n".encode())
    return f"local-{digest.hexdigest()[:16]}"
