"""What the machine holds of the Ensembl reference, told without the network (for lists and status lines)."""

from __future__ import annotations

from dataclasses import dataclass

from just_dna_pipelines.ensembl.cache import ref_name, repo_cache_dir
from just_dna_pipelines.ensembl.layout import CONTIGS, DATA_DIR, contig_filename
from just_dna_pipelines.ensembl.source import local_contig_files, local_revision, parse_ensembl_source
from just_dna_pipelines.errors import EnsemblError
from just_dna_pipelines.settings import get_settings


@dataclass(frozen=True)
class ReferenceStatus:
    """The configured source, the revision at hand (if any) and the contigs available locally."""

    source: str
    revision: str | None
    contigs: list[str]
    size_bytes: int
    problem: str | None = None

    def describe(self) -> str:
        """One sentence for the user."""
        if self.problem:
            return f"Reference {self.source}: {self.problem}."
        if not self.contigs:
            return (
                f"Reference {self.source}: nothing downloaded yet; a run fetches the chromosomes the sample "
                "needs (about 14 GB for the whole genome)."
            )
        return (
            f"Reference {self.source} at {str(self.revision)[:12]}: {len(self.contigs)} chromosome files here "
            f"({self.size_bytes / 1e9:.1f} GB); missing ones are fetched by the run."
        )


def reference_status(source: str | None = None) -> ReferenceStatus:
    """The reference as it is on this machine now (never contacts the hub)."""
    try:
        parsed = parse_ensembl_source(source)
        if parsed.kind == "local":
            assert parsed.folder is not None
            files = local_contig_files(parsed.folder)
            return ReferenceStatus(
                parsed.label,
                local_revision(files),
                list(files),
                sum(p.stat().st_size for p in files.values()),
            )
    except EnsemblError as exc:
        return ReferenceStatus(source or get_settings().ensembl_source, None, [], 0, str(exc))
    assert parsed.repo_id is not None
    repo_dir = repo_cache_dir(get_settings(), parsed.repo_id)
    ref_file = repo_dir / "refs" / ref_name(parsed.revision)
    if not ref_file.is_file():
        return ReferenceStatus(parsed.label, None, [], 0)
    revision = ref_file.read_text().strip()
    paths = [repo_dir / revision / DATA_DIR / contig_filename(c) for c in CONTIGS]
    present = [(c, p) for c, p in zip(CONTIGS, paths, strict=True) if p.is_file()]
    return ReferenceStatus(
        parsed.label, revision, [c for c, _ in present], sum(p.stat().st_size for _, p in present)
    )
